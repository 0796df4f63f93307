"""`annotate agree`: how far annotators agree, per theme and overall, from the project's store.

The figures come from `annotate/agree.py`; this module picks the documents, annotators and
themes, reads the store (read-only: a missing store is an error, not created), and prints the
table or JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from annotate.commands.common import (
    CodebookOpt,
    JsonOpt,
    PathsArg,
    StoreOpt,
    fail,
    guarded,
    load,
    print_json,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from annotate.agree_report import Disagreement, Report, ThemeAgreement
    from annotate.model import Codebook

# How many disagreeing units the table lists (`--json` gives them all).
SHOWN_DISAGREEMENTS = 20
UNDEFINED = "–"


def _fmt(v: float | None, percent: bool = False) -> str:
    if v is None:
        return UNDEFINED
    return f"{v * 100:.1f}%" if percent else f"{v:.3f}"


def _label(theme: str, codebook: Codebook | None) -> str:
    from annotate.sanitize import visible

    if codebook is not None and theme in codebook.ids:
        return visible(codebook.get(theme).label)
    return visible(theme)


def agreement_table(report: Report, codebook: Codebook | None = None) -> RenderableType:
    """The themes, weakest agreement first, then the overall row; pure (no I/O)."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from annotate.sanitize import visible

    span = report.unit == "span"
    users = [visible(u) for u in report.annotators]
    what = "characters" if span else f"{report.unit}s"
    title = (f"Agreement of {', '.join(users)} on {report.items} {what} of "
             f"{len(report.documents)} document{'s' if len(report.documents) != 1 else ''}, "
             "weakest first")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False)
    table.add_column("theme", overflow="fold", ratio=1)
    table.add_column("α" if not span else "αu", justify="right", no_wrap=True)
    if not span:
        if len(users) == 2:
            table.add_column("Cohen κ", justify="right", no_wrap=True)
        table.add_column("Fleiss κ", justify="right", no_wrap=True)
    table.add_column("agree", justify="right", no_wrap=True)
    table.add_column(("units" if span else "yes") + " " + "/".join(users), justify="right",
                     no_wrap=True)

    def row(t: ThemeAgreement, label: str, end_section: bool = False) -> None:
        cells = [label, _fmt(t.alpha)]
        if not span:
            if len(users) == 2:
                cells.append(_fmt(t.kappa))
            cells.append(_fmt(t.fleiss_kappa))
        cells.append(_fmt(t.agreement, percent=True))
        cells.append("/".join(str(t.positives[u]) for u in report.annotators))
        table.add_row(*cells, end_section=end_section)

    ordered = report.weakest_first()
    for i, t in enumerate(ordered):
        row(t, _label(t.id, codebook), end_section=i == len(ordered) - 1)
    row(report.overall, "overall")
    notes = [
        ("α = Krippendorff's unitizing alpha over character offsets; agree = characters on "
         "which pairs agree" if span else
         "α = Krippendorff's alpha (nominal); agree = pairs of judgements that agree"),
        f"{UNDEFINED} = undefined (no variation, or too few judgements)",
    ]
    for user, docs in report.missing.items():
        notes.append(f"{visible(user)} made no judgement in {', '.join(docs)}: "
                     + ("left out" if span else "counted as missing, not as no"))
    return Group(table, *(Text(n, style="dim") for n in notes))


def disagreement_lines(items: Sequence[Disagreement], codebook: Codebook | None,
                       limit: int = SHOWN_DISAGREEMENTS) -> RenderableType:
    """The units annotators split on most: id, who said yes and no per theme, and the text."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from annotate.sanitize import visible

    if not items:
        return Text("No disagreements: every unit was judged alike.")
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 1, 0),
                  title=f"Where annotators disagree most ({len(items)} unit"
                        f"{'s' if len(items) != 1 else ''} split), most split first",
                  title_justify="left")
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    for d in items[:limit]:
        body = Text()
        for t, (yes, no) in d.themes.items():
            body.append(f"{_label(t, codebook)}: yes {', '.join(map(visible, yes))}; "
                        f"no {', '.join(map(visible, no))}\n")
        body.append(visible(" ".join(d.text.split())), style="dim")
        table.add_row(visible(d.unit), body)
    if len(items) > limit:
        return Group(table, Text(f"… and {len(items) - limit} more (--json lists them all)",
                                 style="dim"))
    return table


def _split_users(users: str | None) -> list[str] | None:
    if users is None:
        return None
    return list(dict.fromkeys(u.strip() for u in users.split(",") if u.strip()))


def _codebook(paths: list[Path] | None, explicit: Path | None) -> Codebook | None:
    from annotate.themes import codebook_path, load_codebook

    path = codebook_path(paths, explicit)
    if explicit is None and not path.is_file():
        return None  # themes are then checked against the annotations only
    return load_codebook(path)


def register(app: typer.Typer) -> None:
    @app.command()
    def agree(
        paths: PathsArg = None,
        users: Annotated[str | None, typer.Option(
            "--users", help="Annotators to compare, comma-separated (default: everyone with "
            "a judgement in the chosen documents).", show_default=False)] = None,
        theme: Annotated[list[str] | None, typer.Option(
            "--theme", help="Only this theme (repeatable; default: every theme used).",
            show_default=False)] = None,
        doc: Annotated[list[str] | None, typer.Option(
            "--doc", help="Only this document (repeatable; default: all).",
            show_default=False)] = None,
        unit: Annotated[str, typer.Option(
            "--unit", help="What a judgement is about: sentence, paragraph, or span "
            "(character offsets, Krippendorff's unitizing alpha).")] = "sentence",
        show_disagreements: Annotated[bool, typer.Option(
            "--disagreements", help="Also list the units annotators split on most.")] = False,
        json_out: JsonOpt = False,
        store: StoreOpt = None,
        codebook: CodebookOpt = None,
    ) -> None:
        """Inter-annotator agreement per theme: percent agreement, Cohen's and Fleiss' kappa,
        Krippendorff's alpha (or unitizing alpha for --unit span)."""

        def run() -> None:
            from annotate.agree_report import (
                UNITS,
                agreement_report,
                annotators,
                disagreements,
                judge,
            )
            from annotate.sanitize import visible
            from annotate.store import Store, default_store_path

            if unit not in UNITS:
                fail(f"unknown unit {visible(unit)!r} (use {', '.join(UNITS)})", 2)
            wanted_users = _split_users(users)
            if wanted_users is not None and len(wanted_users) < 2:
                fail("--users needs two or more annotators, comma-separated", 2)
            corpus = load(paths)
            documents = ([corpus.get(d) for d in dict.fromkeys(doc)] if doc
                         else list(corpus.documents))
            doc_ids = {d.id for d in documents}
            store_path = store or default_store_path()
            if not store_path.is_file():
                fail(f"no annotation store at {visible(str(store_path))} (annotate first, or "
                     "pass --store)")
            with Store.open(store_path, readonly=True) as s:
                anns = [a for a in s.list() if a.doc in doc_ids]
                history = s.history()
            found = annotators(anns, history, sorted(doc_ids))
            if wanted_users is None:
                chosen = found
                if len(chosen) < 2:
                    who = ", ".join(map(visible, chosen)) or "nobody"
                    fail("agreement needs two or more annotators; the chosen documents have "
                         f"judgements by {who}")
            else:
                chosen = wanted_users
                for u in chosen:
                    if u not in found:
                        fail(f"annotator {visible(u)!r} made no judgement in the chosen "
                             f"documents (annotators there: "
                             f"{', '.join(map(visible, found)) or 'none'})")
            cb = _codebook(paths, codebook)
            owners = judge(anns, history).owner
            used = {t for a in anns if owners.get(a.id) in chosen for t in a.themes}
            order = list(cb.ids) if cb is not None else []
            if theme:
                known = set(order) | {t for a in anns for t in a.themes}
                for t in theme:
                    if t not in known:
                        fail(f"unknown theme {visible(t)!r} (not in the codebook nor in any "
                             "annotation of the chosen documents)", 2)
                themes = list(dict.fromkeys(theme))
            else:
                themes = [t for t in order if t in used] + sorted(used - set(order))
                if not themes:
                    fail("no annotation with a theme by "
                         f"{', '.join(map(visible, chosen))} in the chosen documents")
            report = agreement_report(documents, anns, history, chosen, themes, unit)
            split = (disagreements(documents, anns, history, chosen, themes, unit)
                     if show_disagreements else None)
            if json_out:
                data: dict[str, Any] = report.as_json()
                if split is not None:
                    data["disagreements"] = [d.as_json() for d in split]
                print_json(data)
                return
            from annotate.render import console

            con = console()
            con.print(agreement_table(report, cb))
            if split is not None:
                con.print()
                con.print(disagreement_lines(split, cb))

        guarded(run)

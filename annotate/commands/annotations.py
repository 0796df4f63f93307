"""Scripted annotation commands: add, list, remove, note, accept, reject, undo, redo, history,
suggest, doctor. They all work on the project's store (`--store PATH`, else `$ANNOTATE_STORE`,
else `./.annotate/annotations.sqlite`) and commit each action before printing it as done.

Two annotators: every change can be made conditional on the version the user saw
(`--expect-version N`, the `version` of `annotate list --json`); if the annotation changed since,
nothing is written and the error says what it is now. `annotate note` without it still refuses
to replace a note another annotator wrote (`--force` replaces it anyway). Read commands (list,
history) open the store read-only, so they work in a folder nobody may write to. Text from
files and users is printed through `visible()`: no control character reaches the terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from annotate.commands.common import (
    CodebookOpt,
    PathsArg,
    StoreOpt,
    UserOpt,
    guarded,
    load,
    print_json,
)
from annotate.errors import StoreError, UsageError
from annotate.sanitize import visible

if TYPE_CHECKING:
    from annotate.corpus import Corpus
    from annotate.model import Annotation, Codebook, Document
    from annotate.store import ConflictError, Store

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
IdArg = Annotated[str, typer.Argument(help="Annotation id, e.g. a1b2c3d4.")]
ExpectOpt = Annotated[int | None, typer.Option(
    "--expect-version", metavar="N",
    help="Only if the annotation is still at version N (see `annotate list --json`); "
    "otherwise change nothing and say what it is now.", show_default=False,
)]

MAX_CANDIDATES = 5
# Characters a user may type plainly for their typographic forms in a document.
_EQUIVALENT = {
    "'": "'’‘", "’": "'’‘", "‘": "'’‘",
    '"': '"“”', "“": '"“”', "”": '"“”',
    "-": "-–—", "–": "-–—", "—": "-–—",
}


def snip(text: str, width: int = 50) -> str:
    """One line of at most `width` characters: whitespace collapsed, long text cut with …,
    control characters made visible."""
    flat = " ".join(text.split())
    return visible(flat if len(flat) <= width else flat[: width - 1] + "…")


def describe(a: Annotation) -> str:
    """`a1b2c3d4: 002 [120, 184) "…" themes: x, y`: how commands report an annotation."""
    themes = visible(", ".join(a.themes)) if a.themes else "none"
    return (f'{visible(a.id)}: {visible(a.doc)} [{a.start}, {a.end}) "{snip(a.quote)}" '
            f"themes: {themes}")


def annotation_json(a: Annotation) -> dict[str, Any]:
    """The record of one annotation in `annotate list --json`."""
    return {
        "id": a.id, "doc": a.doc, "start": a.start, "end": a.end, "quote": a.quote,
        "themes": list(a.themes), "note": a.note, "user": a.user,
        "status": a.status,
        "created": a.created, "modified": a.modified, "version": a.version,
    }


def annotation_lines(anns: list[Annotation], width: int | None = None) -> list[str]:
    """Aligned one-line-per-annotation listing; the quote (then the note) fills the rest."""
    import shutil

    width = width or shutil.get_terminal_size((100, 24)).columns
    rows = [
        (visible(a.id), visible(a.doc), f"[{a.start}, {a.end})",
         "orphaned" if a.orphaned else a.status, snip(a.user, 12),
         snip(",".join(a.themes), 24) or "-", a.quote, a.note)
        for a in anns
    ]
    heads = ("id", "doc", "span", "status", "user", "themes", "quote", "note")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads[:6])]
    fixed = sum(widths) + 2 * 6

    def line(cells: tuple[str, ...], quote: str, note: str) -> str:
        room = max(12, width - fixed - 1)
        tail = quote + (f"  [{note}]" if note else "")
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)) + \
            "  " + snip(tail, room)

    out = [line(heads[:6], "quote", "")]
    for r in rows:
        out.append(line(r[:6], f'"{snip(r[6], 200)}"', snip(r[7], 60)))
    return [x.rstrip() for x in out]


def _quote_pattern(quote: str) -> re.Pattern[str]:
    """The quote with any run of whitespace matching any other (documents are hard-wrapped)
    and plain quotes and dashes matching their typographic forms."""
    words = quote.split()
    parts = []
    for w in words:
        parts.append("".join(
            f"[{re.escape(_EQUIVALENT[ch])}]" if ch in _EQUIVALENT else re.escape(ch) for ch in w
        ))
    return re.compile(r"\s+".join(parts))


def find_quote(doc: Document, quote: str) -> tuple[int, int]:
    """[start, end) of the one place `quote` occurs in the document; StoreError when it does
    not occur, or occurs more than once (the error lists the candidates)."""
    if not quote.strip():
        raise StoreError("--quote is empty")
    text = doc.text
    pattern = _quote_pattern(quote)
    # Whole words first, so "the" does not also match inside "gathered"; a quote that only
    # occurs inside words is still found.
    whole = re.compile(
        ("(?<!\\w)" if quote.strip()[0].isalnum() else "") + pattern.pattern
        + ("(?!\\w)" if quote.strip()[-1].isalnum() else "")
    )
    spans = [(m.start(), m.end()) for m in whole.finditer(text)] or [
        (m.start(), m.end()) for m in pattern.finditer(text)
    ]
    if not spans:
        raise StoreError(f"quote not found in document {doc.id}: \"{snip(quote)}\"")
    if len(spans) > 1:
        shown = "; ".join(
            f'[{s}, {e}) "…{snip(text[max(0, s - 20) : s], 20)} '
            f'{snip(text[s:e], 30)} {snip(text[e : e + 20], 20)}…"'
            for s, e in spans[:MAX_CANDIDATES]
        )
        more = f"; and {len(spans) - MAX_CANDIDATES} more" if len(spans) > MAX_CANDIDATES else ""
        raise StoreError(
            f"quote is ambiguous in document {doc.id}: {len(spans)} matches: {shown}{more}; "
            f"use --span START:END to pick one"
        )
    return spans[0]


def parse_span(doc: Document, span: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[:,]\s*(\d+)\s*", span)
    if not m:
        raise UsageError(f"invalid value for '--span': {span!r}", "Use START:END, e.g. 120:184.")
    start, end = int(m[1]), int(m[2])
    if start >= end:
        raise UsageError(f"invalid value for '--span': {span!r} (the end is not after the start)",
                         "Use START:END with START < END, e.g. 120:184.")
    n = len(doc.text)
    if not 0 <= start < end <= n:
        raise StoreError(
            f"offsets [{start}, {end}) out of range for document {doc.id}: "
            f"need 0 <= START < END <= {n}"
        )
    return start, end


def find_sentence(doc: Document, sentence: str) -> tuple[int, int]:
    index = doc.sentence_index
    s = index.get(sentence) or index.get(f"{doc.id}.{sentence}")
    if s is None:
        ids = list(index)
        hint = f" (its sentences are {ids[0]} … {ids[-1]})" if ids else ""
        raise StoreError(f"unknown sentence id {sentence!r} in document {doc.id}{hint}")
    return s.start, s.end


def _codebook(paths: list[Path] | None, explicit: Path | None) -> Codebook:
    from annotate.themes import codebook_path, load_codebook

    return load_codebook(codebook_path(paths, explicit))


def check_themes(themes: list[str], paths: list[Path] | None, explicit: Path | None) -> None:
    if not themes:
        return
    from annotate.themes import codebook_path

    path = codebook_path(paths, explicit)
    if not path.is_file():
        raise StoreError(f"no codebook at {path} to check the themes against: pass --codebook")
    known = _codebook(paths, explicit).ids
    for t in themes:
        if t not in known:
            raise StoreError(f"unknown theme {t!r} (the codebook {path} has: {', '.join(known)})")


def _open(store: Path | None) -> Store:
    from annotate.store import Store

    return Store.open(store)


def _open_read(store: Path | None) -> Store | None:
    """The store opened read-only (so reading works where nothing may be written), or None
    when there is none yet: nothing annotated."""
    from annotate.store import Store, default_store_path

    path = store or default_store_path()
    if not path.exists() and not path.is_symlink():
        return None
    return Store.open(path, readonly=True)


def _conflict_message(e: ConflictError) -> str:
    """What `--expect-version` reports when the annotation changed: what it is now."""
    a = e.current
    if e.removed:
        return (f"annotation {a.id} was removed by {visible(e.by)} after version {e.expected}; "
                "nothing was changed")
    note = f'note "{snip(a.note, 60)}"' if a.note else "no note"
    themes = visible(", ".join(a.themes)) or "no themes"
    return (f"annotation {a.id} changed since version {e.expected}: it is now version "
            f"{a.version} by {visible(e.by)} ({a.status}; {themes}; {note}); nothing was "
            f"changed. Retry with --expect-version {a.version} to change that version")


def _user(user: str | None) -> str:
    from annotate.store import default_user

    return user or default_user()


def register(app: typer.Typer) -> None:
    @app.command()
    def add(
        doc: Annotated[str, typer.Argument(help="Document id (or file name).")],
        paths: PathsArg = None,
        quote: Annotated[str | None, typer.Option(
            "--quote", help="Text to annotate; must occur exactly once (whitespace-insensitive)."
        )] = None,
        span: Annotated[str | None, typer.Option(
            "--span", help="Character offsets START:END (half-open) into the text."
        )] = None,
        sentence: Annotated[str | None, typer.Option(
            "--sentence", help="A sentence id as `annotate show` prints it, e.g. 002.p3.s2."
        )] = None,
        theme: Annotated[list[str] | None, typer.Option(
            "--theme", help="Theme id from the codebook (repeatable)."
        )] = None,
        note: Annotated[str, typer.Option("--note", help="A free-text note.")] = "",
        user: UserOpt = None,
        store: StoreOpt = None,
        codebook: CodebookOpt = None,
    ) -> None:
        """Annotate a quote, span or sentence of a document with themes and a note."""

        def run() -> None:
            given = [x for x in (quote, span, sentence) if x is not None]
            if len(given) != 1:
                raise UsageError("give exactly one of --quote, --span or --sentence",
                                 "Use --quote TEXT, --span START:END or --sentence ID.")
            d = load(paths).get(doc)
            if quote is not None:
                start, end = find_quote(d, quote)
            elif span is not None:
                start, end = parse_span(d, span)
            else:
                assert sentence is not None
                start, end = find_sentence(d, sentence)
            themes = list(dict.fromkeys(theme or []))
            check_themes(themes, paths, codebook)
            with _open(store) as s:
                a = s.add(d, start, end, themes=themes, note=note, user=_user(user))
            typer.echo(f"Added {describe(a)}")

        guarded(run)

    @app.command(name="list")
    def list_(
        doc: Annotated[str | None, typer.Option("--doc", help="Only this document.")] = None,
        theme: Annotated[str | None, typer.Option("--theme", help="Only this theme.")] = None,
        user: Annotated[str | None, typer.Option("--user", help="Only this annotator.")] = None,
        status: Annotated[str | None, typer.Option(
            "--status", help="Only suggested, accepted, rejected or orphaned ones."
        )] = None,
        json_out: JsonFlag = False,
        store: StoreOpt = None,
    ) -> None:
        """List annotations by document and position."""

        def run() -> None:
            from annotate.model import STATUSES

            if status is not None and status not in (*STATUSES, "orphaned"):
                raise UsageError(f"invalid value for '--status': {status!r}",
                                 f"Use one of {', '.join(STATUSES)} or orphaned.")
            anns: list[Annotation] = []
            st = _open_read(store)
            if st is not None:
                with st as s:
                    anns = s.list(
                        doc=doc, theme=theme, user=user,
                        status=None if status in (None, "orphaned") else status,
                        orphaned=True if status == "orphaned" else None,
                    )
            if json_out:
                print_json({"annotations": [annotation_json(a) for a in anns]})
                return
            if not anns:
                typer.echo("No annotations.")
                return
            for line in annotation_lines(anns):
                typer.echo(line)
            typer.echo(f"{len(anns)} annotation{'s' if len(anns) != 1 else ''}")

        guarded(run)

    @app.command()
    def remove(ann_id: IdArg, user: UserOpt = None, store: StoreOpt = None,
               expect: ExpectOpt = None) -> None:
        """Remove an annotation (`annotate undo` brings it back)."""

        def run() -> None:
            with _open(store) as s:
                a = _conditional(lambda: s.remove(ann_id, user=_user(user), expect=expect))
            typer.echo(f"Removed {describe(a)}")

        guarded(run)

    @app.command()
    def note(
        ann_id: IdArg,
        text: Annotated[str, typer.Argument(help="The note (an empty string clears it).")],
        user: UserOpt = None,
        store: StoreOpt = None,
        expect: ExpectOpt = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Replace a note another annotator wrote without --expect-version."
        )] = False,
    ) -> None:
        """Set an annotation's note (another annotator's note is only replaced with
        --expect-version or --force)."""

        def run() -> None:
            u = _user(user)
            with _open(store) as s:
                version = expect
                if version is None and not force:
                    current = s.get(ann_id)
                    author = (s.field_author(ann_id, "note") or current.user) \
                        if current.note else u
                    if author != u:
                        raise StoreError(
                            f'the note of {ann_id} was written by {visible(author)}: '
                            f'"{snip(current.note, 60)}" (version {current.version}); to '
                            f"replace it, say so: --expect-version {current.version} "
                            "(or --force)"
                        )
                    # What was checked is what is replaced: nothing slips in between.
                    version = current.version
                a = _conditional(lambda: s.set_note(ann_id, text, user=u, expect=version))
            typer.echo(f'Noted {a.id} (version {a.version}): "{snip(a.note, 60)}"' if a.note
                       else f"Cleared the note of {a.id} (version {a.version})")

        guarded(run)

    def _status_command(status: str, verb: str) -> Any:
        def command(ann_id: IdArg, user: UserOpt = None, store: StoreOpt = None,
                    expect: ExpectOpt = None) -> None:
            def run() -> None:
                with _open(store) as s:
                    a = _conditional(
                        lambda: s.set_status(ann_id, status, user=_user(user), expect=expect))
                typer.echo(f"{verb} {describe(a)}")

            guarded(run)

        return command

    accept = _status_command("accepted", "Accepted")
    accept.__doc__ = "Accept an annotation (typically a suggestion)."
    app.command(name="accept")(accept)
    reject = _status_command("rejected", "Rejected")
    reject.__doc__ = "Reject an annotation; `annotate suggest` will not suggest it again."
    app.command(name="reject")(reject)

    @app.command()
    def undo(user: UserOpt = None, store: StoreOpt = None) -> None:
        """Undo your last annotation action (undo history survives restarts)."""

        def run() -> None:
            u = _user(user)
            with _open(store) as s:
                done = s.undo(u)
            typer.echo(visible(done[0].upper() + done[1:] if done else
                               f"Nothing to undo for {u}."))

        guarded(run)

    @app.command()
    def redo(user: UserOpt = None, store: StoreOpt = None) -> None:
        """Redo your last undone annotation action."""

        def run() -> None:
            u = _user(user)
            with _open(store) as s:
                done = s.redo(u)
            typer.echo(visible(done[0].upper() + done[1:] if done else
                               f"Nothing to redo for {u}."))

        guarded(run)

    @app.command()
    def history(
        ann_id: Annotated[str | None, typer.Argument(help="Only this annotation.")] = None,
        json_out: JsonFlag = False,
        store: StoreOpt = None,
    ) -> None:
        """Show every change to the annotations (or to one): when, who, what."""

        def run() -> None:
            st = _open_read(store)
            if st is None:
                if ann_id is not None:
                    raise StoreError(f"unknown annotation id {ann_id!r}")
                changes = []
            else:
                with st as s:
                    if ann_id is not None and not s.exists(ann_id):
                        raise StoreError(f"unknown annotation id {ann_id!r}")
                    changes = s.history(ann_id)
            if json_out:
                print_json({"history": [
                    {"id": c.id, "annotation": c.annotation, "user": c.user, "when": c.when,
                     "action": c.action, "detail": _detail_json(c.detail)}
                    for c in changes
                ]})
                return
            if not changes:
                typer.echo("No history.")
            for c in changes:
                typer.echo(visible(f"{c.when}  {c.user}  {c.action:<8} {c.annotation}  "
                                   f"{_detail_text(c.detail)}"))

        guarded(run)

    @app.command()
    def suggest(
        paths: PathsArg = None,
        codebook: CodebookOpt = None,
        user: UserOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Turn the codebook's theme hits into `suggested` annotations to accept or reject."""

        def run() -> None:
            from annotate.themes import match_corpus

            corpus = load(paths)
            cb = _codebook(paths, codebook)
            hits = match_corpus(cb, corpus)
            u = _user(user)
            added = skipped = 0
            from annotate.store import new_batch

            batch = new_batch()  # one `annotate undo` takes the whole run back
            with _open(store) as s:
                taken = _annotated_spans(s)
                for d in corpus.documents:
                    for hit in hits.get(d.id, ()):
                        if _is_taken(taken.get(d.id, ()), hit.start, hit.end):
                            skipped += 1
                            continue
                        s.add(d, hit.start, hit.end, themes=hit.themes, user=u,
                              status="suggested", batch=batch)
                        taken.setdefault(d.id, []).append((hit.start, hit.end, False))
                        added += 1
            typer.echo(f"Suggested {added} annotation{'s' if added != 1 else ''} "
                       f"({skipped} unit{'s' if skipped != 1 else ''} already annotated) "
                       f"from {visible(str(cb.path or 'the codebook'))}")

        guarded(run)

    @app.command()
    def doctor(
        paths: PathsArg = None,
        codebook: CodebookOpt = None,
        user: UserOpt = None,
        store: StoreOpt = None,
        json_out: JsonFlag = False,
    ) -> None:
        """Re-anchor annotations in changed documents and report what is still wrong."""

        def run() -> None:
            corpus = load(paths)
            s = _open_for_doctor(store)
            with s:
                # A damaged file is checked before anything is written to it.
                damage = s.integrity_check()
                if damage != "ok":
                    _report_damage(s.path, damage)
                readonly = s.readonly
                if readonly is None:
                    report = s.reanchor(corpus, user=_user(user))
                else:  # checked as it is: nothing can be re-anchored in a read-only store
                    from annotate.store import ReanchorReport

                    report = ReanchorReport(checked=len(s.list()))
                anns = s.list()
            problems, notes = _diagnose(corpus, anns, paths, codebook)
            if readonly is not None:
                notes.insert(0, f"the store is read-only ({readonly}): annotations in changed "
                             "texts were not re-anchored")
            if json_out:
                print_json({
                    "checked": report.checked,
                    "reanchored": [{"id": m.id, "doc": m.doc, "old": list(m.old),
                                    "new": list(m.new), "exact": m.exact}
                                   for m in report.moved],
                    "problems": problems, "notes": notes,
                })
            else:
                typer.echo(
                    f"Checked {report.checked} annotation{'s' if report.checked != 1 else ''}: "
                    f"{len(report.moved)} re-anchored, {len(report.orphaned)} newly orphaned, "
                    f"{len(report.restored)} orphan{'s' if len(report.restored) != 1 else ''} "
                    "found again."
                )
                for m in report.moved:
                    how = "" if m.exact else " (approximately; quote updated)"
                    typer.echo(f"Re-anchored {visible(m.id)}: {visible(m.doc)} "
                               f"[{m.old[0]}, {m.old[1]}) -> [{m.new[0]}, {m.new[1]}){how}")
                for n in notes:
                    typer.echo(f"Note: {visible(n)}")
                for p in problems:
                    typer.echo(f"Problem: {visible(p)}")
                typer.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}.")
            if problems:
                raise typer.Exit(1)

        guarded(run)


def _conditional(change: Any) -> Annotation:
    """Run a change made with --expect-version; a conflict says what the annotation is now."""
    from annotate.store import ConflictError

    try:
        result: Annotation = change()
    except ConflictError as e:
        raise StoreError(_conflict_message(e)) from None
    return result


def _open_for_doctor(store: Path | None) -> Store:
    from annotate.store import DamagedStoreError, default_store_path

    try:
        return _open(store)
    except DamagedStoreError as e:
        _report_damage(store or default_store_path(), e.finding)
        raise  # (_report_damage exits)


def _report_damage(path: Path, finding: str) -> None:
    """The store is damaged: say so, and what to do, without touching it."""
    lines = finding.splitlines()
    shown = "; ".join(lines[:3]) + (f"; and {len(lines) - 3} more" if len(lines) > 3 else "")
    typer.echo(f"Problem: the store {visible(str(path))} is damaged (SQLite's integrity "
               f"check: {visible(shown)}).")
    typer.echo("What to do: keep a copy of the file as it is; restore it from a backup, or "
               "recover what SQLite can still read with "
               f"`sqlite3 {visible(str(path))} .recover | sqlite3 recovered.sqlite` and use "
               "--store recovered.sqlite (then run annotate doctor on it).")
    typer.echo("1 problem.")
    raise typer.Exit(1)


def _detail_json(detail: str) -> Any:
    """The detail as JSON; an imported entry's plain-text detail stays a string."""
    if not detail:
        return None
    try:
        return json.loads(detail)
    except json.JSONDecodeError:
        return detail


def _detail_text(detail: str) -> str:
    try:
        data = json.loads(detail) if detail else {}
    except json.JSONDecodeError:
        return detail
    if not isinstance(data, dict):
        return str(data)
    parts = []
    for k, v in data.items():
        if isinstance(v, list) and len(v) == 2 and k != "themes":
            parts.append(f"{k}: {_value(v[0])} -> {_value(v[1])}")
        else:
            parts.append(f"{k}: {_value(v)}")
    return "; ".join(parts)


def _value(v: object) -> str:
    if isinstance(v, str):
        return f'"{snip(v, 40)}"'
    if isinstance(v, list):
        if len(v) == 2 and all(isinstance(x, list) for x in v):
            return f"{_value(v[0])} -> {_value(v[1])}"
        return "[" + ", ".join(str(x) for x in v) + "]"
    return json.dumps(v)


def _annotated_spans(s: Store) -> dict[str, list[tuple[int, int, bool]]]:
    """Spans per document that `suggest` leaves alone: every live annotation, and suggestions
    someone removed (so a discarded suggestion is not offered again). A suggestion whose
    adding was undone is gone, as if never made: it may be suggested again."""
    out: dict[str, list[tuple[int, int, bool]]] = {}
    live = {a.id for a in s.list()}
    undone = s.undone_adds()
    for a in s.list(include_removed=True):
        if a.id in live:
            out.setdefault(a.doc, []).append((a.start, a.end, False))
        elif a.status == "suggested" and a.id not in undone:
            out.setdefault(a.doc, []).append((a.start, a.end, True))
    return out


def _is_taken(spans: Any, start: int, end: int) -> bool:
    for s, e, exact_only in spans:
        if exact_only:
            if (s, e) == (start, end):
                return True
        elif s < end and start < e:
            return True
    return False


def _diagnose(
    corpus: Corpus, anns: list[Annotation], paths: list[Path] | None, codebook: Path | None
) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    notes: list[str] = []
    docs = {d.id: d for d in corpus.documents}
    known_themes: tuple[str, ...] | None = None
    if any(a.themes for a in anns):
        from annotate.themes import codebook_path

        path = codebook_path(paths, codebook)
        if path.is_file():
            known_themes = _codebook(paths, codebook).ids
        else:
            notes.append(f"no codebook at {path}: themes not checked")
    for a in anns:
        d = docs.get(a.doc)
        if d is None:
            problems.append(f"{a.id}: unknown document {a.doc!r}")
            continue
        if a.orphaned:
            problems.append(
                f'{a.id}: orphaned in {a.doc}: quote "{snip(a.quote)}" no longer found '
                f"(was at [{a.start}, {a.end}))"
            )
        elif a.end > len(d.text):
            problems.append(f"{a.id}: offsets [{a.start}, {a.end}) out of range for {a.doc} "
                            f"({len(d.text)} characters)")
        if known_themes is not None:
            for t in a.themes:
                if t not in known_themes:
                    problems.append(f"{a.id}: unknown theme {t!r}")
    return problems, notes

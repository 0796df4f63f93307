"""Who judged what, and how far they agree: the per-theme report of `annotate agree`, the
units annotators split on, and the figures a TEI export records. Pure: annotations, their
history and documents in, dataclasses (and a TEI fragment) out.

Whose judgement an annotation is comes from the store's history (see `Judge`). A unit
(sentence or paragraph) is an item; an annotator says yes to a theme for it when one of their
own annotations carrying the theme overlaps it, no otherwise, and is missing for every unit of
a document in which they made no judgement at all. The coefficients are in `agree.py`.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from annotate.agree import (
    Matrix,
    PairConfusion,
    Unitizing,
    confusion,
    covered,
    fleiss_kappa,
    kappa_from_counts,
    krippendorff_alpha,
    merge_units,
    overall_unitizing,
    overlap,
    percent_agreement,
    unitizing_alpha,
)
from annotate.model import Annotation, Change, Document

UNITS = ("sentence", "paragraph", "span")
# Characters XML 1.0 cannot carry; replaced one for one, as the TEI export does.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --- who judged what -----------------------------------------------------------------------


@dataclass(frozen=True)
class Judge:
    """Whose judgement each live annotation is, from the store's history.

    `owner[id]`: the user whose action last made the annotation accepted — its author for a
    hand-made one, the user who accepted it for a suggestion (the suggestion keeps the
    `user` of whoever ran `annotate suggest`; the acceptor is only in the history).
    `rejecter[id]`: the user who last rejected it. A pending suggestion is nobody's judgement.
    """

    owner: Mapping[str, str]
    rejecter: Mapping[str, str]


def judge(annotations: Sequence[Annotation], history: Sequence[Change]) -> Judge:
    live = {a.id: a for a in annotations}
    owner: dict[str, str] = {}
    rejecter: dict[str, str] = {}
    for c in history:
        if c.annotation not in live:
            continue
        try:
            detail = json.loads(c.detail) if c.detail else {}
        except ValueError:
            continue
        if not isinstance(detail, dict):
            continue
        status = detail.get("status")
        new = status[1] if isinstance(status, list) and len(status) == 2 else status
        if new == "accepted":
            owner[c.annotation] = c.user
            rejecter.pop(c.annotation, None)
        elif new == "rejected":
            rejecter[c.annotation] = c.user
            owner.pop(c.annotation, None)
        elif new == "suggested":
            owner.pop(c.annotation, None)
            rejecter.pop(c.annotation, None)
    owners: dict[str, str] = {}
    rejecters: dict[str, str] = {}
    for a in annotations:
        if a.orphaned:
            continue  # no longer located in the text: its offsets cannot be trusted
        if a.status == "accepted":
            owners[a.id] = owner.get(a.id, a.user)  # no history (e.g. old import): its author
        elif a.status == "rejected":
            rejecters[a.id] = rejecter.get(a.id, a.user)
    return Judge(owners, rejecters)


def annotators(annotations: Sequence[Annotation], history: Sequence[Change],
               docs: Sequence[str]) -> list[str]:
    """Everyone with a judgement (own annotation, acceptance or rejection) in these documents,
    sorted."""
    j = judge(annotations, history)
    wanted = set(docs)
    users = {u for a in annotations if a.doc in wanted
             for u in (j.owner.get(a.id), j.rejecter.get(a.id)) if u}
    return sorted(users)


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeAgreement:
    """The figures of one theme (or `overall`) as `annotate agree --json` gives them."""

    id: str
    items: int
    agreement: float | None
    kappa: float | None
    fleiss_kappa: float | None
    alpha: float | None
    positives: Mapping[str, int]
    confusion: tuple[PairConfusion, ...]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "items": self.items, "agreement": self.agreement,
                "kappa": self.kappa, "fleiss_kappa": self.fleiss_kappa, "alpha": self.alpha,
                "positives": dict(self.positives),
                "confusion": [c.as_json() for c in self.confusion]}


@dataclass(frozen=True)
class Disagreement:
    """A unit the annotators split on: per theme, who said yes and who said no."""

    unit: str
    doc: str
    start: int
    end: int
    text: str
    themes: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]  # theme -> (yes, no)
    score: int  # disagreeing annotator pairs summed over themes

    def as_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "doc": self.doc, "start": self.start, "end": self.end,
                "text": self.text, "score": self.score,
                "themes": {t: {"yes": list(y), "no": list(n)}
                           for t, (y, n) in self.themes.items()}}


@dataclass(frozen=True)
class Report:
    unit: str
    annotators: tuple[str, ...]
    items: int
    documents: tuple[str, ...]
    themes: tuple[ThemeAgreement, ...]
    overall: ThemeAgreement
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # user -> docs

    def weakest_first(self) -> list[ThemeAgreement]:
        """Themes by α (then κ, then agreement) ascending; undefined figures last."""
        def key(t: ThemeAgreement) -> tuple[int, float, str]:
            for v in (t.alpha, t.fleiss_kappa, t.kappa):
                if v is not None:
                    return (0, v, t.id)
            return (1, 0.0, t.id)

        return sorted(self.themes, key=key)

    def as_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "annotators": list(self.annotators), "items": self.items,
                "documents": list(self.documents),
                "missing": {u: list(d) for u, d in self.missing.items()},
                "themes": [t.as_json() for t in self.themes],
                "overall": self.overall.as_json()}


@dataclass(frozen=True)
class _Unit:
    id: str
    doc: str
    start: int
    end: int
    text: str


def _units(doc: Document, unit: str) -> list[_Unit]:
    parts = doc.sentences if unit == "sentence" else doc.paragraphs
    return [_Unit(p.id, doc.id, p.start, p.end, p.text) for p in parts]


def _coded_docs(annotations: Sequence[Annotation], j: Judge) -> dict[str, set[str]]:
    """Per user, the documents they made any judgement in."""
    out: dict[str, set[str]] = {}
    for a in annotations:
        for u in (j.owner.get(a.id), j.rejecter.get(a.id)):
            if u:
                out.setdefault(u, set()).add(a.doc)
    return out


def _figures(theme: str, m: Matrix, users: Sequence[str]) -> ThemeAgreement:
    pairs = tuple(confusion(m[:, i], m[:, k], users[i], users[k])
                  for i, k in combinations(range(len(users)), 2))
    return ThemeAgreement(
        id=theme, items=int(m.shape[0]), agreement=percent_agreement(m),
        kappa=pairs[0].kappa if len(users) == 2 else None, fleiss_kappa=fleiss_kappa(m),
        alpha=krippendorff_alpha(m),
        positives={u: int(np.nansum(m[:, i] == 1)) for i, u in enumerate(users)},
        confusion=pairs)


def rating_matrices(documents: Sequence[Document], annotations: Sequence[Annotation],
                    history: Sequence[Change], users: Sequence[str], themes: Sequence[str],
                    unit: str = "sentence") -> tuple[list[_Unit], dict[str, Matrix]]:
    """Units × annotators matrix per theme: 1 when one of the annotator's own annotations with
    that theme overlaps the unit, 0 when not, NaN when the annotator made no judgement at all
    in the unit's document."""
    j = judge(annotations, history)
    coded = _coded_docs(annotations, j)
    units = [u for d in documents for u in _units(d, unit)]
    index = {d.id: i for i, d in enumerate(documents)}
    doc_units: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        doc_units.setdefault(u.doc, []).append(i)
    col = {u: i for i, u in enumerate(users)}
    base = np.zeros((len(units), len(users)))
    for k, user in enumerate(users):
        for d in documents:
            if d.id not in coded.get(user, set()):
                base[doc_units.get(d.id, []), k] = np.nan
    mats = {t: base.copy() for t in themes}
    starts = {d: [units[i].start for i in idx] for d, idx in doc_units.items()}
    for a in annotations:
        who = j.owner.get(a.id)
        if who not in col or a.doc not in index or a.doc not in doc_units:
            continue
        idx = doc_units[a.doc]
        first = max(0, bisect.bisect_right(starts[a.doc], a.start) - 1)
        hit = []
        for p in range(first, len(idx)):
            u = units[idx[p]]
            if u.start >= a.end:
                break
            if a.start < u.end:
                hit.append(idx[p])
        for t in a.themes:
            if t in mats:
                mats[t][hit, col[who]] = 1.0
    return units, mats


def agreement_report(documents: Sequence[Document], annotations: Sequence[Annotation],
                     history: Sequence[Change], users: Sequence[str], themes: Sequence[str],
                     unit: str = "sentence") -> Report:
    """Per-theme and overall figures; `overall` pools every (theme, unit) decision."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    users = list(users)
    j = judge(annotations, history)
    coded = _coded_docs(annotations, j)
    missing = {u: tuple(d.id for d in documents if d.id not in coded.get(u, set()))
               for u in users}
    missing = {u: d for u, d in missing.items() if d}
    if unit == "span":
        return _span_report(documents, annotations, j, users, themes, missing)
    units, mats = rating_matrices(documents, annotations, history, users, themes, unit)
    per_theme = tuple(_figures(t, mats[t], users) for t in themes)
    pooled = (np.concatenate([mats[t] for t in themes]) if themes
              else np.zeros((0, len(users))))
    return Report(unit, tuple(users), len(units), tuple(d.id for d in documents), per_theme,
                  _figures("overall", pooled, users), missing)


def _span_report(documents: Sequence[Document], annotations: Sequence[Annotation], j: Judge,
                 users: list[str], themes: Sequence[str],
                 missing: Mapping[str, tuple[str, ...]]) -> Report:
    """αu over the documents every annotator coded, laid end to end as one continuum; the
    other figures are per character (items = characters)."""
    skip = {d for ds in missing.values() for d in ds}
    docs = [d for d in documents if d.id not in skip]
    offset: dict[str, int] = {}
    length = 0
    for d in docs:
        offset[d.id] = length
        length += len(d.text)
    col = {u: i for i, u in enumerate(users)}
    spans: dict[str, list[list[tuple[int, int]]]] = {t: [[] for _ in users] for t in themes}
    for a in annotations:
        who = j.owner.get(a.id)
        if who not in col or a.doc not in offset:
            continue
        for t in a.themes:
            if t in spans:
                spans[t][col[who]].append((offset[a.doc] + a.start, offset[a.doc] + a.end))
    figures: list[ThemeAgreement] = []
    unitizing: list[Unitizing] = []
    # Per character, but from the units' intervals: a 1 MB text would otherwise need a
    # matrix of a million rows per theme.
    pooled: dict[tuple[int, int], list[int]] = {}
    for t in themes:
        merged = [merge_units(us) for us in spans[t]]
        u = unitizing_alpha(merged, 0, length)
        unitizing.append(u)
        pairs = []
        for i, k in combinations(range(len(users)), 2):
            both = overlap(merged[i], merged[k])
            a_only, b_only = covered(merged[i]) - both, covered(merged[k]) - both
            counts = [both, a_only, b_only, length - both - a_only - b_only]
            pairs.append(_pair(users[i], users[k], counts))
            total = pooled.setdefault((i, k), [0, 0, 0, 0])
            for n, c in enumerate(counts):
                total[n] += c
        figures.append(ThemeAgreement(
            t, length, _pair_mean(pairs, length), None, None, u.alpha,
            {user: len(merged[k]) for k, user in enumerate(users)}, tuple(pairs)))
    overall_pairs = tuple(_pair(users[i], users[k], c) for (i, k), c in pooled.items())
    overall = ThemeAgreement("overall", length * len(themes),
                             _pair_mean(overall_pairs, length * len(themes)), None, None,
                             overall_unitizing(unitizing),
                             {user: sum(x.positives[user] for x in figures) for user in users},
                             overall_pairs)
    return Report("span", tuple(users), length, tuple(d.id for d in docs), tuple(figures),
                  overall, dict(missing))


def _pair(a: str, b: str, c: Sequence[int]) -> PairConfusion:
    return PairConfusion(a, b, c[0], c[1], c[2], c[3], kappa_from_counts(c[0], c[1], c[2], c[3]))


def _pair_mean(pairs: Sequence[PairConfusion], items: int) -> float | None:
    """Percent agreement from pair counts: with no missing data, the per-item share of agreeing
    pairs averaged over items equals the per-pair share of agreeing items averaged over
    pairs."""
    if not pairs or items == 0:
        return None
    return sum((p.both + p.neither) / items for p in pairs) / len(pairs)


def disagreements(documents: Sequence[Document], annotations: Sequence[Annotation],
                  history: Sequence[Change], users: Sequence[str], themes: Sequence[str],
                  unit: str = "sentence") -> list[Disagreement]:
    """Units where annotators split on some theme, most disagreeing pairs first (then in text
    order). For `span`, sentences are listed."""
    units, mats = rating_matrices(documents, annotations, history, users,
                                  themes, "sentence" if unit == "span" else unit)
    out: list[Disagreement] = []
    for i, u in enumerate(units):
        split: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        score = 0
        for t in themes:
            row = mats[t][i]
            yes = tuple(users[k] for k in range(len(users)) if row[k] == 1)
            no = tuple(users[k] for k in range(len(users)) if row[k] == 0)
            if yes and no:
                split[t] = (yes, no)
                score += len(yes) * len(no)
        if split:
            out.append(Disagreement(u.id, u.doc, u.start, u.end, u.text, split, score))
    order = {u.id: i for i, u in enumerate(units)}
    out.sort(key=lambda d: (-d.score, order[d.unit]))
    return out


# --- for the TEI export ----------------------------------------------------------------------

TEI_COLUMNS = (("agreement", "percent agreement"), ("kappa", "Cohen's kappa"),
               ("fleiss_kappa", "Fleiss' kappa"), ("alpha", "Krippendorff's alpha"))


def tei_figures(documents: Sequence[Document], annotations: Sequence[Annotation],
                history: Sequence[Change]) -> Report | None:
    """The agreement a TEI export records in its header: sentence units, every annotator
    with a judgement, every theme any of them used. None when fewer than two annotators judged
    anything (there is nothing to record)."""
    docs = [d.id for d in documents]
    users = annotators(annotations, history, docs)
    if len(users) < 2:
        return None
    j = judge(annotations, history)
    wanted = set(docs)
    themes = sorted({t for a in annotations if a.id in j.owner and a.doc in wanted
                     for t in a.themes})
    if not themes:
        return None
    return agreement_report(documents, annotations, history, users, themes)


def tei_interpretation(report: Report, *, user_ref: Callable[[str], str],
                       theme_ref: Callable[[str], str], labels: Mapping[str, str] | None = None,
                       app_ref: str = "#app.annotate") -> str:
    """The report as a TEI P5 `<interpretation xml:id="agreement">` (a description and a
    table of the figures, each a `<num type=… value=…>`), to go in the corpus header's
    `encodingDesc/editorialDecl` (valid against tei_all there). `user_ref` and `theme_ref`
    give the export's pointers (e.g. "#user.alice", "#theme.returns"). Sentence or paragraph
    reports only; the namespace is the caller's (no xmlns is written)."""
    labels = labels or {}

    def esc(text: str) -> str:
        return escape(_NOT_XML.sub("\ufffd", text))

    def attr(text: str) -> str:
        return quoteattr(_NOT_XML.sub("\ufffd", text))

    who = ", ".join(f'<name ref={attr(user_ref(u))}>{esc(u)}</name>' for u in report.annotators)
    lines = [
        '<interpretation xml:id="agreement">',
        f"<p>Inter-annotator agreement on the themes, computed by <ref target={attr(app_ref)}>"
        f"annotate agree</ref> over {report.items} {report.unit}s of {len(report.documents)} "
        f"document{'s' if len(report.documents) != 1 else ''} judged by {who}. An annotator "
        f"says yes to a theme for a {report.unit} when one of their own annotations with "
        "that theme (made by hand, or a suggestion they accepted) overlaps it. Percent "
        "agreement is the share of agreeing pairs of "
        "judgements; Cohen's kappa is given for two annotators only; Krippendorff's alpha is "
        "nominal. Overall pools every theme and unit. An empty cell is undefined (no "
        "variation).</p>",
        f'<p><table rows="{len(report.themes) + 2}" cols="{len(TEI_COLUMNS) + 1}">',
        '<row role="label"><cell>theme</cell>'
        + "".join(f"<cell>{esc(label)}</cell>" for _, label in TEI_COLUMNS) + "</row>",
    ]

    def cells(t: ThemeAgreement) -> str:
        out = []
        for key, _ in TEI_COLUMNS:
            v = getattr(t, key)
            out.append("<cell/>" if v is None else
                       f'<cell><num type="{key}" value="{v:.6f}">{v:.3f}</num></cell>')
        return "".join(out)

    for t in report.themes:
        label = labels.get(t.id, t.id)
        lines.append(f"<row><cell><ref target={attr(theme_ref(t.id))}>{esc(label)}</ref>"
                     f"</cell>{cells(t)}</row>")
    lines.append(f"<row><cell>overall</cell>{cells(report.overall)}</row>")
    lines.append("</table></p>")
    lines.append("</interpretation>")
    return "\n".join(lines)

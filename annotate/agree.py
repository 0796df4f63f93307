"""Inter-annotator agreement: pure computation over annotations, no I/O.

Two layers:

1. Coefficients over a rating matrix (items × annotators, NaN where an annotator did not
   code an item; nominal category codes otherwise): percent agreement, Cohen's κ, Fleiss' κ,
   Krippendorff's α (nominal, missing data allowed), and Krippendorff's unitizing αu over a
   continuum of character offsets.
2. Judgements: who said what about which unit, built from the store's annotations and their
   history, and a per-theme `Report` the command prints and the TEI export can record.

Definitions (the tests check them against scikit-learn, statsmodels and the `krippendorff`
package to 1e-6, and αu against Krippendorff's published example):

- Percent agreement: for each item coded by two or more annotators, the share of ordered pairs
  of its ratings that agree; the mean over those items. For two annotators that is the share
  of items on which they agree.
- Cohen's κ (Cohen 1960): (p_o - p_e) / (1 - p_e) over the items both annotators coded, with
  p_e from each annotator's own marginals.
- Fleiss' κ (Fleiss 1971): over the items every annotator coded.
- Krippendorff's α, nominal (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
  from the coincidence matrix of all items coded by two or more annotators.
- Unitizing αu (Krippendorff 1995, "On the reliability of unitizing continuous data",
  Sociological Methodology 25: 47-76; formulas as in Krippendorff 2004, Content Analysis, 2nd
  ed., section 11.6): per category, each annotator cuts the continuum into units and gaps;
  observed disagreement sums the squared distances between overlapping units (squared
  differences of their starts and ends) and the squared length of a unit lying inside another
  annotator's gap, divided by m(m-1)L²; expected disagreement considers every placement of
  every unit over all gaps. Over several categories αu = 1 - ΣD_o / ΣD_e (as DKPro Statistics
  computes its overall αu).

A coefficient is None where it is undefined: fewer than two annotators, no item coded by
enough annotators, or no variation at all (expected disagreement 0, e.g. nobody used a theme).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from annotate.model import Annotation, Change, Document

Matrix = npt.NDArray[np.float64]

UNITS = ("sentence", "paragraph", "span")


# --- coefficients over a rating matrix -----------------------------------------------------


def _as_matrix(ratings: Any) -> Matrix:
    m = np.asarray(ratings, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError("ratings must be a 2-D matrix: items × annotators")
    return m


def _counts(m: Matrix) -> npt.NDArray[np.int64]:
    """items × categories: how many annotators gave each category to each item."""
    values = np.unique(m[~np.isnan(m)])
    if values.size == 0:
        return np.zeros((m.shape[0], 0), dtype=np.int64)
    return np.stack([(m == v).sum(axis=1) for v in values], axis=1).astype(np.int64)


def percent_agreement(ratings: Any) -> float | None:
    """Mean share of agreeing ordered rating pairs per item (items coded by ≥ 2 annotators)."""
    counts = _counts(_as_matrix(ratings))
    per_item = counts.sum(axis=1)
    keep = per_item >= 2
    if not keep.any():
        return None
    c, n = counts[keep], per_item[keep]
    agreeing = (c * (c - 1)).sum(axis=1)
    return float(np.mean(agreeing / (n * (n - 1))))


def cohen_kappa(a: Any, b: Any) -> float | None:
    """Cohen's κ of two annotators over the items both coded (NaN = not coded)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    both = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[both], y[both]
    if x.size == 0:
        return None
    values = np.union1d(x, y)
    p_o = float(np.mean(x == y))
    p_e = float(sum(np.mean(x == v) * np.mean(y == v) for v in values))
    if np.isclose(p_e, 1.0, rtol=0.0, atol=1e-12):
        return None
    return (p_o - p_e) / (1.0 - p_e)


def fleiss_kappa(ratings: Any) -> float | None:
    """Fleiss' κ over the items every annotator coded."""
    m = _as_matrix(ratings)
    if m.shape[1] < 2:
        return None
    complete = m[~np.isnan(m).any(axis=1)]
    if complete.shape[0] == 0:
        return None
    counts = _counts(complete).astype(np.float64)
    raters = m.shape[1]
    p_item = ((counts * counts).sum(axis=1) - raters) / (raters * (raters - 1))
    p_cat = counts.sum(axis=0) / counts.sum()
    p_bar, p_e = float(p_item.mean()), float((p_cat * p_cat).sum())
    if np.isclose(p_e, 1.0, rtol=0.0, atol=1e-12):
        return None
    return (p_bar - p_e) / (1.0 - p_e)


def krippendorff_alpha(ratings: Any) -> float | None:
    """Krippendorff's α for nominal data; NaN marks a missing rating."""
    counts = _counts(_as_matrix(ratings)).astype(np.float64)
    per_item = counts.sum(axis=1)
    keep = per_item >= 2
    if not keep.any():
        return None
    c, n_u = counts[keep], per_item[keep]
    # Coincidences: every ordered pair of ratings of an item, weighted 1/(m_u - 1).
    o = np.einsum("ui,uj->ij", c / (n_u - 1)[:, None], c)
    o -= np.diag((c / (n_u - 1)[:, None]).sum(axis=0))
    n_c = o.sum(axis=0)
    n = float(n_c.sum())
    disagree_observed = n - float(np.trace(o))
    disagree_expected = n * n - float((n_c * n_c).sum())
    if disagree_expected <= 0:
        return None
    return 1.0 - (n - 1.0) * disagree_observed / disagree_expected


@dataclass(frozen=True)
class PairConfusion:
    """Two annotators' binary judgements side by side, over the items both coded."""

    a: str
    b: str
    both: int
    a_only: int
    b_only: int
    neither: int
    kappa: float | None

    def as_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "both": self.both, "a_only": self.a_only,
                "b_only": self.b_only, "neither": self.neither, "kappa": self.kappa}


def confusion(x: Any, y: Any, a: str = "a", b: str = "b") -> PairConfusion:
    """Counts of yes/yes, yes/no, no/yes and no/no for two annotators (1 = yes, 0 = no)."""
    u = np.asarray(x, dtype=np.float64)
    v = np.asarray(y, dtype=np.float64)
    both = ~np.isnan(u) & ~np.isnan(v)
    u, v = u[both] == 1, v[both] == 1
    return PairConfusion(a, b, int((u & v).sum()), int((u & ~v).sum()), int((~u & v).sum()),
                         int((~u & ~v).sum()), cohen_kappa(x, y))


# --- Krippendorff's unitizing alpha --------------------------------------------------------


@dataclass(frozen=True)
class Unitizing:
    """αu of one category: observed and expected disagreement, and αu (None if undefined)."""

    observed: float
    expected: float
    alpha: float | None


def _merge(units: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """One annotator's units of one category may not overlap (Krippendorff's requirement):
    overlapping ones are joined; adjacent ones stay separate units."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(units):
        if e <= s:
            continue
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _segments(units: list[tuple[int, int]], begin: int, end: int) -> list[tuple[int, int, bool]]:
    """The continuum cut into (start, end, is_unit) pieces: units and the gaps between them."""
    out: list[tuple[int, int, bool]] = []
    pos = begin
    for s, e in units:
        if s > pos:
            out.append((pos, s, False))
        out.append((s, e, True))
        pos = e
    if pos < end:
        out.append((pos, end, False))
    return out


def _pair_disagreement(a: list[tuple[int, int, bool]], b: list[tuple[int, int, bool]]) -> int:
    """Σ δ² over the overlapping segments of two annotators (Krippendorff 2004, p. 252)."""
    total = i = j = 0
    while i < len(a) and j < len(b):
        s1, e1, u1 = a[i]
        s2, e2, u2 = b[j]
        if s1 < e2 and s2 < e1:
            if u1 and u2:
                total += (s1 - s2) ** 2 + (e1 - e2) ** 2
            elif u1 and not u2 and s2 <= s1 and e1 <= e2:
                total += (e1 - s1) ** 2
            elif u2 and not u1 and s1 <= s2 and e2 <= e1:
                total += (e2 - s2) ** 2
        if e1 <= e2:
            i += 1
        else:
            j += 1
    return total


def unitizing_alpha(units: Sequence[Iterable[tuple[int, int]]], begin: int,
                    end: int) -> Unitizing:
    """αu of one category: `units[i]` are annotator i's [start, end) units inside [begin, end).

    Every annotator is taken to have coded the whole continuum. Sums stay integers until the
    last division, so long texts lose no precision."""
    length = end - begin
    m = len(units)
    if m < 2 or length <= 0:
        return Unitizing(0.0, 0.0, None)
    merged = [_merge((max(s, begin), min(e, end)) for s, e in us) for us in units]
    segs = [_segments(us, begin, end) for us in merged]
    observed_sum = sum(_pair_disagreement(segs[i], segs[j]) * 2
                       for i, j in combinations(range(m), 2))
    lengths = [e - s for us in merged for s, e in us]
    n_units = len(lengths)
    gaps = sorted(e - s for sg in segs for s, e, is_unit in sg if not is_unit)
    suffix = [0] * (len(gaps) + 1)  # suffix[k] = Σ gaps[k:]
    for k in range(len(gaps) - 1, -1, -1):
        suffix[k] = suffix[k + 1] + gaps[k]
    # 3 × Σ_units [(N-1)(2l³-3l²+l)/3 + l² Σ_{gaps g ≥ l} (g - l + 1)]
    expected_num3 = 0
    for ln in lengths:
        k = bisect.bisect_left(gaps, ln)
        fitting = len(gaps) - k
        placements = suffix[k] - fitting * (ln - 1)
        expected_num3 += (n_units - 1) * ln * (ln - 1) * (2 * ln - 1) + 3 * ln * ln * placements
    expected_den = m * length * (m * length - 1) - sum(ln * (ln - 1) for ln in lengths)
    observed = observed_sum / (m * (m - 1) * length * length)
    expected = 2 * expected_num3 / (3 * length * expected_den) if expected_den else 0.0
    if expected_num3 == 0 or expected_den <= 0:
        return Unitizing(observed, expected, None)
    # 1 - D_o/D_e in exact integer arithmetic, one rounding at the end.
    alpha = 1 - (3 * observed_sum * expected_den) / (2 * m * (m - 1) * length * expected_num3)
    return Unitizing(observed, expected, alpha)


def overall_unitizing(per_category: Sequence[Unitizing]) -> float | None:
    """αu over several categories: 1 - ΣD_o / ΣD_e (None when no category had units)."""
    expected = sum(u.expected for u in per_category if u.alpha is not None)
    if expected <= 0:
        return None
    observed = sum(u.observed for u in per_category if u.alpha is not None)
    return 1.0 - observed / expected


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
    pooled_chars: list[Matrix] = []
    for t in themes:
        u = unitizing_alpha(spans[t], 0, length)
        unitizing.append(u)
        chars = np.zeros((length, len(users)))
        for k, us in enumerate(spans[t]):
            for s, e in us:
                chars[s:e, k] = 1.0
        pooled_chars.append(chars)
        f = _figures(t, chars, users)
        figures.append(ThemeAgreement(
            t, length, f.agreement, None, None, u.alpha,
            {user: len(_merge(spans[t][k])) for k, user in enumerate(users)}, f.confusion))
    pooled = (np.concatenate(pooled_chars) if pooled_chars else np.zeros((0, len(users))))
    f = _figures("overall", pooled, users)
    overall = ThemeAgreement("overall", length * len(themes), f.agreement, None, None,
                             overall_unitizing(unitizing),
                             {user: sum(x.positives[user] for x in figures) for user in users},
                             f.confusion)
    return Report("span", tuple(users), length, tuple(d.id for d in docs), tuple(figures),
                  overall, dict(missing))


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


def tei_figures(documents: Sequence[Document], annotations: Sequence[Annotation],
                history: Sequence[Change]) -> Report | None:
    """The agreement the TEI export records in its header: sentence units, every annotator
    with a judgement, every theme any of them used. None when fewer than two annotators (there
    is nothing to record). The export writes `Report.themes` and `Report.overall`."""
    docs = [d.id for d in documents]
    users = annotators(annotations, history, docs)
    if len(users) < 2:
        return None
    j = judge(annotations, history)
    wanted = set(docs)
    themes = sorted({t for a in annotations if a.id in j.owner and a.doc in wanted
                     for t in a.themes})
    return agreement_report(documents, annotations, history, users, themes)

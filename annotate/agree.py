"""Inter-annotator agreement coefficients: pure computation over rating matrices and spans.

Over a rating matrix (items × annotators, NaN where an annotator did not code an item, nominal
category codes otherwise): percent agreement, Cohen's κ, Fleiss' κ and Krippendorff's α
(nominal, missing data allowed); over a continuum of character offsets, Krippendorff's
unitizing αu. Who judged what, and the per-theme report, are in `agree_report.py`.

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
  Sociological Methodology 25: 47-76; the formulas as Krippendorff 2004, Content Analysis, 2nd
  ed., gives them with the worked example on p. 254, and as DKPro Statistics'
  KrippendorffAlphaUnitizingAgreement computes them): per category, each annotator cuts the
  continuum into units and gaps; observed disagreement sums the squared distances between
  overlapping units (squared differences of their starts and ends) and the squared length of
  a unit lying inside another annotator's gap, divided by m(m-1)L²; expected disagreement
  considers every placement of every unit over all gaps. Over several categories
  αu = 1 - ΣD_o / ΣD_e (DKPro's overall αu).

A coefficient is None where it is undefined: fewer than two annotators, no item coded by
enough annotators, or no variation at all (expected disagreement 0, e.g. nobody used a theme).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


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


def kappa_from_counts(both: int, a_only: int, b_only: int, neither: int) -> float | None:
    """Cohen's κ of two annotators' binary judgements from their confusion counts."""
    n = both + a_only + b_only + neither
    if n == 0:
        return None
    p_o = (both + neither) / n
    p_e = ((both + a_only) * (both + b_only) + (neither + b_only) * (neither + a_only)) / (n * n)
    if np.isclose(p_e, 1.0, rtol=0.0, atol=1e-12):
        return None
    return (p_o - p_e) / (1.0 - p_e)


# --- Krippendorff's unitizing alpha --------------------------------------------------------


@dataclass(frozen=True)
class Unitizing:
    """αu of one category: observed and expected disagreement, and αu (None if undefined)."""

    observed: float
    expected: float
    alpha: float | None


def merge_units(units: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
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


def covered(units: Sequence[tuple[int, int]]) -> int:
    """How many offsets merged, non-overlapping units cover."""
    return sum(e - s for s, e in units)


def overlap(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> int:
    """How many offsets two lists of merged, sorted units both cover."""
    total = i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            total += hi - lo
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return total


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
    merged = [merge_units((max(s, begin), min(e, end)) for s, e in us) for us in units]
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

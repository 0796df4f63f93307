"""The agreement coefficients against reference implementations (scikit-learn, statsmodels,
the `krippendorff` package) on random rating matrices, unitizing alpha against Krippendorff's
published examples, and who a judgement belongs to according to the store's history."""

from __future__ import annotations

import json
import warnings
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from annotate import agree, agree_report
from annotate.model import Annotation, Change

TOL = 1e-6


def ratings(max_raters: int = 5, max_cats: int = 3):  # type: ignore[no-untyped-def]
    """Items × annotators matrices of small category codes."""
    return st.tuples(st.integers(1, 40), st.integers(2, max_raters),
                     st.integers(2, max_cats)).flatmap(
        lambda s: arrays(np.float64, (s[0], s[1]), elements=st.integers(0, s[2] - 1)))


def with_missing(m: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = m.copy()
    out[mask] = np.nan
    return out


def ref_cohen(x: np.ndarray, y: np.ndarray) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = cohen_kappa_score(x, y)
    return None if np.isnan(v) else float(v)


def ref_fleiss(m: np.ndarray) -> float | None:
    complete = m[~np.isnan(m).any(axis=1)]
    if complete.shape[0] == 0:
        return None
    table, _ = aggregate_raters(complete.astype(int))
    with np.errstate(invalid="ignore", divide="ignore"):
        v = sm_fleiss_kappa(table, method="fleiss")
    return None if np.isnan(v) else float(v)


def ref_alpha(m: np.ndarray) -> float | None:
    try:
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = krippendorff.alpha(reliability_data=m.T, level_of_measurement="nominal")
    except ValueError:  # "There has to be more than one value in the domain."
        return None
    return None if np.isnan(v) else float(v)


def same(ours: float | None, ref: float | None) -> bool:
    if ours is None or ref is None:
        return ours is None and ref is None
    return abs(ours - ref) <= TOL


@settings(max_examples=150, deadline=None)
@given(ratings(max_raters=2))
def test_cohen_kappa_matches_scikit_learn(m: np.ndarray) -> None:
    assert same(agree.cohen_kappa(m[:, 0], m[:, 1]), ref_cohen(m[:, 0], m[:, 1]))


@settings(max_examples=150, deadline=None)
@given(ratings())
def test_fleiss_kappa_matches_statsmodels(m: np.ndarray) -> None:
    assert same(agree.fleiss_kappa(m), ref_fleiss(m))


@settings(max_examples=150, deadline=None)
@given(ratings(), st.randoms(use_true_random=False))
def test_alpha_matches_krippendorff_with_missing_data(m: np.ndarray, rnd) -> None:  # type: ignore[no-untyped-def]
    mask = np.array([[rnd.random() < 0.25 for _ in range(m.shape[1])]
                     for _ in range(m.shape[0])], dtype=bool)
    mm = with_missing(m, mask)
    assert same(agree.krippendorff_alpha(mm), ref_alpha(mm))


@settings(max_examples=100, deadline=None)
@given(ratings(), st.randoms(use_true_random=False))
def test_pairwise_kappa_and_fleiss_skip_missing(m: np.ndarray, rnd) -> None:  # type: ignore[no-untyped-def]
    mask = np.array([[rnd.random() < 0.2 for _ in range(m.shape[1])]
                     for _ in range(m.shape[0])], dtype=bool)
    mm = with_missing(m, mask)
    for i, k in combinations(range(m.shape[1]), 2):
        both = ~np.isnan(mm[:, i]) & ~np.isnan(mm[:, k])
        ref = ref_cohen(mm[both, i], mm[both, k]) if both.any() else None
        assert same(agree.cohen_kappa(mm[:, i], mm[:, k]), ref)
    assert same(agree.fleiss_kappa(mm), ref_fleiss(mm))


@settings(max_examples=100, deadline=None)
@given(ratings())
def test_percent_agreement_is_share_of_agreeing_pairs(m: np.ndarray) -> None:
    pairs = list(combinations(range(m.shape[1]), 2))
    expected = np.mean([np.mean([m[u, i] == m[u, k] for i, k in pairs])
                        for u in range(m.shape[0])])
    got = agree.percent_agreement(m)
    assert got is not None and abs(got - expected) <= TOL
    if m.shape[1] == 2:
        assert abs(got - float(np.mean(m[:, 0] == m[:, 1]))) <= TOL


def test_undefined_cases_are_none() -> None:
    same_everywhere = np.zeros((10, 3))
    assert agree.krippendorff_alpha(same_everywhere) is None
    assert agree.fleiss_kappa(same_everywhere) is None
    assert agree.cohen_kappa(same_everywhere[:, 0], same_everywhere[:, 1]) is None
    assert agree.percent_agreement(same_everywhere) == 1.0
    one = np.array([[1.0], [0.0]])
    assert agree.fleiss_kappa(one) is None
    assert agree.krippendorff_alpha(one) is None
    assert agree.percent_agreement(one) is None
    nobody_twice = np.array([[1.0, np.nan], [np.nan, 0.0]])
    assert agree.krippendorff_alpha(nobody_twice) is None
    assert agree.cohen_kappa(nobody_twice[:, 0], nobody_twice[:, 1]) is None


def test_confusion_counts() -> None:
    x = np.array([1, 1, 0, 0, 1, np.nan])
    y = np.array([1, 0, 1, 0, 1, 1])
    c = agree.confusion(x, y, "a", "b")
    assert (c.both, c.a_only, c.b_only, c.neither) == (2, 1, 1, 1)
    assert same(c.kappa, ref_cohen(x[:5], y[:5]))


# --- unitizing alpha ------------------------------------------------------------------------


def test_unitizing_alpha_krippendorff_2004_example() -> None:
    """Krippendorff (2004), Content Analysis, 2nd ed., p. 254: two observers, continuum
    [150, 450), categories c and k; published D_o = .0144, D_e = .0532, αu(c) = .7286,
    αu(k) = 1, αu = .8591 (the book rounds its intermediate figures)."""
    c = agree.unitizing_alpha([[(225, 295), (370, 400)], [(220, 300), (355, 375), (400, 420)]],
                              150, 450)
    k = agree.unitizing_alpha([[(180, 240), (300, 350)], [(180, 240), (300, 350)]], 150, 450)
    assert c.observed == pytest.approx(0.0144, abs=1e-4)
    assert c.expected == pytest.approx(0.0532, abs=1e-4)
    assert c.alpha == pytest.approx(0.7286, abs=1e-4)
    assert k.observed == 0 and k.expected == pytest.approx(0.0490, abs=1e-4)
    assert k.alpha == 1.0
    assert agree.overall_unitizing([c, k]) == pytest.approx(0.8591, abs=5e-4)


KRIPPENDORFF_1995 = {  # p. 57: category -> per observer (offset, length), continuum [0, 24)
    "A": [[(2, 8), (14, 6)], [(4, 4), (15, 2)]],
    "B": [[(0, 18)], [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 3), (9, 1)]],
    "C": [[(2, 6), (10, 2), (14, 4), (20, 2)], [(0, 2), (4, 4), (10, 4), (16, 2), (20, 2)]],
    "D": [[(0, 2), (2, 8), (10, 4), (14, 6), (20, 4)],
          [(0, 4), (4, 4), (8, 7), (15, 2), (17, 7)]],
}


@pytest.mark.parametrize(("category", "observed", "expected"), [
    ("A", 0.03125, 0.06990), ("B", 2.26736, 1.17731), ("C", 0.02777, 0.08642),
    ("D", 0.38715, 0.41445),
])
def test_unitizing_alpha_krippendorff_1995_example(category: str, observed: float,
                                                   expected: float) -> None:
    """Krippendorff (1995) p. 57; D_o exact at any scale, D_e approaching the published value
    as the continuum is stretched (the paper treats it as continuous), as DKPro checks it."""
    units = KRIPPENDORFF_1995[category]
    exact = agree.unitizing_alpha([[(b, b + n) for b, n in u] for u in units], 0, 24)
    assert exact.observed == pytest.approx(observed, abs=1e-5)
    s = 50_000
    stretched = agree.unitizing_alpha([[(b * s, (b + n) * s) for b, n in u] for u in units],
                                      0, 24 * s)
    assert stretched.observed == pytest.approx(observed, abs=1e-5)
    assert stretched.expected == pytest.approx(expected, abs=5e-3)
    assert stretched.alpha == pytest.approx(1 - stretched.observed / stretched.expected,
                                            abs=1e-9)


spans = st.lists(st.tuples(st.integers(0, 60), st.integers(1, 15)), max_size=6).map(
    lambda xs: [(s, min(60, s + n)) for s, n in xs if s < 60])


def brute_observed(units: list[list[tuple[int, int]]], length: int) -> float:
    """D_o straight from the definition: every segment pair of every ordered annotator pair."""
    segs = [agree._segments(agree.merge_units(u), 0, length) for u in units]
    total = 0
    for i in range(len(units)):
        for j in range(len(units)):
            if i == j:
                continue
            for s1, e1, u1 in segs[i]:
                for s2, e2, u2 in segs[j]:
                    if u1 and u2 and s1 < e2 and s2 < e1:
                        total += (s1 - s2) ** 2 + (e1 - e2) ** 2
                    elif u1 and not u2 and s2 <= s1 and e1 <= e2:
                        total += (e1 - s1) ** 2
                    elif u2 and not u1 and s1 <= s2 and e2 <= e1:
                        total += (e2 - s2) ** 2
    m = len(units)
    return total / (m * (m - 1) * length * length)


@settings(max_examples=150, deadline=None)
@given(st.lists(spans, min_size=2, max_size=4))
def test_unitizing_observed_matches_definition_and_is_symmetric(units) -> None:  # type: ignore[no-untyped-def]
    got = agree.unitizing_alpha(units, 0, 60)
    assert got.observed == pytest.approx(brute_observed(units, 60), abs=1e-12)
    back = agree.unitizing_alpha(list(reversed(units)), 0, 60)
    assert back.observed == pytest.approx(got.observed, abs=1e-12)
    assert back.expected == pytest.approx(got.expected, abs=1e-12)
    assert got.expected >= 0


@settings(max_examples=100, deadline=None)
@given(spans.filter(bool), st.integers(2, 4))
def test_unitizing_identical_unitizations_agree_fully(units, raters) -> None:  # type: ignore[no-untyped-def]
    got = agree.unitizing_alpha([units] * raters, 0, 60)
    assert got.observed == 0
    if got.alpha is not None:
        assert got.alpha == 1.0


@settings(max_examples=100, deadline=None)
@given(spans, spans)
def test_interval_counts_match_character_sets(a, b) -> None:  # type: ignore[no-untyped-def]
    ma, mb = agree.merge_units(a), agree.merge_units(b)
    sa = {x for s, e in a for x in range(s, e)}
    sb = {x for s, e in b for x in range(s, e)}
    assert agree.covered(ma) == len(sa) and agree.overlap(ma, mb) == len(sa & sb)
    x = np.array([i in sa for i in range(60)], dtype=float)
    y = np.array([i in sb for i in range(60)], dtype=float)
    c = agree.confusion(x, y)
    assert same(agree.kappa_from_counts(c.both, c.a_only, c.b_only, c.neither), ref_cohen(x, y))


def test_unitizing_undefined_without_units() -> None:
    assert agree.unitizing_alpha([[], []], 0, 100).alpha is None
    assert agree.unitizing_alpha([[(0, 5)]], 0, 100).alpha is None  # one annotator
    assert agree.overall_unitizing([]) is None


# --- whose judgement ------------------------------------------------------------------------


def ann(ann_id: str, user: str, status: str, start: int = 0, end: int = 5,
        themes: tuple[str, ...] = ("t",)) -> Annotation:
    return Annotation(id=ann_id, doc="d", start=start, end=end, quote="x" * (end - start),
                      themes=themes, user=user, status=status)


def change(n: int, ann_id: str, user: str, action: str, detail: object) -> Change:
    return Change(id=n, annotation=ann_id, user=user, when="2026-01-01T00:00:00Z",
                  action=action, detail=json.dumps(detail))


def test_judge_credits_the_acceptor_not_the_suggester() -> None:
    anns = [ann("a1", "codebook", "accepted"), ann("a2", "codebook", "rejected"),
            ann("a3", "codebook", "suggested"), ann("a4", "bob", "accepted")]
    history = [
        change(1, "a1", "codebook", "add", {"status": "suggested"}),
        change(2, "a2", "codebook", "add", {"status": "suggested"}),
        change(3, "a3", "codebook", "add", {"status": "suggested"}),
        change(4, "a4", "bob", "add", {"status": "accepted"}),
        change(5, "a1", "alice", "reject", {"status": ["suggested", "rejected"]}),
        change(6, "a1", "carol", "accept", {"status": ["rejected", "accepted"]}),
        change(7, "a2", "alice", "reject", {"status": ["suggested", "rejected"]}),
    ]
    j = agree_report.judge(anns, history)
    assert dict(j.owner) == {"a1": "carol", "a4": "bob"}
    assert dict(j.rejecter) == {"a2": "alice"}
    assert agree_report.annotators(anns, history, ["d"]) == ["alice", "bob", "carol"]
    assert agree_report.annotators(anns, history, ["other"]) == []


def test_judge_leaves_out_orphaned_and_falls_back_to_the_author() -> None:
    lost = Annotation(id="o", doc="d", start=0, end=1, quote="x", user="x", orphaned=True)
    imported = ann("i", "dora", "accepted")
    j = agree_report.judge([lost, imported], [])
    assert dict(j.owner) == {"i": "dora"}


# --- the report over random annotations -----------------------------------------------------

REPORT_TEXT = ("First one here. Second sentence is longer. Third.\n\nFourth begins a "
               "paragraph. Fifth! Sixth?\n\nSeventh closes.")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ann", "ben", "cy"]), st.integers(0, 95),
                          st.integers(1, 40), st.sets(st.sampled_from(["p", "q"]), min_size=1),
                          st.sampled_from(["accepted", "rejected"])),
                min_size=1, max_size=12),
       st.sampled_from(["sentence", "paragraph"]))
def test_report_matches_brute_force_overlaps(plan, unit: str) -> None:  # type: ignore[no-untyped-def]
    from annotate.model import Document, Metadata

    from .conftest import ROOT

    docs = [Document(path=ROOT / f"{i}.txt", text=REPORT_TEXT, meta=Metadata(id=f"d{i}"))
            for i in range(2)]
    anns, history = [], []
    for n, (user, start, length, themes, status) in enumerate(plan):
        d = docs[n % 2]
        end = min(len(REPORT_TEXT), start + length)
        anns.append(Annotation(id=f"a{n}", doc=d.id, start=start, end=end,
                               quote=REPORT_TEXT[start:end], themes=tuple(sorted(themes)),
                               user=user, status=status))
        history.append(change(n, f"a{n}", user, "add", {"status": status}))
    users = ["ann", "ben", "cy"]
    report = agree_report.agreement_report(docs, anns, history, users, ["p", "q"], unit)
    units = [(d.id, u.start, u.end) for d in docs
             for u in (d.sentences if unit == "sentence" else d.paragraphs)]
    assert report.items == len(units)
    for theme in report.themes:
        m = np.zeros((len(units), 3))
        for k, user in enumerate(users):
            judged = {a.doc for a in anns if a.user == user}
            for row, (doc, s, e) in enumerate(units):
                if doc not in judged:
                    m[row, k] = np.nan
                elif any(a.doc == doc and a.user == user and a.status == "accepted"
                         and theme.id in a.themes and a.start < e and s < a.end for a in anns):
                    m[row, k] = 1
        assert same(theme.alpha, ref_alpha(m))
        assert same(theme.fleiss_kappa, ref_fleiss(m))
        assert theme.kappa is None
        assert theme.positives == {u: int(np.nansum(m[:, k] == 1)) for k, u in enumerate(users)}
        for c in theme.confusion:
            i, k = users.index(c.a), users.index(c.b)
            both = ~np.isnan(m[:, i]) & ~np.isnan(m[:, k])
            ref = ref_cohen(m[both, i], m[both, k]) if both.any() else None
            assert same(c.kappa, ref)

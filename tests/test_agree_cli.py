"""`annotate agree` end to end on real annotations of the seeds, made through the CLI by three
annotators (alice accepts and rejects the codebook's suggestions, bob and carol annotate by
hand, carol leaves one statement out), with the JSON figures checked against scikit-learn,
statsmodels and the `krippendorff` package on a rating matrix this test builds on its own."""

from __future__ import annotations

import json
import warnings
from itertools import combinations
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa
from typer.testing import CliRunner

from annotate import agree
from annotate.cli import app
from annotate.corpus import load_corpus

from .conftest import DATA, SEEDS, check_golden

runner = CliRunner()
TOL = 1e-6
GOLDEN = DATA / "agree"
SKIPPED_BY_CAROL = "000"

# user -> list of (doc, start, end, themes) they hold; user -> documents they judged
Judgements = dict[str, list[tuple[str, int, int, tuple[str, ...]]]]


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Judgements,
                                                                dict[str, set[str]]]:
    store = str(tmp_path_factory.mktemp("agree") / "annotations.sqlite")
    seeds = str(SEEDS)
    cli("suggest", seeds, "--user", "codebook", "--store", store)
    suggestions = json.loads(cli("list", "--status", "suggested", "--json",
                                 "--store", store))["annotations"]
    assert len(suggestions) > 50
    held: Judgements = {"alice": [], "bob": [], "carol": []}
    judged: dict[str, set[str]] = {"alice": set(), "bob": set(), "carol": set()}
    for i, a in enumerate(suggestions):
        doc, start, end, themes = a["doc"], a["start"], a["end"], tuple(a["themes"])
        span = f"{start}:{end}"
        judged["alice"].add(doc)
        if i % 5 == 0:
            cli("reject", a["id"], "--user", "alice", "--store", store)
        else:
            cli("accept", a["id"], "--user", "alice", "--store", store)
            held["alice"].append((doc, start, end, themes))
        if i % 3:
            cli("add", doc, seeds, "--span", span, "--theme", themes[0], "--user", "bob",
                "--store", store)
            held["bob"].append((doc, start, end, themes[:1]))
            judged["bob"].add(doc)
        if i % 7 == 0:
            cli("add", doc, seeds, "--span", span, "--theme", "deterrence", "--user", "bob",
                "--store", store)
            held["bob"].append((doc, start, end, ("deterrence",)))
            judged["bob"].add(doc)
        if i % 2 == 0 and doc != SKIPPED_BY_CAROL:
            cli("add", doc, seeds, "--span", span, *[x for t in themes for x in ("--theme", t)],
                "--user", "carol", "--store", store)
            held["carol"].append((doc, start, end, themes))
            judged["carol"].add(doc)
    return Path(store), held, judged


def reference_matrix(theme: str, users: list[str], held: Judgements,
                     judged: dict[str, set[str]]) -> np.ndarray:
    """Sentences × users: 1 if one of the user's annotations with the theme overlaps the
    sentence, 0 if not, NaN if the user judged nothing in that document."""
    sentences = [s for d in load_corpus([SEEDS]).documents for s in d.sentences]
    m = np.zeros((len(sentences), len(users)))
    for k, user in enumerate(users):
        for row, s in enumerate(sentences):
            doc = s.id.split(".")[0]
            if doc not in judged[user]:
                m[row, k] = np.nan
            elif any(d == doc and theme in ts and start < s.end and s.start < end
                     for d, start, end, ts in held[user]):
                m[row, k] = 1
    return m


def ref_figures(m: np.ndarray, users: list[str]) -> dict[str, Any]:
    pair_shares = []
    for u in range(m.shape[0]):
        present = [x for x in m[u] if not np.isnan(x)]
        pairs = list(combinations(present, 2))
        if pairs:
            pair_shares.append(np.mean([x == y for x, y in pairs]))
    confusion = []
    kappas = []
    for i, k in combinations(range(len(users)), 2):
        both = ~np.isnan(m[:, i]) & ~np.isnan(m[:, k])
        x, y = m[both, i], m[both, k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kappa = float(cohen_kappa_score(x, y))
        kappas.append(None if np.isnan(kappa) else kappa)
        confusion.append({"a": users[i], "b": users[k],
                          "both": int(((x == 1) & (y == 1)).sum()),
                          "a_only": int(((x == 1) & (y == 0)).sum()),
                          "b_only": int(((x == 0) & (y == 1)).sum()),
                          "neither": int(((x == 0) & (y == 0)).sum())})
    complete = m[~np.isnan(m).any(axis=1)]
    table, _ = aggregate_raters(complete.astype(int), n_cat=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        fleiss = float(sm_fleiss_kappa(table, method="fleiss"))
    try:
        alpha: float | None = float(krippendorff.alpha(reliability_data=m.T,
                                                       level_of_measurement="nominal"))
    except ValueError:
        alpha = None
    return {
        "items": m.shape[0],
        "agreement": float(np.mean(pair_shares)),
        "kappa": kappas[0] if len(users) == 2 else None,
        "fleiss_kappa": None if np.isnan(fleiss) else fleiss,
        "alpha": alpha,
        "positives": {u: int(np.nansum(m[:, k] == 1)) for k, u in enumerate(users)},
        "confusion": confusion, "pair_kappas": kappas,
    }


def check(got: dict[str, Any], ref: dict[str, Any]) -> None:
    assert got["items"] == ref["items"]
    assert got["positives"] == ref["positives"]
    for key in ("agreement", "kappa", "fleiss_kappa", "alpha"):
        if ref[key] is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(ref[key], abs=TOL), key
    for c, r, k in zip(got["confusion"], ref["confusion"], ref["pair_kappas"], strict=True):
        assert {x: c[x] for x in r} == r
        assert (c["kappa"] is None and k is None) or c["kappa"] == pytest.approx(k, abs=TOL)


@pytest.mark.parametrize("users", [["alice", "bob"], ["alice", "bob", "carol"],
                                   ["bob", "carol"]])
def test_figures_equal_the_reference_implementations(project, users: list[str]) -> None:  # type: ignore[no-untyped-def]
    store, held, judged = project
    args = ["agree", str(SEEDS), "--store", str(store), "--json"]
    if len(users) == 2:
        args += ["--users", ",".join(users)]
    data = json.loads(cli(*args))
    assert data["unit"] == "sentence"
    assert data["annotators"] == users  # the suggester "codebook" judged nothing
    n_sentences = sum(len(d.sentences) for d in load_corpus([SEEDS]).documents)
    assert data["items"] == n_sentences
    used = {t for u in users for *_, ts in held[u] for t in ts}
    assert {t["id"] for t in data["themes"]} == used
    pooled = []
    for t in data["themes"]:
        m = reference_matrix(t["id"], users, held, judged)
        pooled.append(m)
        check(t, ref_figures(m, users))
    check(data["overall"], ref_figures(np.concatenate(pooled), users))
    assert data["missing"] == ({"carol": [SKIPPED_BY_CAROL]} if "carol" in users else {})


def test_some_figures_are_really_compared(project) -> None:  # type: ignore[no-untyped-def]
    """Guard against a vacuous pass: the data must give defined, imperfect figures."""
    store, _, _ = project
    data = json.loads(cli("agree", str(SEEDS), "--store", str(store), "--json"))
    alphas = [t["alpha"] for t in data["themes"] if t["alpha"] is not None]
    assert len(alphas) >= 5 and all(-1 <= a < 1 for a in alphas)
    assert data["overall"]["kappa"] is None  # three annotators: Cohen's kappa is per pair


def test_span_unit_is_unitizing_alpha_over_the_documents_all_judged(project) -> None:  # type: ignore[no-untyped-def]
    store, held, _ = project
    users = ["alice", "carol"]
    data = json.loads(cli("agree", str(SEEDS), "--store", str(store), "--json",
                          "--unit", "span", "--users", ",".join(users)))
    docs = [d for d in load_corpus([SEEDS]).documents if d.id != SKIPPED_BY_CAROL]
    assert data["documents"] == [d.id for d in docs]
    offset, length = {}, 0
    for d in docs:
        offset[d.id] = length
        length += len(d.text)
    assert data["items"] == length
    for t in data["themes"]:
        units = [[(offset[d] + s, offset[d] + e) for d, s, e, ts in held[u]
                  if t["id"] in ts and d in offset] for u in users]
        expected = agree.unitizing_alpha(units, 0, length).alpha
        assert t["alpha"] == pytest.approx(expected, abs=1e-12)
        assert t["positives"] == {u: len(agree.merge_units(us)) for u, us in zip(users, units,
                                                                              strict=True)}
        assert t["kappa"] is None and t["fleiss_kappa"] is None
        chars = np.zeros((length, len(users)))  # the per-character figures, by brute force
        for k, us in enumerate(units):
            for s, e in us:
                chars[s:e, k] = 1
        ref = ref_figures(chars, users)
        assert t["agreement"] == pytest.approx(ref["agreement"], abs=TOL)
        check({**t, "kappa": None, "fleiss_kappa": None, "alpha": None, "positives": None},
              {**ref, "kappa": None, "fleiss_kappa": None, "alpha": None, "positives": None})


def test_theme_and_doc_filters(project) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = project
    data = json.loads(cli("agree", str(SEEDS), "--store", str(store), "--json",
                          "--doc", "003", "--theme", "upstream", "--theme", "returns",
                          "--unit", "paragraph"))
    assert [t["id"] for t in data["themes"]] == ["upstream", "returns"]
    assert data["documents"] == ["003"]
    doc = load_corpus([SEEDS]).get("003")
    assert data["items"] == len(doc.paragraphs)


def test_table_golden(project) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = project
    out = cli("agree", str(SEEDS), "--store", str(store), "--disagreements")
    check_golden(GOLDEN / "seeds_3_annotators_100.txt", out)
    rows = []
    for line in out.splitlines()[3:]:
        if not line.strip():
            break
        rows.append(line.split())
    # weakest first: the alpha column (4th from the right with three annotators) ascends
    alphas = [float(r[-4]) for r in rows]
    assert alphas == sorted(alphas) and len(alphas) >= 5


def test_span_table_golden(project) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = project
    out = cli("agree", str(SEEDS), "--store", str(store), "--unit", "span",
              "--users", "alice,bob")
    check_golden(GOLDEN / "seeds_span_2_annotators_100.txt", out)


def test_disagreements_json_lists_split_units_most_split_first(project) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = project
    data = json.loads(cli("agree", str(SEEDS), "--store", str(store), "--json",
                          "--disagreements"))
    items = data["disagreements"]
    assert items and [d["score"] for d in items] == sorted((d["score"] for d in items),
                                                           reverse=True)
    doc = load_corpus([SEEDS]).get(items[0]["doc"])
    assert doc.sentence_index[items[0]["unit"]].text == items[0]["text"]
    for split in items[0]["themes"].values():
        assert split["yes"] and split["no"]


def error_of(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return result.exit_code, lines[0]


def test_usage_and_data_errors(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, _, _ = project
    base = ("agree", str(SEEDS), "--store", str(store))
    assert error_of(*base, "--unit", "word") == (
        2, "Error: unknown unit 'word' (use sentence, paragraph, span)")
    assert error_of(*base, "--users", "alice") == (
        2, "Error: --users needs two or more annotators, comma-separated")
    assert error_of(*base, "--theme", "nope") == (
        2, "Error: unknown theme 'nope' (not in the codebook nor in any annotation of the "
           "chosen documents)")
    assert error_of(*base, "--users", "alice,zed") == (
        1, "Error: annotator 'zed' made no judgement in the chosen documents "
           "(annotators there: alice, bob, carol)")
    missing = tmp_path / "none.sqlite"
    assert error_of("agree", str(SEEDS), "--store", str(missing)) == (
        1, f"Error: no annotation store at {missing} (annotate first, or pass --store)")
    assert not missing.exists()  # a read-only command creates no store
    lone = str(tmp_path / "lone.sqlite")
    cli("add", "003", str(SEEDS), "--sentence", "003.p1.s1", "--theme", "returns",
        "--user", "alice", "--store", lone)
    assert error_of("agree", str(SEEDS), "--store", lone) == (
        1, "Error: agreement needs two or more annotators; the chosen documents have "
           "judgements by alice")


def test_help_mentions_the_measures() -> None:
    out = cli("agree", "--help")
    assert "Krippendorff" in out and "--disagreements" in out and "--unit" in out


def test_tei_export_records_the_agreement_of_the_store(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The export's header carries the figures `annotate agree` gives for all annotators."""
    from annotate.markup import TEI_NS, etree

    store, _, _ = project
    agree = json.loads(cli("agree", str(SEEDS), "--store", str(store), "--json"))
    out = tmp_path / "seeds.xml"
    cli("export", str(SEEDS), "--store", str(store), "--out", str(out))
    root = etree.parse(str(out)).getroot()
    ns = {"t": TEI_NS}
    [interp] = root.findall("t:teiHeader/t:encodingDesc/t:editorialDecl/t:interpretation", ns)
    alphas = [float(n.get("value")) for n in interp.iterfind(".//t:num[@type='alpha']", ns)]
    # One alpha per theme (where defined), then the overall one last.
    assert alphas[-1] == pytest.approx(agree["overall"]["alpha"], abs=1e-6)
    assert len(alphas) == sum(t["alpha"] is not None for t in agree["themes"]) + 1
    try:
        from .test_tei_schema import assert_valid
    except ImportError:
        pytest.skip("tests/test_tei_schema.py (the tei_all schema loader) is not there")
    assert_valid(root)

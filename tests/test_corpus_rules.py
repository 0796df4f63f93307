"""Folder-wide metadata rules of corpus.toml (annotate/corpus_rules.py), and series in reuse."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotate.cli import app
from annotate.corpus import load_corpus
from annotate.corpus_rules import iso_date, read_series_table, series_from_names
from annotate.errors import AnnotateError

runner = CliRunner()
STORY = ("The committee of the state legislature met yesterday in the capitol and resolved "
         "that the new bridge across the river shall be built of steel and granite before "
         "the spring floods, at a cost of four hundred thousand dollars to the county.")
RULES = """
[corpus]
name = "Three papers"

[files]
pattern = '^(\\d{8})_([^-]+)-ed'
date = 1
series = 2

[series]
table = "titles.json"
title = "name"
place = "place_of_publication"
"""
TITLES = {"sn1": {"name": "The Daily Star.", "place_of_publication": "Anderson, S.C."},
          "sn2": {"name": "Evening News.", "place_of_publication": "Ogden, Utah"}}


def _folder(tmp_path: Path, toml: str = RULES) -> Path:
    filler = {"a": "weather cold snow wind frost ice", "b": "market grain cattle wheat corn hogs",
              "c": "church choir sermon hymn pastor bells"}
    names = {"19160105_sn1-ed-1_seq-1.txt": "a", "19160103_sn1-ed-1_seq-1.txt": "b",
             "19160104_sn2-ed-1_seq-1.txt": "c"}
    for name, key in names.items():
        words = (filler[key] + " ") * 20
        (tmp_path / name).write_text(words + STORY + " " + words, encoding="utf-8")
    (tmp_path / "titles.json").write_text(json.dumps(TITLES), encoding="utf-8")
    (tmp_path / "corpus.toml").write_text(toml, encoding="utf-8")
    return tmp_path


def test_rules_give_dates_series_titles_and_places(tmp_path: Path) -> None:
    corpus = load_corpus([_folder(tmp_path)])
    got = [(d.meta.date, d.meta.series, d.meta.title, d.meta.place) for d in corpus]
    assert got == [
        ("1916-01-03", "sn1", "The Daily Star.", "Anderson, S.C."),
        ("1916-01-04", "sn2", "Evening News.", "Ogden, Utah"),
        ("1916-01-05", "sn1", "The Daily Star.", "Anderson, S.C."),
    ]
    assert corpus.documents[0].meta.origin == "corpus.toml rules"


def test_a_document_entry_wins_over_the_rules(tmp_path: Path) -> None:
    toml = RULES + '\n[[document]]\nfile = "19160104_sn2-ed-1_seq-1.txt"\nseries = "sn1"\n' \
        'date = "1916-02-01"\n'
    corpus = load_corpus([_folder(tmp_path, toml)])
    d = corpus.get("19160104_sn2-ed-1_seq-1")
    assert (d.meta.date, d.meta.series, d.meta.title) == ("1916-02-01", "sn1", "The Daily Star.")


def test_csv_series_table(tmp_path: Path) -> None:
    toml = RULES.replace('"titles.json"', '"titles.csv"\nkey = "lccn"').replace(
        '"place_of_publication"', '"place"')
    folder = _folder(tmp_path, toml)
    (folder / "titles.csv").write_text("lccn,name,place\nsn1,Star,Anderson\nsn2,News,Ogden\n",
                                       encoding="utf-8")
    assert [d.meta.title for d in load_corpus([folder])] == ["Star", "News", "Star"]


def test_bad_rules_are_one_line_errors(tmp_path: Path) -> None:
    cases = {
        RULES.replace("series = 2", "series = 3"):
            "[files] series = 3, but the pattern has 2 group(s)",
        RULES.replace("^(\\d{8})", "^((\\d{8})"): "[files] pattern is not a valid regex",
        RULES.replace('table = "titles.json"', 'table = "nope.json"'): "nope.json: no such file",
        RULES + "\n[files.extra]\n": "unknown key 'extra' in [files]",
    }
    for n, (toml, message) in enumerate(cases.items()):
        folder = tmp_path / str(n)
        folder.mkdir()
        result = runner.invoke(app, ["corpus", str(_folder(folder, toml))])
        assert result.exit_code == 1, (toml, result.output)
        assert result.output.startswith("Error: ") and message in result.output, result.output
        assert result.output.count("\n") == 1


def test_iso_dates() -> None:
    assert iso_date("19160103") == "1916-01-03"
    assert iso_date("1916-01") == "1916-01"
    assert iso_date("19161399") is None and iso_date("abc") is None


def test_corpus_shows_series_and_json_has_them(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    table = runner.invoke(app, ["corpus", str(folder)])
    assert table.exit_code == 0 and "series" in table.output and "sn2" in table.output
    data = json.loads(runner.invoke(app, ["corpus", str(folder), "--json"]).output)
    assert [(d["series"], d["date"], d["place"]) for d in data["documents"]][0] == \
        ("sn1", "1916-01-03", "Anderson, S.C.")


def test_reuse_across_series_only(tmp_path: Path) -> None:
    folder = _folder(tmp_path)

    def pairs(*args: str) -> list[tuple[str, str, bool]]:
        result = runner.invoke(app, ["reuse", str(folder), "--jsonl", *args])
        assert result.exit_code == 0, result.output
        found = [json.loads(x) for x in result.output.splitlines()]
        return sorted((p["a"]["doc"][:8], p["b"]["doc"][:8], p["same_series"]) for p in found)

    # corpus.toml's series: sn1 reprinting itself on the 5th is not reuse.
    assert pairs() == [("19160103", "19160104", False), ("19160104", "19160105", False)]
    assert pairs("--within-series") == [("19160103", "19160104", False),
                                        ("19160103", "19160105", True),
                                        ("19160104", "19160105", False)]


def test_series_regex_without_corpus_toml(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "corpus.toml").unlink()
    base = ["reuse", str(folder), "--jsonl"]
    assert len(runner.invoke(app, base).output.splitlines()) == 3
    assert len(runner.invoke(app, [*base, "--series", "_([^-]+)-ed"]).output.splitlines()) == 2
    clusters = json.loads(runner.invoke(app, ["reuse", str(folder), "--json", "--within-series",
                                              "--series", "_([^-]+)-ed"]).output)["clusters"]
    assert clusters[0]["earliest"] == "19160103_sn1-ed-1_seq-1"
    bad = runner.invoke(app, [*base, "--series", "nogroup"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: --series needs a group")


def test_within_series_passages_are_marked_in_the_table(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    plain = runner.invoke(app, ["reuse", str(folder)]).output
    marked = runner.invoke(app, ["reuse", str(folder), "--within-series"]).output
    # One passage of the three is sn1 reprinting itself: marked, in its id column.
    assert "same" not in plain and marked.count("same") == 1
    assert any(line.split()[:1] == ["same"] for line in marked.splitlines())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), csv_table=st.booleans())
def test_fuzzed_series_tables_fail_cleanly(tmp_path: Path, data: bytes, csv_table: bool) -> None:
    path = tmp_path / ("t.csv" if csv_table else "t.json")
    path.write_bytes(data)
    try:
        table = read_series_table(path, "lccn", "name", "place")
    except AnnotateError as e:
        assert str(e).startswith(str(path)) and "\n" not in str(e)
    else:
        assert all(isinstance(k, str) for k in table)


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text(max_size=30), max_size=8), regex=st.text(max_size=12))
def test_series_regex_never_crashes(names: list[str], regex: str) -> None:
    try:
        found = series_from_names({f"d{i}": n for i, n in enumerate(names)}, regex)
    except AnnotateError as e:
        assert str(e).startswith("--series")
    else:
        assert set(found) <= {f"d{i}" for i in range(len(names))}

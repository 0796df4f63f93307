"""`annotate compare A B --json`: aligned rows, diff operations and unshared stretches."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotate.cli import app
from annotate.compare_json import diff_ops
from annotate.corpus import load_corpus
from annotate.text import word_count
from tests.conftest import SEEDS

runner = CliRunner()
DOCS = {d.id: d for d in load_corpus([SEEDS]).documents}


def _compare(a: str, b: str) -> dict[str, object]:
    result = runner.invoke(app, ["compare", a, b, str(SEEDS), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_rows_follow_document_a_and_point_into_both_texts() -> None:
    data = _compare("004", "001")
    assert (data["a"], data["b"], data["min_words"]) == ("004", "001", 6)
    rows = data["rows"]
    assert isinstance(rows, list)
    passages = [r for r in rows if r["type"] == "passage"]
    assert len(passages) == data["passages"] >= 1
    assert sum(r["words"] for r in passages) == data["matching_words"]
    for r in passages:
        for side, doc in (("a", "004"), ("b", "001")):
            s = r[side]
            assert s["doc"] == doc and DOCS[doc].text[s["start"]:s["end"]] == s["text"]
        flat_a = " ".join(r["a"]["text"].split())
        flat_b = " ".join(r["b"]["text"].split())
        assert "".join(o["text"] for o in r["diff"] if o["op"] != "insert") == flat_a
        assert "".join(o["text"] for o in r["diff"] if o["op"] != "delete") == flat_b
    starts = [r["a"]["start"] for r in passages]
    assert starts == sorted(starts)
    assert rows[0]["type"] == "unshared" and rows[0]["a"]["start"] == 0
    last = rows[-1]
    assert last["type"] == "unshared" and last["a"]["end"] == len(DOCS["004"].text)
    for r in rows:
        if r["type"] == "unshared":
            for side, doc in (("a", "004"), ("b", "001")):
                s = r[side]
                if s is not None and not s.get("reordered"):
                    assert s["words"] == word_count(DOCS[doc].text[s["start"]:s["end"]])


def test_no_shared_passage_is_one_unshared_row() -> None:
    data = _compare("004", "002")
    if data["passages"] == 0:
        assert [r["type"] for r in data["rows"]] == ["unshared"]


@given(st.text(max_size=60), st.text(max_size=60))
def test_diff_ops_rebuild_both_sides(a: str, b: str) -> None:
    ops = diff_ops(a, b)
    assert {o["op"] for o in ops} <= {"equal", "delete", "insert"}
    assert "".join(o["text"] for o in ops if o["op"] != "insert") == " ".join(a.split())
    assert "".join(o["text"] for o in ops if o["op"] != "delete") == " ".join(b.split())

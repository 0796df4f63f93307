"""The scripted annotation commands through the real CLI: add, list, remove, note, accept,
reject, undo, redo, history, suggest, doctor, and every error message they give."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from annotate.cli import app
from annotate.corpus import load_corpus
from annotate.store import Store
from tests.conftest import SEEDS

runner = CliRunner()
TEXT_002 = (SEEDS / "002_3f54934f788c0788.txt").read_text(encoding="utf-8")


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def error(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def added_id(out: str) -> str:
    m = re.match(r"Added ([0-9a-f]{8}): ", out)
    assert m, out
    return m[1]


def store() -> Store:
    return Store.open()


# --- add --------------------------------------------------------------------------------


def test_add_by_quote_span_and_sentence() -> None:
    out = ok("add", "002", "--quote", "landmark summit", "--theme", "cooperation",
             "--theme", "upstream", "--note", "big event", str(SEEDS))
    start = TEXT_002.index("landmark summit")
    a_id = added_id(out)
    assert out == (f'Added {a_id}: 002 [{start}, {start + 15}) "landmark summit" '
                   "themes: cooperation, upstream\n")
    out = ok("add", "002", "--span", "0:3", str(SEEDS))
    assert out.endswith('002 [0, 3) "The" themes: none\n')
    out = ok("add", "002", "--sentence", "002.p2.s1", "--user", "bob", str(SEEDS))
    short = ok("add", "002", "--sentence", "p2.s1", str(SEEDS))  # the doc prefix may be left out
    with store() as s:
        a = s.get(a_id)
        assert (a.themes, a.note, a.user, a.status) == (("cooperation", "upstream"),
                                                        "big event", "tester", "accepted")
        sent = load_corpus([SEEDS]).get("002").sentence_index["002.p2.s1"]
        b = s.get(added_id(out))
        assert (b.start, b.end, b.user) == (sent.start, sent.end, "bob")
        assert (s.get(added_id(short)).start, s.get(added_id(short)).end) == (sent.start,
                                                                              sent.end)


def test_add_quote_ignores_line_breaks_and_typography() -> None:
    out = ok("add", "002", "--quote", "a major landmark summit", str(SEEDS))
    with store() as s:
        assert s.get(added_id(out)).quote == "a major\nlandmark summit"
    out = ok("add", "002", "--quote", '"This Summit marks', str(SEEDS))
    with store() as s:
        assert s.get(added_id(out)).quote == "“This Summit marks"


def test_add_whole_words_before_substrings() -> None:
    # A quote found as whole words is not also matched inside words; one found only inside
    # words is still accepted.
    error_line = error("add", "002", "--quote", "the", str(SEEDS))
    assert "gathered" not in error_line  # "the" inside "gathered" is not a candidate
    out = ok("add", "002", "--quote", "andmark summi", str(SEEDS))
    assert '"andmark summi"' in out


def test_add_errors() -> None:
    seeds = str(SEEDS)
    assert error("add", "999", "--span", "0:3", seeds) == (
        "Error: unknown document '999' (known: 004, 000, 001, 003, 002)")
    assert error("add", "002", "--quote", "no such words here", seeds) == (
        'Error: quote not found in document 002: "no such words here"')
    assert error("add", "002", "--quote", "summit", seeds) == (
        'Error: quote is ambiguous in document 002: 2 matches: '
        '[129, 135) "…es a major landmark summit to agree new action…"; '
        '[249, 255) "…ons at Day 1 of the summit included tackling t…"; '
        "use --span START:END to pick one")
    amb = error("add", "002", "--quote", "the", seeds)
    n = len(re.findall(r"\bthe\b", TEXT_002))
    assert amb.startswith(f"Error: quote is ambiguous in document 002: {n} matches: [67, 70)")
    assert amb.endswith(f"; and {n - 5} more; use --span START:END to pick one")
    # A malformed or reversed span is a usage error: exit 2, one line and a hint.
    for span, why in (("abc", ""), ("10:5", " (the end is not after the start)")):
        bad = run("add", "002", "--span", span, seeds)
        assert bad.exit_code == 2 and bad.stdout == ""
        assert bad.stderr.split("\n")[0] == f"Error: invalid value for '--span': {span!r}{why}"
        assert bad.stderr.split("\n")[1].startswith("Use START:END")
    assert error("add", "002", "--span", f"0:{len(TEXT_002) + 1}", seeds).startswith(
        f"Error: offsets [0, {len(TEXT_002) + 1}) out of range")
    assert error("add", "002", "--sentence", "002.p99.s1", seeds) == (
        "Error: unknown sentence id '002.p99.s1' in document 002 "
        "(its sentences are 002.p1.s1 … 002.p21.s1)")
    assert error("add", "002", "--span", "0:3", "--theme", "nope", seeds) == (
        "Error: unknown theme 'nope' (the codebook "
        f"{SEEDS / 'themes.toml'} has: whole-of-route, upstream, returns, balkans, "
        "intelligence, deterrence, funding, cooperation, protection)")
    for given in ((), ("--span", "0:3", "--quote", "The")):
        bad = run("add", "002", *given, seeds)
        assert bad.exit_code == 2 and bad.stdout == ""
        assert bad.stderr.split("\n")[0] == (
            "Error: give exactly one of --quote, --span or --sentence")
        assert bad.stderr.split("\n")[1].startswith("Use --quote TEXT")
    with store() as s:
        assert s.list() == []


def test_add_theme_without_codebook(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "x.txt").write_text("Some words to annotate here.\n", encoding="utf-8")
    missing = tmp_path / "none.toml"
    assert error("add", "x", "--span", "0:4", "--theme", "t", "--codebook", str(missing),
                 str(corpus)) == (
        f"Error: no codebook at {missing} to check the themes against: pass --codebook")


# --- list -------------------------------------------------------------------------------


def test_list_json_shape_and_filters() -> None:
    a = added_id(ok("add", "002", "--span", "10:20", "--theme", "returns", str(SEEDS)))
    b = added_id(ok("add", "001", "--span", "5:9", "--user", "bob", str(SEEDS)))
    c = added_id(ok("add", "002", "--span", "0:5", "--theme", "funding", "--theme", "returns",
                    str(SEEDS)))
    data = json.loads(ok("list", "--json"))
    assert list(data) == ["annotations"]
    assert [x["id"] for x in data["annotations"]] == [b, c, a]
    rec = data["annotations"][1]
    assert list(rec) == ["id", "doc", "start", "end", "quote", "themes", "note", "user",
                         "status", "created", "modified", "version"]
    assert rec["version"] == 1
    assert rec["quote"] == TEXT_002[0:5] and rec["themes"] == ["funding", "returns"]
    assert rec["status"] == "accepted" and rec["user"] == "tester"

    def ids(*args: str) -> list[str]:
        return [x["id"] for x in json.loads(ok("list", "--json", *args))["annotations"]]

    assert ids("--doc", "002") == [c, a]
    assert ids("--theme", "returns") == [c, a]
    assert ids("--user", "bob") == [b]
    assert ids("--status", "accepted", "--theme", "funding") == [c]
    assert ids("--status", "suggested") == []
    bad = run("list", "--status", "maybe")
    assert bad.exit_code == 2 and bad.stderr.split("\n") == [
        "Error: invalid value for '--status': 'maybe'",
        "Use one of suggested, accepted, rejected or orphaned.", ""]


def test_list_text() -> None:
    assert ok("list") == "No annotations.\n"
    a = added_id(ok("add", "002", "--quote", "landmark summit", "--theme", "returns",
                    "--note", "see p2", str(SEEDS)))
    lines = ok("list").splitlines()
    assert lines[0].split() == ["id", "doc", "span", "status", "user", "themes", "quote"]
    assert lines[1].split()[:5] == [a, "002", "[120,", "135)", "accepted"]
    assert lines[1].endswith('"landmark summit" [see p2]')
    assert lines[-1] == "1 annotation"


# --- changes, undo, redo, history -------------------------------------------------------


def test_remove_note_accept_reject_undo_redo() -> None:
    a = added_id(ok("add", "002", "--span", "0:3", str(SEEDS)))
    assert ok("note", a, "first\nsecond") == f'Noted {a} (version 2): "first second"\n'
    assert ok("reject", a) == f'Rejected {a}: 002 [0, 3) "The" themes: none\n'
    assert ok("accept", a).startswith(f"Accepted {a}: ")
    assert ok("note", a, "") == f"Cleared the note of {a} (version 5)\n"
    assert ok("remove", a) == f'Removed {a}: 002 [0, 3) "The" themes: none\n'
    assert json.loads(ok("list", "--json")) == {"annotations": []}
    # Each command is its own process-like open of the store: undo survives across them.
    assert ok("undo") == f"Undid remove {a}\n"
    assert ok("undo") == f"Undid note on {a}\n"
    with store() as s:
        assert s.get(a).note == "first\nsecond"
    assert ok("redo") == f"Redid note on {a}\n"
    assert ok("redo") == f"Redid remove {a}\n"
    assert ok("redo") == "Nothing to redo for tester.\n"
    assert ok("undo", "--user", "somebody") == "Nothing to undo for somebody.\n"
    for cmd in (["remove", "nope"], ["note", "nope", "x"], ["accept", "nope"],
                ["reject", "nope"], ["history", "nope"]):
        assert error(*cmd) == "Error: unknown annotation id 'nope'"
    assert error("note", a, "x") == (
        f"Error: annotation {a} was removed (`annotate undo` brings it back)")


def test_history_text_and_json() -> None:
    a = added_id(ok("add", "002", "--span", "0:3", "--theme", "returns", str(SEEDS)))
    ok("note", a, "hello", "--user", "bob")
    b = added_id(ok("add", "001", "--span", "0:3", str(SEEDS)))
    lines = ok("history", a).splitlines()
    assert len(lines) == 2
    assert re.match(rf"\S+Z  tester  add      {a}  doc: \"002\"; end: 3; note: \"\"; "
                    r'quote: "The"; start: 0; status: "accepted"; themes: \[returns\]$',
                    lines[0]), lines[0]
    assert lines[1].endswith(f'bob  note     {a}  note: "" -> "hello"')
    data = json.loads(ok("history", "--json"))
    assert [(h["annotation"], h["action"], h["user"]) for h in data["history"]] == [
        (a, "add", "tester"), (a, "note", "bob"), (b, "add", "tester")]
    assert data["history"][1]["detail"] == {"note": ["", "hello"]}
    assert list(data["history"][0]) == ["id", "annotation", "user", "when", "action", "detail"]


def test_history_empty() -> None:
    assert ok("history") == "No history.\n"


def test_history_of_imported_plain_text_detail() -> None:
    from annotate.model import Annotation, Change

    ann = Annotation(id="feed0001", doc="002", start=0, end=3, quote="The", user="ed",
                     created="2024-01-01T00:00:00.000Z", modified="2024-01-01T00:00:00.000Z")
    with store() as s:
        s.import_annotation(ann, [Change(0, "feed0001", "ed", "2024-01-01T00:00:00.000Z",
                                         "add", "created in another tool")])
    data = json.loads(ok("history", "feed0001", "--json"))
    assert data["history"][0]["detail"] == "created in another tool"
    assert ok("history", "feed0001").endswith("add      feed0001  created in another tool\n")


def test_store_option_wins(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "x.sqlite"
    a = added_id(ok("add", "002", "--span", "0:3", "--store", str(other), str(SEEDS)))
    assert json.loads(ok("list", "--json"))["annotations"] == []
    assert [x["id"] for x in json.loads(ok("list", "--json", "--store", str(other)))[
        "annotations"]] == [a]


# --- suggest ----------------------------------------------------------------------------


def test_suggest_is_idempotent_and_skips_annotated_units() -> None:
    from annotate.themes import load_codebook, match_corpus

    hits = match_corpus(load_codebook(SEEDS / "themes.toml"), load_corpus([SEEDS]))
    all_hits = [h for doc_hits in hits.values() for h in doc_hits]
    assert len(all_hits) > 10
    first = all_hits[0]
    # Annotate part of one unit by hand: suggest must leave that unit alone.
    ok("add", first.doc, "--span", f"{first.start}:{first.start + 3}", str(SEEDS))
    out = ok("suggest", str(SEEDS))
    assert out == (f"Suggested {len(all_hits) - 1} annotations (1 unit already annotated) "
                   f"from {SEEDS / 'themes.toml'}\n")
    with store() as s:
        suggested = s.list(status="suggested")
        assert {(a.doc, a.start, a.end, a.themes) for a in suggested} == {
            (h.doc, h.start, h.end, h.themes) for h in all_hits[1:]}
        # Reject one and remove another: neither comes back.
        s.set_status(suggested[0].id, "rejected", user="tester")
        s.remove(suggested[1].id, user="tester")
    assert ok("suggest", str(SEEDS)).startswith("Suggested 0 annotations")
    with store() as s:
        assert len(s.list()) == len(all_hits) - 1  # the removed one stays removed
        assert len(s.list(status="suggested")) == len(all_hits) - 3


def test_one_undo_takes_back_a_whole_suggest_run() -> None:
    ok("add", "002", "--span", "0:3", str(SEEDS))
    added = int(ok("suggest", str(SEEDS)).split()[1])
    assert added > 10
    with store() as s:
        assert s.undo_depth("tester") == 2  # the add, and the suggest run as one step
        assert len(s.list(status="suggested")) == added
    assert ok("undo").startswith(f"Undid {added} actions (add ")
    with store() as s:
        assert s.list(status="suggested") == []
        assert len(s.list()) == 1 and s.undo_depth("tester") == 1
        assert s.redo_depth("tester") == 1
        assert s.redo("tester") is not None
        assert len(s.list(status="suggested")) == added
        assert s.undo("tester") is not None and s.undo("tester") is not None
        assert s.list() == []


def test_suggest_with_explicit_codebook(tmp_path: Path) -> None:
    cb = tmp_path / "cb.toml"
    cb.write_text('[meta]\nname = "tiny"\n\n[[theme]]\nid = "summit"\nlabel = "Summit"\n'
                  'patterns = ["summit"]\n', encoding="utf-8")
    out = ok("suggest", "--codebook", str(cb), str(SEEDS))
    n = int(out.split()[1])
    with store() as s:
        anns = s.list()
    assert n == len(anns) > 0 and all(a.themes == ("summit",) for a in anns)
    assert all("summit" in a.quote.lower() for a in anns)


# --- doctor -----------------------------------------------------------------------------


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(SEEDS, dest)
    return dest


def test_doctor_clean() -> None:
    ok("add", "002", "--quote", "landmark summit", "--theme", "returns", str(SEEDS))
    assert ok("doctor", str(SEEDS)) == (
        "Checked 1 annotation: 0 re-anchored, 0 newly orphaned, 0 orphans found again.\n"
        "0 problems.\n")


def test_doctor_reanchors_and_orphans(corpus_copy: Path) -> None:
    path = corpus_copy / "002_3f54934f788c0788.txt"
    moved = added_id(ok("add", "002", "--quote", "landmark summit", str(corpus_copy)))
    doomed = added_id(ok("add", "002", "--quote", "Concrete outcomes have been agreed",
                         "--note", "keep this", str(corpus_copy)))
    text = path.read_text(encoding="utf-8")
    path.write_text("A new opening line.\n\n" + text.replace(
        "Concrete outcomes have been agreed", "Nothing whatsoever resembling it"),
        encoding="utf-8")
    result = run("doctor", str(corpus_copy))
    assert result.exit_code == 1
    new_start = 21 + text.index("landmark summit")
    old_doomed = text.index("Concrete outcomes")
    assert result.stdout.splitlines() == [
        "Checked 2 annotations: 1 re-anchored, 1 newly orphaned, 0 orphans found again.",
        f"Re-anchored {moved}: 002 [120, 135) -> [{new_start}, {new_start + 15})",
        f'Problem: {doomed}: orphaned in 002: quote "Concrete outcomes have been agreed" '
        f"no longer found (was at [{old_doomed}, {old_doomed + 34}))",
        "1 problem.",
    ]
    history = json.loads(ok("history", "--json"))["history"]
    assert [(h["annotation"], h["action"], h["user"]) for h in history[2:]] == [
        (moved, "reanchor", "tester"), (doomed, "orphan", "tester")]
    # The orphan is still there, with its note, and can be listed.
    data = json.loads(ok("list", "--json", "--status", "orphaned"))
    assert [(a["id"], a["note"]) for a in data["annotations"]] == [(doomed, "keep this")]
    assert f"{doomed}  002" in ok("list") and "orphaned" in ok("list")
    report = json.loads(run("doctor", "--json", str(corpus_copy)).stdout)
    assert report["reanchored"] == [] and len(report["problems"]) == 1


def test_doctor_unknown_document_and_theme(corpus_copy: Path, tmp_path: Path) -> None:
    a = added_id(ok("add", "001", "--span", "0:3", "--theme", "returns", str(SEEDS)))
    b = added_id(ok("add", "002", "--span", "0:3", "--theme", "funding", str(SEEDS)))
    (corpus_copy / "001_457ecf35022a8bc8.txt").unlink()
    # Its corpus.toml entry goes too: an entry describing no file is an error of its own.
    toml = corpus_copy / "corpus.toml"
    blocks = toml.read_text(encoding="utf-8").split("[[document]]")
    toml.write_text("[[document]]".join(b for b in blocks if "001_457ecf35022a8bc8" not in b),
                    encoding="utf-8")
    cb = tmp_path / "cb.toml"
    cb.write_text('[meta]\nname = "tiny"\n\n[[theme]]\nid = "returns"\nlabel = "R"\n'
                  'patterns = ["return"]\n', encoding="utf-8")
    result = run("doctor", "--codebook", str(cb), str(corpus_copy))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        f"Problem: {a}: unknown document '001'",
        f"Problem: {b}: unknown theme 'funding'",
        "2 problems.",
    ]


def test_doctor_reports_out_of_range_offsets(monkeypatch: pytest.MonkeyPatch,
                                             corpus_copy: Path) -> None:
    from annotate.store import ReanchorReport

    ok("add", "002", "--span", f"{len(TEXT_002) - 5}:{len(TEXT_002)}", str(corpus_copy))
    path = corpus_copy / "002_3f54934f788c0788.txt"
    path.write_text(TEXT_002[:100], encoding="utf-8")
    # Without re-anchoring (as if another process changed the annotation meanwhile).
    monkeypatch.setattr(Store, "reanchor",
                        lambda self, corpus, user: ReanchorReport(checked=1))
    result = run("doctor", str(corpus_copy))
    assert result.exit_code == 1
    assert "out of range for 002 (100 characters)" in result.stdout


def test_doctor_notes_missing_codebook(tmp_path: Path) -> None:
    ok("add", "002", "--span", "0:3", "--theme", "returns", str(SEEDS))
    missing = tmp_path / "none.toml"
    out = ok("doctor", "--codebook", str(missing), str(SEEDS))
    assert f"Note: no codebook at {missing}: themes not checked" in out


def test_every_command_has_help() -> None:
    for cmd in ("add", "list", "remove", "note", "accept", "reject", "undo", "redo",
                "history", "suggest", "doctor"):
        out = ok(cmd, "--help")
        assert "--store" in out and len(out.splitlines()) > 3

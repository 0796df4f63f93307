"""The annotation commands never lose or endanger work: another annotator's note is not
replaced unseen, stale versions are refused, only regular files are stores, a newer store is
refused, read-only folders are read, damaged stores are reported, undone suggestions are gone,
and text from users reaches the terminal with its control characters made visible."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from annotate.store import Store
from tests.conftest import SEEDS
from tests.test_cli_annotations import added_id, error, ok, run, store
from tests.test_store_safety import damage, readonly_folder, run_readonly, shared_tmp

__all__ = ["shared_tmp"]  # a fixture, used by name


def version_of(ann_id: str) -> int:
    data = json.loads(ok("list", "--json"))
    return int(next(a["version"] for a in data["annotations"] if a["id"] == ann_id))


# --- two annotators --------------------------------------------------------------------------


def test_note_does_not_replace_another_annotators_note_unasked() -> None:
    a = added_id(ok("add", "002", "--span", "0:3", str(SEEDS)))
    ok("note", a, "my own words")
    ok("note", a, "my own words, revised")  # one's own note: replaced as before
    ok("note", a, "bob's reading", "--user", "bob", "--force")
    assert version_of(a) == 4
    assert error("note", a, "mine again") == (
        f'Error: the note of {a} was written by bob: "bob\'s reading" (version 4); '
        "to replace it, say so: --expect-version 4 (or --force)")
    with store() as s:
        assert s.get(a).note == "bob's reading"
    assert ok("note", a, "after reading bob's", "--expect-version", "4") == (
        f'Noted {a} (version 5): "after reading bob\'s"\n')


def test_a_stale_expect_version_changes_nothing_and_says_what_is_there() -> None:
    a = added_id(ok("add", "002", "--span", "0:3", "--note", "v1", str(SEEDS)))
    ok("note", a, "bob's", "--user", "bob", "--expect-version", "1")
    ok("reject", a, "--user", "bob")
    for cmd in (["note", a, "alice's", "--expect-version", "1"],
                ["accept", a, "--expect-version", "1"],
                ["remove", a, "--expect-version", "2"]):
        assert error(*cmd) == (
            f"Error: annotation {a} changed since version {cmd[-1]}: it is now version 3 "
            "by bob (rejected; no themes; note \"bob's\"); nothing was changed. Retry with "
            "--expect-version 3 to change that version")
    with store() as s:
        got = s.get(a)
        assert (got.note, got.status, got.version) == ("bob's", "rejected", 3)
    assert ok("accept", a, "--expect-version", "3").startswith(f"Accepted {a}")
    ok("remove", a, "--user", "bob")
    assert error("note", a, "late", "--expect-version", "4") == (
        f"Error: annotation {a} was removed by bob after version 4; nothing was changed")


# --- store files -----------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [["list"], ["note", "x", "y"], ["history"]])
def test_a_device_as_store_is_refused(cmd: list[str]) -> None:
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null here")
    assert error(*cmd, "--store", "/dev/null") == (
        "Error: /dev/null: not a regular file; --store wants a database file")
    assert not os.path.exists("/dev/null-journal")


def test_a_fifo_as_store_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "store.fifo"
    os.mkfifo(fifo)
    assert error("add", "002", "--span", "0:3", str(SEEDS), "--store", str(fifo)) == (
        f"Error: {fifo}: not a regular file; --store wants a database file")
    assert [p.name for p in tmp_path.iterdir()] == ["store.fifo"]


def test_a_store_from_a_newer_annotate(tmp_path: Path) -> None:
    a = added_id(ok("add", "002", "--span", "0:3", "--note", "kept", str(SEEDS)))
    path = Path(os.environ["ANNOTATE_STORE"])
    db = sqlite3.connect(path)
    db.execute("INSERT INTO migrations VALUES ('m099_sharded_history', '2030-01-01')")
    db.commit()
    db.close()
    message = ("Error: this store was written by a newer annotate (migration "
               "m099_sharded_history); upgrade annotate to use it.")
    assert error("note", a, "changed") == message
    assert error("undo") == message
    assert error("add", "002", "--span", "4:9", str(SEEDS)) == message
    # Reading still works where the schema allows it.
    assert json.loads(ok("list", "--json"))["annotations"][0]["note"] == "kept"
    assert f"add      {a}" in ok("history")
    # So do the commands that only read the store: export, report and agree.
    out = path.parent / "newer.xml"
    ok("export", str(SEEDS), "--no-reuse", "--out", str(out))
    assert "kept" in out.read_text(encoding="utf-8")
    ok("report", str(SEEDS), "--no-reuse", "--out", str(path.parent / "report"))
    assert "kept" in (path.parent / "report" / "docs" / "002.html").read_text(encoding="utf-8")


def test_list_and_history_without_a_store_create_none(tmp_path: Path) -> None:
    path = tmp_path / "nothing" / "here.sqlite"
    assert ok("list", "--store", str(path)) == "No annotations.\n"
    assert ok("history", "--store", str(path)) == "No history.\n"
    assert not path.parent.exists()


def test_read_commands_work_in_a_read_only_folder(shared_tmp: Path) -> None:
    path = readonly_folder(shared_tmp)
    cli = [sys.executable, "-m", "annotate"]
    env_store = ["--store", str(path)]
    try:
        listed = run_readonly([*cli, "list", "--json", *env_store], path.parent)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["annotations"][0]["note"] == "readable"
        hist = run_readonly([*cli, "history", *env_store], path.parent)
        assert hist.returncode == 0 and " add " in hist.stdout, hist.stderr
        out = shared_tmp / "export.xml"
        exported = run_readonly([*cli, "export", str(SEEDS), "--out", str(out), "--no-reuse",
                                 *env_store], path.parent)
        assert exported.returncode == 0, exported.stderr
        assert "readable" in out.read_text(encoding="utf-8")
        doctor = run_readonly([*cli, "doctor", str(SEEDS), *env_store], path.parent)
        assert doctor.returncode == 1, doctor.stderr  # its document d1 is not in the seeds
        assert "Problem: " in doctor.stdout and doctor.stderr == ""
        assert f"Note: the store is read-only (its folder {path.parent} is not writable)" \
            in doctor.stdout
        ann = json.loads(listed.stdout)["annotations"][0]["id"]
        wrote = run_readonly([*cli, "note", ann, "x", "--user", "u", *env_store],
                             path.parent)
        assert wrote.returncode == 1
        assert wrote.stderr == (
            f"Error: {path}: the store is read-only (its folder {path.parent} is not "
            "writable); nothing was changed\n")
        assert sorted(p.name for p in path.parent.iterdir()) == ["s.sqlite"]
    finally:
        path.parent.chmod(0o755)


# --- doctor ----------------------------------------------------------------------------------


def test_doctor_reports_a_damaged_store() -> None:
    for i in range(60):
        ok("add", "002", "--span", f"{i}:{i + 40}", "--note", "x" * 300, str(SEEDS))
    path = Path(os.environ["ANNOTATE_STORE"])
    with Store.open(path) as s:
        assert s.integrity_check() == "ok"
    damage(path)
    result = run("doctor", str(SEEDS))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Problem: the store {path} is damaged (SQLite's integrity check: ")
    assert lines[1].startswith("What to do: keep a copy of the file as it is")
    assert f"sqlite3 {path} .recover | sqlite3 recovered.sqlite" in lines[1]
    assert lines[-1] == "1 problem."


def test_doctor_on_a_sound_store_says_so() -> None:
    ok("add", "002", "--span", "0:3", str(SEEDS))
    assert ok("doctor", str(SEEDS)).splitlines()[-1] == "0 problems."


# --- suggest and undo ------------------------------------------------------------------------


def test_undone_suggestions_are_gone_not_rejected() -> None:
    first = ok("suggest", str(SEEDS))
    count = int(first.split()[1])
    assert count > 10
    assert ok("undo").startswith(f"Undid {count} actions")
    assert ok("suggest", str(SEEDS)) == first
    with store() as s:
        assert len(s.list(status="suggested")) == count


# --- what reaches the terminal ------------------------------------------------------------------


def test_control_characters_from_users_are_shown_visibly() -> None:
    a = added_id(ok("add", "002", "--span", "0:3", str(SEEDS), "--user", "ev\x1b]0;pwned\x07il"))
    ok("note", a, "clip \x1b]52;c;ZXZpbA==\x07 board", "--user", "ev\x1b]0;pwned\x07il")
    outputs = [ok("list"), ok("history"), ok("history", a),
               ok("note", a, "\x1b[2Jcleared", "--force")]
    for out in outputs:
        assert "\x1b" not in out and "\x07" not in out
    assert "␛]52;c;ZXZpbA==␇ board" in outputs[0]
    assert "ev␛]0;pwned␇il" in outputs[1]
    assert outputs[3] == f'Noted {a} (version 3): "␛[2Jcleared"\n'
    # The stored text is exact; JSON carries it escaped.
    with store() as s:
        assert s.get(a).note == "\x1b[2Jcleared"

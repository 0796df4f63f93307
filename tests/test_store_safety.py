"""The store never loses or endangers work: versions (optimistic concurrency), store files that
are not regular files, stores written by a newer annotate, read-only folders, damaged files,
note drafts, and undone suggestions."""

from __future__ import annotations

import gc
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from annotate.errors import StoreError
from annotate.model import Document, Metadata
from annotate.store import ConflictError, Draft, NewerStoreError, Store

TEXT = "Leaders met in London to agree action on organised immigration crime. " * 4
DOC = Document(path=Path("d1.txt"), text=TEXT, meta=Metadata(id="d1"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "s.sqlite") as s:
        yield s


# --- versions ------------------------------------------------------------------------------


def test_every_change_bumps_the_version(store: Store) -> None:
    a = store.add(DOC, 0, 7, themes=["t"], user="alice")
    assert a.version == 1
    assert store.set_note(a.id, "one", user="alice").version == 2
    assert store.set_themes(a.id, ["t", "u"], user="alice").version == 3
    assert store.set_status(a.id, "rejected", user="alice").version == 4
    store.undo("alice")
    assert store.get(a.id).version == 5
    assert store.list()[0].version == 5


def test_a_change_on_an_old_version_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path) as alice, Store.open(path) as bob:
        a = alice.add(DOC, 0, 7, note="first", user="alice")
        shown = alice.get(a.id)  # what alice's editor shows
        bob.set_note(a.id, "bob's words", user="bob", expect=shown.version)
        with pytest.raises(ConflictError) as e:
            alice.set_note(a.id, "alice's words", user="alice", expect=shown.version)
        assert e.value.by == "bob" and e.value.expected == 1
        assert e.value.current.note == "bob's words" and e.value.current.version == 2
        assert str(e.value) == (f"annotation {a.id} was changed meanwhile: bob changed it "
                                "(now version 2), you had version 1; nothing was overwritten")
        for change in (lambda: alice.set_themes(a.id, ["x"], user="alice", expect=1),
                       lambda: alice.set_status(a.id, "rejected", user="alice", expect=1),
                       lambda: alice.remove(a.id, user="alice", expect=1)):
            with pytest.raises(ConflictError):
                change()
        now = alice.get(a.id)
        assert (now.note, now.themes, now.status, now.version) == ("bob's words", (),
                                                                    "accepted", 2)
        # Decided on the version now shown: it goes through.
        assert alice.set_note(a.id, "merged", user="alice", expect=2).version == 3
        assert alice.undo_depth("alice") == 2  # the refused changes left no undo entries


def test_a_removed_annotation_is_a_conflict_for_its_old_version(store: Store) -> None:
    a = store.add(DOC, 0, 7, user="alice")
    store.remove(a.id, user="bob")
    with pytest.raises(ConflictError) as e:
        store.set_note(a.id, "late", user="alice", expect=1)
    assert e.value.removed and "bob removed it" in str(e.value)


def test_history_records_the_version_each_change_made(store: Store, tmp_path: Path) -> None:
    a = store.add(DOC, 0, 7, user="alice")
    store.set_note(a.id, "x", user="alice")
    store.set_note(a.id, "y", user="bob")
    db = sqlite3.connect(tmp_path / "s.sqlite")
    rows = db.execute("SELECT action, version FROM history ORDER BY id").fetchall()
    db.close()
    assert rows == [("add", 1), ("note", 2), ("note", 3)]
    assert store.field_author(a.id, "note") == "bob"
    assert store.field_author(a.id, "status") == "alice"  # set when she added it
    assert store.field_author(a.id, "colour") is None


# --- watching for other writers --------------------------------------------------------------


def test_data_version_and_changes_since_see_only_other_connections(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path) as editor, Store.open(path) as other:
        a = editor.add(DOC, 0, 7, user="alice")
        seen = editor.data_version()
        mark = editor.last_change_id()
        editor.set_note(a.id, "mine", user="alice")
        assert editor.data_version() == seen  # its own commits do not count
        mine = editor.changes_since(mark)
        assert mine.changes == () and mine.last == mark + 1 and not mine.more
        other.set_note(a.id, "theirs", user="bob")
        assert editor.data_version() != seen
        since = editor.changes_since(mine.last)
        [change] = since.changes
        assert (change.user, change.action, change.annotation) == ("bob", "note", a.id)
        assert since.last == mark + 2
        assert editor.changes_since(0, limit=1).more


# --- store files ---------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_a_device_is_not_a_store(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    with pytest.raises(StoreError, match="not a regular file"):
        Store.open(Path(device))
    assert not os.path.exists(device + "-journal")
    assert not os.path.exists(device + "-wal")


def test_a_fifo_is_not_a_store(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a regular file"):
        Store.open(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]


def test_a_symlink_to_a_store_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.sqlite"
    with Store.open(real) as s:
        s.add(DOC, 0, 7, user="u")
    link = tmp_path / "link.sqlite"
    link.symlink_to(real)
    with Store.open(link) as s:
        assert len(s.list()) == 1


def _record_migration(path: Path, name: str) -> None:
    db = sqlite3.connect(path)
    db.execute("INSERT INTO migrations VALUES (?, '2030-01-01')", (name,))
    db.commit()
    db.close()


def test_a_store_from_a_newer_annotate_is_refused_for_writing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path) as s:
        a = s.add(DOC, 0, 7, note="kept", user="u")
    _record_migration(path, "m099_future")
    with pytest.raises(NewerStoreError) as e:
        Store.open(path)
    assert str(e.value) == ("this store was written by a newer annotate (migration "
                            "m099_future); upgrade annotate to use it.")
    with Store.open(path, readonly=True) as s:  # reading still works: the schema allows it
        assert s.get(a.id).note == "kept"
        with pytest.raises(StoreError, match="read-only"):
            s.set_note(a.id, "no", user="u")


def test_reading_an_old_store_read_only_does_not_upgrade_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with Store.open(path) as s:
        a = s.add(DOC, 0, 7, note="old", user="u")
    db = sqlite3.connect(path)  # back to the schema before versions and drafts
    db.execute("ALTER TABLE annotations DROP COLUMN version")
    db.execute("ALTER TABLE history DROP COLUMN version")
    db.execute("DROP TABLE note_drafts")
    db.execute("DELETE FROM migrations WHERE name IN ('m006_versions', 'm007_note_drafts')")
    db.commit()
    db.close()
    with Store.open(path, readonly=True) as s:
        assert s.get(a.id).note == "old" and s.get(a.id).version == 1
        assert s.drafts("u") == []
        assert "m006_versions" not in s.migrations()
    with Store.open(path) as s:  # opened for writing, it is upgraded
        assert s.migrations()[-2:] == ["m006_versions", "m007_note_drafts"]


def test_readonly_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no annotation store at"):
        Store.open(tmp_path / "none.sqlite", readonly=True)
    assert not (tmp_path / "none.sqlite").exists()


READ_ONLY_CHILD = """
import sys
from pathlib import Path
from annotate.store import Store
with Store.open(Path(sys.argv[1])) as s:
    print(s.readonly)
    print(";".join(a.note for a in s.list()))
    try:
        s.set_note(s.list()[0].id, "changed", user="u")
    except Exception as e:
        print(type(e).__name__, e)
"""


_MOUNT_RO = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'


def run_readonly(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Run `args` where `folder` cannot be written. An ordinary user is stopped by the
    folder's mode (0555); root ignores modes, so as root the folder is made a read-only bind
    mount in a private mount namespace (`unshare -m`), or the command runs as `nobody`
    (setpriv); where neither works the test is skipped rather than pretending."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def attempt(prefix: list[str], probe: list[str]) -> bool:
        try:
            return subprocess.run([*prefix, *probe], capture_output=True, env=env,
                                  timeout=30).returncode == 0
        except OSError:
            return False

    prefix: list[str] = []
    if os.geteuid() == 0:
        unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
        mount = [unshare or "unshare", "-m", "sh", "-c", _MOUNT_RO, "sh", str(folder)]
        nobody = [setpriv or "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if unshare and attempt(mount, ["sh", "-c", f"! touch {folder}/probe 2>/dev/null"]):
            prefix = mount
        elif setpriv and attempt(nobody, [sys.executable, "-c", "pass"]):
            prefix = nobody
        else:
            pytest.skip("running as root, and neither a read-only bind mount (unshare -m) "
                        "nor an unprivileged user (setpriv) is available: a read-only "
                        "folder cannot be made read-only for root")
    return subprocess.run([*prefix, *args], cwd=folder.parent, capture_output=True,
                          text=True, env=env, timeout=60)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another user can reach (pytest's own tmp_path is private to its user)."""
    base = Path(tempfile.mkdtemp(prefix="annotate-ro-"))
    base.chmod(0o755)
    yield base
    for p in base.rglob("*"):
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(base, ignore_errors=True)


def readonly_folder(base: Path) -> Path:
    """A store (cleanly closed, WAL mode) in a folder made read-only, world-readable."""
    folder = base / "project"
    folder.mkdir(parents=True)
    path = folder / "s.sqlite"
    with Store.open(path) as s:
        s.add(DOC, 0, 7, note="readable", user="u")
    for p in (base, folder):
        p.chmod(0o755)
    path.chmod(0o644)
    if os.geteuid() == 0:
        for p in (base, folder, path):
            os.chown(p, 65534, 65534)  # the store belongs to the unprivileged user
    folder.chmod(0o555)
    return path


def test_a_store_in_a_read_only_folder_is_read(shared_tmp: Path) -> None:
    path = readonly_folder(shared_tmp)
    try:
        out = run_readonly([sys.executable, "-c", READ_ONLY_CHILD, str(path)], path.parent)
        lines = out.stdout.splitlines()
        assert out.returncode == 0, out.stderr
        assert lines[0] == f"its folder {path.parent} is not writable"
        assert lines[1] == "readable"
        assert lines[2].startswith("StoreError") and "read-only" in lines[2]
        assert sorted(p.name for p in path.parent.iterdir()) == ["s.sqlite"]
    finally:
        path.parent.chmod(0o755)


def test_a_read_only_wal_with_changes_is_not_read_stale(shared_tmp: Path) -> None:
    path = readonly_folder(shared_tmp)
    wal = path.parent / "s.sqlite-wal"
    path.parent.chmod(0o755)
    wal.write_bytes(b"x" * 100)  # a log with changes not yet in the main file
    if os.geteuid() == 0:
        os.chown(wal, 65534, 65534)
    path.parent.chmod(0o555)
    try:
        out = run_readonly([sys.executable, "-c", READ_ONLY_CHILD, str(path)], path.parent)
        assert out.returncode != 0
        assert "holds recent changes" in out.stderr
    finally:
        path.parent.chmod(0o755)


# --- damaged stores ---------------------------------------------------------------------------


def damage(path: Path) -> None:
    """Scribble over the pages after the schema, as a failing disk would."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        for page in range(2, size // 4096):
            f.seek(page * 4096 + 8)
            f.write(b"\xff" * 64)


def test_integrity_check_finds_a_damaged_store(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path) as s:
        for i in range(200):
            s.add(DOC, i % 50, i % 50 + 5, note=f"n{i}" * 20, user="u")
        assert s.integrity_check() == "ok"
    damage(path)
    try:
        s = Store.open(path)
    except StoreError as e:
        assert "annotate doctor" in str(e)
        return
    with s:
        assert s.integrity_check() != "ok"


# --- drafts and undone suggestions ------------------------------------------------------------


def test_drafts_are_kept_apart_from_notes(store: Store) -> None:
    a = store.add(DOC, 0, 7, note="saved", user="alice")
    draft = Draft(user="alice", doc="d1", start=0, end=7, text="half-writ", cursor=4,
                  annotation=a.id, base_version=1)
    store.save_draft(draft)
    store.save_draft(Draft(user="alice", doc="d1", start=8, end=12, text="new one"))
    assert store.get(a.id).note == "saved"
    got = store.drafts("alice")
    assert {d.target for d in got} == {a.id, "d1:8:12"}
    mine = next(d for d in got if d.annotation == a.id)
    assert (mine.text, mine.cursor, mine.base_version) == ("half-writ", 4, 1)
    assert store.drafts("bob") == []
    store.discard_draft("alice", a.id)
    assert [d.target for d in store.drafts("alice")] == ["d1:8:12"]
    assert store.history(a.id)[-1].action == "add"  # drafts are not history


def test_undone_adds_are_gone_removed_ones_are_not(store: Store) -> None:
    kept = store.add(DOC, 0, 7, user="u", status="suggested")
    store.remove(kept.id, user="u")  # discarded by a user
    undone = store.add(DOC, 8, 12, user="u", status="suggested")
    store.undo("u")
    assert store.undone_adds() == {undone.id}
    store.redo("u")
    assert store.undone_adds() == set()


def test_undo_never_overwrites_another_annotators_later_edit(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path) as alice, Store.open(path) as bob:
        a = alice.add(DOC, 0, 7, user="alice")
        alice.set_note(a.id, "alice's", user="alice")
        alice.set_themes(a.id, ["t"], user="alice")
        bob.set_note(a.id, "bob's", user="bob")
        # Her themes go back; the note she wrote, since rewritten by bob, stays his.
        assert alice.undo("alice") == f"undid themes of {a.id}"
        assert alice.undo("alice") == (f"undid note on {a.id}; kept as others changed it "
                                       f"since: {a.id} (bob changed its note)")
        assert alice.get(a.id).note == "bob's" and alice.get(a.id).themes == ()
        # Undoing her add would hide what bob did to it since: it stays.
        assert alice.undo("alice") == (f"undid add {a.id}; kept as others changed it since: "
                                       f"{a.id} (bob changed it)")
        assert alice.get(a.id).note == "bob's"
        assert alice.undo("alice") is None


def test_a_socket_is_not_a_store(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(StoreError, match="not a regular file"):
            Store.open(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sock"]


# --- the concurrency rule as a property ------------------------------------------------------

ACTORS = ("ann", "bob", "cat")


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.tuples(hs.sampled_from(ACTORS), hs.sampled_from(["look", "note", "theme"]),
                          hs.integers(0, 99)), max_size=30))
def test_a_change_succeeds_exactly_when_made_on_the_current_version(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, str, int]]
) -> None:
    """Three annotators each act on the version they last looked at: a change goes through
    exactly when nobody changed the annotation since, and then replaces what they saw."""
    path = tmp_path_factory.mktemp("prop") / "s.sqlite"
    with Store.open(path) as s:
        a = s.add(DOC, 0, 7, user="setup")
        seen = dict.fromkeys(ACTORS, a)
        for actor, op, n in steps:
            current = s.get(a.id)
            shown = seen[actor]
            if op == "look":
                seen[actor] = current
                continue
            try:
                if op == "note":
                    done = s.set_note(a.id, f"{actor}{n}", user=actor, expect=shown.version)
                else:
                    done = s.set_themes(a.id, [f"t{n}"], user=actor, expect=shown.version)
            except ConflictError as e:
                assert shown.version != current.version
                assert e.current == current and s.get(a.id) == current
                continue
            assert shown.version == current.version
            if done.version != current.version:  # something changed: one version on
                assert done.version == current.version + 1
                last = s.history(a.id)[-1]
                field = "note" if op == "note" else "themes"
                old = shown.note if op == "note" else list(shown.themes)
                assert json.loads(last.detail)[field][0] == old
            seen[actor] = done
        assert s.integrity_check() == "ok"


def test_a_damaged_store_opened_read_only_is_reported_as_damaged(tmp_path: Path) -> None:
    # A store in a folder annotate may not write is opened read-only: `annotate doctor` must
    # still learn that the file is damaged (not only that it is unusable), to say what to do.
    from annotate.store import DamagedStoreError

    path = tmp_path / "s.sqlite"
    with Store.open(path) as s:
        for i in range(200):
            s.add(DOC, i % 50, i % 50 + 5, note=f"n{i}" * 20, user="u")
    with path.open("r+b") as f:  # the schema's page scribbled over: it no longer opens
        f.seek(100)
        f.write(b"\xff" * 3000)
    with pytest.raises(DamagedStoreError):
        Store._open_readonly(path, "its folder is not writable").close()
    # Nothing left open for the garbage collector (Python 3.13 warns of an unclosed
    # database, and the warning is an error here).
    gc.collect()

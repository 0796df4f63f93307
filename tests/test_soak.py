"""Soak: four writer processes and two editors in real terminals (tmux) work on the same few
annotations of one store for a while (ANNOTATE_SOAK_SECONDS, default 40). At the end every
acknowledged action is in the store, no change was made on a version someone else had
already changed (nothing silently overwritten), and SQLite's integrity check passes."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from annotate.corpus import load_corpus
from annotate.store import Store
from tests.test_tui_terminal import ANNOTATE, ROOT, SEEDS, Terminal, pytestmark

__all__ = ["pytestmark"]  # skipped without tmux

SECONDS = float(os.environ.get("ANNOTATE_SOAK_SECONDS", "40"))
SENTENCES = 6

# A writer prints one JSON line per change only after the store has committed it.
WRITER = textwrap.dedent(
    """
    import json, random, sys, time
    from pathlib import Path
    from annotate.store import ConflictError, Store

    path, user, seconds, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    statuses = ["accepted", "rejected", "suggested"]
    with Store.open(Path(path)) as s:
        ids = [a.id for a in s.list()]
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.readline()
        deadline = time.monotonic() + seconds
        i = conflicts = 0
        while time.monotonic() < deadline:
            ann = s.get(rng.choice(ids))  # what this annotator sees
            kind = rng.choice(["note", "note", "themes", "status"])
            try:
                if kind == "note":
                    new = f"{user}-{i}"
                    done = s.set_note(ann.id, new, user=user, expect=ann.version)
                    old = ann.note
                elif kind == "themes":
                    new = rng.sample(["border", "smuggling", "cooperation"], rng.randint(1, 2))
                    done = s.set_themes(ann.id, new, user=user, expect=ann.version)
                    old = list(ann.themes)
                else:
                    new = rng.choice([x for x in statuses if x != ann.status])
                    done = s.set_status(ann.id, new, user=user, expect=ann.version)
                    old = ann.status
            except ConflictError:
                conflicts += 1
                continue
            if done.version == ann.version:
                continue  # the same value again: nothing to change, nothing written
            print(json.dumps({"id": ann.id, "field": kind, "old": old, "new": new,
                              "before": ann.version, "after": done.version}), flush=True)
            i += 1
            time.sleep(rng.uniform(0.005, 0.04))
        print(json.dumps({"conflicts": conflicts}), flush=True)
    """
)

CODEBOOK = """\
[meta]
name = "soak"

[[theme]]
id = "border"
label = "Border security"
patterns = ["border*"]

[[theme]]
id = "smuggling"
label = "Smuggling"
patterns = ["smuggl*"]

[[theme]]
id = "cooperation"
label = "Cooperation"
patterns = ["cooperat*"]
"""


def editor_session(user: str, store: Path, codebook: Path) -> Terminal:
    env = {"ANNOTATE_STORE": str(store), "ANNOTATE_USER": user, "TERM": "xterm-256color"}
    return Terminal([*ANNOTATE, "edit", "002", str(SEEDS), "--codebook", str(codebook)], env)


THEIRS = re.compile(r"Theirs \(.*?version \d+\)")


def mode_of(screen: str) -> str:
    if "Changed by someone else meanwhile" in screen:
        return "conflict"
    if "Ctrl-S saves" in screen:
        return "note"
    return "normal"


def note_text(screen: str) -> str:
    """The text in the note editor's frame, its soft-wrapped lines joined again."""
    lines = screen.splitlines()
    top = next((i for i, ln in enumerate(lines) if "Ctrl-S saves" in ln), None)
    if top is None:
        return ""
    left, right = lines[top].index("│"), lines[top].rindex("│")
    out = []
    for ln in lines[top + 1 :]:
        if len(ln) <= left or ln[left] != "│":
            break
        out.append(ln[left + 1 : right].ljust(right - left - 1))
    return "".join(out)


def edit_note(t: Terminal, sentence: int, tag: str) -> str:
    """Append `tag` to the note of the annotation on `sentence`: "saved" (no conflict),
    "mine" (saved over another's change after the conflict view showed it) or "theirs"."""
    t.keys("g", *([")"] * sentence))
    t.keys("n")
    t.wait_for(lambda s: mode_of(s) == "note", timeout=15)
    t.keys(f" {tag}", literal=True)
    t.wait_for(lambda s: tag in note_text(s))
    t.keys("C-s")
    screen = t.wait_for(lambda s: mode_of(s) in ("normal", "conflict"), timeout=15)
    for attempt in range(6):
        if mode_of(screen) == "normal":
            return "mine" if attempt else "saved"
        m = THEIRS.search(screen)
        shown = m.group() if m else ""

        def settled(s: str, shown: str = shown) -> bool:
            # Back to normal, or a new conflict (over a newer version): never a stale screen.
            if mode_of(s) == "normal":
                return True
            m = THEIRS.search(s)
            return mode_of(s) == "conflict" and m is not None and m.group() != shown

        t.keys("m" if attempt < 5 else "t")  # keep mine (if still unchanged), at last theirs
        screen = t.wait_for(settled, timeout=15)
    return "theirs"


def test_four_writers_and_two_editors(tmp_path: Path) -> None:
    store_path = tmp_path / "soak.sqlite"
    codebook = tmp_path / "themes.toml"
    codebook.write_text(CODEBOOK, encoding="utf-8")
    doc = load_corpus([SEEDS]).get("002")
    with Store.open(store_path) as s:
        for k in range(SENTENCES):
            sent = doc.sentences[k]
            s.add(doc, sent.start, sent.end, themes=["border"], note="start", user="setup")

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store_path), f"w{n}", str(SECONDS),
                          str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        for n in range(4)
    ]
    editors = {f"ed{n}": editor_session(f"ed{n}", store_path, codebook) for n in (1, 2)}
    saved: dict[str, list[tuple[str, str]]] = {user: [] for user in editors}
    try:
        for t in editors.values():
            t.wait_for("p1.s1", timeout=30)
        for w in writers:
            assert w.stdout is not None and json.loads(w.stdout.readline()) == {"ready": True}
        for w in writers:
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        rng = random.Random(7)
        deadline = time.monotonic() + SECONDS
        step = 0
        while time.monotonic() < deadline:
            for user, t in editors.items():
                sentence = rng.randrange(SENTENCES)
                tag = f"{user}-{step}-{uuid.uuid4().hex[:4]}"
                outcome = edit_note(t, sentence, tag)
                if outcome != "theirs":
                    saved[user].append((outcome, tag))
            step += 1
        outs = [w.communicate(timeout=120) for w in writers]
        for t in editors.values():
            t.keys("q")
            t.wait_for(lambda s, t=t: t.dead(), timeout=20)  # type: ignore[misc]
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
            w.communicate()  # reaped, its pipes closed
        for t in editors.values():
            t.close()

    for w, (_, err) in zip(writers, outs, strict=True):
        assert w.returncode == 0, err
    acks = [json.loads(line) for out, _ in outs for line in out.splitlines()]
    conflicts = sum(a["conflicts"] for a in acks if "conflicts" in a)
    acks = [a for a in acks if "id" in a]
    assert len(acks) > 100 and conflicts > 0  # they really raced for the same annotations
    assert all(saved.values()), saved  # each editor saved notes

    print(f"soak {SECONDS:.0f} s: {len(acks)} writer changes acknowledged, {conflicts} refused "
          f"as conflicts; editor notes saved: "
          + ", ".join(f"{u} {len(n)} ({sum(o == 'mine' for o, _ in n)} after a conflict)"
                      for u, n in saved.items()))
    db = _history_rows(store_path)
    with Store.open(store_path) as s:
        assert s.integrity_check() == "ok"
        anns = {a.id: a for a in s.list()}
    # Versions per annotation: one change each, no gaps, none twice.
    by_ann: dict[str, dict[int, tuple[str, str, dict[str, list[object]]]]] = {}
    for ann, user, action, detail, version in db:
        by_ann.setdefault(ann, {})
        assert version not in by_ann[ann], (ann, version)
        by_ann[ann][version] = (user, action, json.loads(detail))
    for ann, versions in by_ann.items():
        assert sorted(versions) == list(range(1, anns[ann].version + 1))
    # Every acknowledged writer change is there, made on exactly the version it was shown.
    for a in acks:
        user, action, detail = by_ann[a["id"]][a["after"]]
        assert a["after"] == a["before"] + 1
        field = {"note": "note", "themes": "themes", "status": "status"}[a["field"]]
        assert detail[field] == [a["old"], a["new"]], (a, detail)
    # Every note an editor saved is there, appended to the note it was shown.
    for user, notes in saved.items():
        written = [d["note"] for versions in by_ann.values() for u, act, d in versions.values()
                   if u == user and "note" in d]
        for outcome, tag in notes:
            [(old, new)] = [(o, n) for o, n in written if n.endswith(f" {tag}")]
            if outcome == "saved":
                # Shown X, typed " tag": saved over exactly X, the note it had shown.
                assert new == f"{old} {tag}"
            # "mine": kept over the version the conflict view showed (checked by version).


def _history_rows(path: Path) -> list[tuple[str, str, str, str, int]]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return [tuple(r) for r in db.execute(  # type: ignore[misc]
            "SELECT annotation, user, action, detail, version FROM history "
            "WHERE version IS NOT NULL ORDER BY id")]
    finally:
        db.close()


if not SECONDS:
    pytest.skip("ANNOTATE_SOAK_SECONDS=0", allow_module_level=True)

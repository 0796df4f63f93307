"""Provenance of suggestions: the store keeps where a suggestion came from (the codebook, who
ran it, the pattern and words) after it is accepted or rejected, a migration fills it in for
stores made before, and the editor's pane shows it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from annotate.corpus import load_corpus
from annotate.store import MIGRATIONS, Store, migration_name
from annotate.themes import load_codebook
from annotate.tui.state import EditorState
from tests.test_tui import SEEDS, run, sentence
from tests.test_tui_features import pane, screen


def test_accepted_suggestion_keeps_its_provenance(tmp_path: Path) -> None:
    corpus = load_corpus([SEEDS])
    doc = corpus.get("002")
    with Store.open(tmp_path / "s.sqlite") as s:
        hand = s.add(doc, *sentence(doc, 0), themes=["t"], user="ann")
        sug = s.add(doc, *sentence(doc, 1), themes=["t"], user="bot", status="suggested",
                    evidence=[("t", "border*", "border security")])
        assert s.provenance(hand.id) is None
        p = s.provenance(sug.id)
        assert p is not None and (p.source, p.suggested_by, p.decision) == ("codebook", "bot", "")
        assert p.evidence == (("t", "border*", "border security"),)
        s.set_status(sug.id, "accepted", user="ann")
        p = s.provenance(sug.id)
        assert p is not None and (p.decision, p.decided_by) == ("accepted", "ann")
        assert p.suggested_by == "bot" and p.evidence
        assert set(s.provenances()) == {sug.id}


def test_migration_fills_in_suggestions_made_before(tmp_path: Path) -> None:
    corpus = load_corpus([SEEDS])
    doc = corpus.get("002")
    path = tmp_path / "old.sqlite"
    with Store.open(path) as s:
        sug = s.add(doc, *sentence(doc, 1), themes=["t"], user="bot", status="suggested")
        s.set_status(sug.id, "rejected", user="carol")
        hand = s.add(doc, *sentence(doc, 2), themes=["t"], user="ann")
    # As a store from before the migration: no table, no record of it.
    db = sqlite3.connect(path)
    db.execute("DROP TABLE suggestion_origin")
    db.execute("DELETE FROM migrations WHERE name = ?", (migration_name(MIGRATIONS[-1]),))
    db.commit()
    db.close()
    with Store.open(path) as s:
        assert s.migrations()[-1] == "m008_suggestion_origin"
        p = s.provenance(sug.id)
        assert p is not None and (p.suggested_by, p.decision, p.decided_by) == (
            "bot", "rejected", "carol")
        assert s.provenance(hand.id) is None


def test_editor_pane_shows_pattern_words_and_who_accepted(tmp_path: Path) -> None:
    corpus = load_corpus([SEEDS])
    cb = load_codebook(SEEDS / "themes.toml")
    with Store.open(tmp_path / "s.sqlite") as s:
        st = EditorState(corpus.documents, s, cb, "tester", start_doc=4)
        run(st, "!" + "g" + "s")
        ann = st.current_annotation()
        assert ann is not None and ann.status == "suggested"
        prov = s.provenance(ann.id)
        assert prov is not None and prov.evidence  # recorded when suggested
        text = pane(screen(st, 120, 50))
        assert "a accept x reject" in text and "pattern “" in text
        run(st, "a")
        assert s.get(ann.id).status == "accepted"
        st.anchor = None
        st._go(st.token_at(ann.start))
        text = pane(screen(st, 120, 50))
        assert "suggested by the codebook (run by tester), accepted by tester" in text

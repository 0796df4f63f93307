"""Property: any sequence of add / set_themes / set_note / set_status / remove / undo / redo
(with reopenings between) leaves the store agreeing with a simple in-memory model."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.errors import StoreError
from annotate.model import Document, Metadata
from annotate.store import Store

TEXT = "Leaders met in London to agree action on organised immigration crime. " * 3
DOC = Document(path=Path("p.txt"), text=TEXT, meta=Metadata(id="p"))
FIELDS = ("themes", "note", "status", "removed")


@dataclass
class Model:
    anns: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # ids in creation order
    done: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    undone: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def act(self, ann_id: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.anns[ann_id] = dict(after)
        self.done.append((ann_id, before, after))
        self.undone.clear()

    def undo(self) -> bool:
        if not self.done:
            return False
        entry = self.done.pop()
        self.anns[entry[0]] = dict(entry[1])
        self.undone.append(entry)
        return True

    def redo(self) -> bool:
        if not self.undone:
            return False
        entry = self.undone.pop()
        self.anns[entry[0]] = dict(entry[2])
        self.done.append(entry)
        return True


ops = st.one_of(
    st.tuples(st.just("add"), st.integers(0, len(TEXT) - 2), st.integers(1, 20)),
    st.tuples(st.just("themes"), st.integers(0, 9),
              st.lists(st.sampled_from(["a", "b", "c"]), max_size=3)),
    st.tuples(st.just("note"), st.integers(0, 9), st.sampled_from(["", "x", "note\nline"])),
    st.tuples(st.just("status"), st.integers(0, 9),
              st.sampled_from(["suggested", "accepted", "rejected"])),
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("undo")),
    st.tuples(st.just("redo")),
    st.tuples(st.just("reopen")),
)


def check(store: Store, model: Model) -> None:
    live = {k: v for k, v in model.anns.items() if not v["removed"]}
    got = {a.id: a for a in store.list()}
    assert set(got) == set(live)
    for ann_id, want in live.items():
        a = got[ann_id]
        assert (list(a.themes), a.note, a.status) == (want["themes"], want["note"],
                                                      want["status"])
        assert TEXT[a.start : a.end] == a.quote
    assert store.undo_depth("u") == len(model.done)
    assert store.redo_depth("u") == len(model.undone)
    starts = [(a.doc, a.start, a.end, a.id) for a in store.list()]
    assert starts == sorted(starts)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, max_size=25))
def test_store_matches_model(sequence: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.sqlite"
        store = Store.open(path)
        model = Model()
        try:
            for op in sequence:
                kind = op[0]
                if kind == "add":
                    start = op[1]
                    end = min(len(TEXT), start + op[2])
                    a = store.add(DOC, start, end, user="u")
                    after = {"themes": [], "note": "", "status": "accepted", "removed": False}
                    model.order.append(a.id)
                    model.act(a.id, {**after, "removed": True}, after)
                elif kind in ("themes", "note", "status", "remove"):
                    if not model.order:
                        continue
                    ann_id = model.order[op[1] % len(model.order)]
                    before = model.anns[ann_id]
                    key = "removed" if kind == "remove" else kind
                    value: Any = True if kind == "remove" else op[2]
                    if kind == "themes":
                        value = list(dict.fromkeys(value))
                    if before["removed"]:
                        with pytest.raises(StoreError, match="was removed"):
                            call(store, kind, ann_id, value)
                        continue
                    call(store, kind, ann_id, value)
                    if before[key] != value:
                        model.act(ann_id, before, {**before, key: value})
                elif kind == "undo":
                    assert (store.undo("u") is not None) == model.undo()
                elif kind == "redo":
                    assert (store.redo("u") is not None) == model.redo()
                else:
                    store.close()
                    store = Store.open(path)
                check(store, model)
            assert store.integrity_check() == "ok"
        finally:
            store.close()


def call(store: Store, kind: str, ann_id: str, value: Any) -> None:
    if kind == "themes":
        store.set_themes(ann_id, value, user="u")
    elif kind == "note":
        store.set_note(ann_id, value, user="u")
    elif kind == "status":
        store.set_status(ann_id, value, user="u")
    else:
        store.remove(ann_id, user="u")

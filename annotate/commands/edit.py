"""`annotate edit`: the interactive terminal annotator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from annotate.commands.common import CodebookOpt, PathsArg, StoreOpt, UserOpt

if TYPE_CHECKING:
    from annotate.corpus import Corpus
    from annotate.model import Codebook, Passage


def register(app: typer.Typer) -> None:
    @app.command()
    def edit(
        doc: Annotated[
            str | None,
            typer.Argument(help="Document to open (id or file name; default: where you left "
                           "off, else the first).",
                           show_default=False),
        ] = None,
        paths: PathsArg = None,
        store: StoreOpt = None,
        codebook: CodebookOpt = None,
        user: UserOpt = None,
        reuse: Annotated[
            bool, typer.Option("--reuse/--no-reuse", help="Highlight passages shared with "
                               "other documents.")
        ] = True,
        mouse: Annotated[
            bool, typer.Option("--mouse", help="Use the mouse: a click moves the cursor, a drag "
                               "selects, a click on a theme in the pane toggles it, the wheel "
                               "scrolls.")
        ] = False,
    ) -> None:
        """Annotate interactively in the terminal: themes, notes, suggestions, shared passages.

        Every change is saved as it is made; press ? in the editor for the keys.
        """
        from annotate.commands.common import guarded

        guarded(lambda: _run(doc, paths, store, codebook, user, reuse, mouse))


def _run(
    doc: str | None,
    paths: list[Path] | None,
    store_path: Path | None,
    codebook_file: Path | None,
    user: str | None,
    reuse: bool,
    mouse: bool,
) -> None:
    import sys

    from annotate.commands.common import fail, load

    # `annotate edit seeds/` means a corpus, not a document called "seeds/".
    if doc is not None and not paths and Path(doc).exists() and (
        Path(doc).is_dir() or "/" in doc or Path(doc).suffix
    ):
        paths, doc = [Path(doc)], None
    corpus = load(paths)
    start = 0
    if doc is not None:
        wanted = corpus.get(doc)
        start = next(i for i, d in enumerate(corpus.documents) if d.id == wanted.id)
    cb = _codebook(paths, codebook_file)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail("annotate edit needs a terminal (use annotate add/list/note for scripts)")

    from annotate.store import Store, default_user
    from annotate.tui.app import build_app
    from annotate.tui.state import EditorState

    provider = _reuse_provider(corpus) if reuse and len(corpus.documents) > 1 else None
    user = user or default_user()
    with Store.open(store_path) as st:
        # Texts edited since they were annotated: find the annotations again first, so none is
        # shown (and changed) at offsets that now hold other words.
        report = st.reanchor(corpus, user=user)
        place = st.path.with_suffix(".edit.json")
        last_doc, positions = load_positions(place, user)
        ids = [d.id for d in corpus.documents]
        if doc is None and last_doc in ids:
            start = ids.index(last_doc)
        state = EditorState(
            corpus.documents, st, cb, user, reuse=provider, start_doc=start,
            positions=positions,
        )
        d = state.doc
        state.say(f"{d.id}: {d.meta.title or d.path.name} · ? shows the keys")
        orphans = len(report.orphaned) + len(report.still_orphaned)
        if report.moved or orphans:
            state.say(f"texts changed: {len(report.moved)} re-anchored, {orphans} orphaned "
                      "(hidden; annotate doctor lists them)", error=bool(orphans))
        # A note left unsaved when the terminal closed or the process was killed.
        state.restore_draft()
        try:
            build_app(state, mouse=mouse, signals=True).run()
        finally:
            # Ended any other way than by saving (the terminal gone, an error): the note
            # being written is kept as a draft.
            if state.mode == "note":
                state.save_draft(force=True)
            save_positions(place, user, state.doc.id, state.remembered())


def load_positions(path: Path, user: str) -> tuple[str | None, dict[str, int]]:
    """The document `user` was last in and the cursor offset in each document visited."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8")).get(user, {})
        positions = {str(k): int(v) for k, v in data.get("positions", {}).items()}
        last = data.get("doc")
        return (last if isinstance(last, str) else None), positions
    except (OSError, ValueError, AttributeError, TypeError):
        return None, {}  # a missing or damaged file only means starting at the top


def save_positions(path: Path, user: str, doc: str, positions: dict[str, int]) -> None:
    """Remember where `user` was (atomically: a crash leaves the old file or the new one)."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[user] = {"doc": doc, "positions": positions}
    from annotate.errors import AnnotateError
    from annotate.files import write_atomic

    try:
        write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode(), force=True)
    except AnnotateError:
        pass  # where the cursor was is a convenience, never a reason to fail


def _codebook(paths: list[Path] | None, explicit: Path | None) -> Codebook:
    from annotate.model import Codebook
    from annotate.themes import codebook_path, load_codebook

    path = codebook_path(paths, explicit)
    if explicit is None and not path.exists():
        # Annotating without a codebook still works: notes, suggestions, reuse.
        return Codebook(name="no codebook", themes=())
    return load_codebook(path)


def _reuse_provider(corpus: Corpus) -> Callable[[str], tuple[Passage, ...]]:
    """Shared passages of one document, found on first visit (a whole corpus can be slow)."""
    cache: dict[str, tuple[Passage, ...]] = {}

    def passages(doc_id: str) -> tuple[Passage, ...]:
        if doc_id not in cache:
            from annotate.reuse import find_reuse

            cache[doc_id] = find_reuse(corpus, doc=doc_id).passages
        return cache[doc_id]

    return passages

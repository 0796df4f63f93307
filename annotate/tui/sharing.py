"""The editor among other annotators: conditional changes and the conflict view, live
refresh of others' commits, and note drafts. A mixin of `EditorState` (no prompt-toolkit).

Every change is made on the version of the annotation as shown (`expect=`); when someone else
changed it first, nothing is overwritten and the conflict view shows both versions (keep
theirs, keep mine, or merge into the note). `poll()`, called about twice a second, notices
others' commits (`PRAGMA data_version`), patches what is shown and says who changed what. A
note being written is kept as a draft in the store (never as the note) while it is typed, and
offered again when the editor reopens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from annotate.errors import AnnotateError
from annotate.model import Annotation, Change, Document
from annotate.sanitize import visible
from annotate.store import ConflictError, Draft

if TYPE_CHECKING:
    from annotate.tui.state import DocAnnotations, StoreLike

# A draft is saved once typing pauses this long, and at least this often while it goes on.
DRAFT_PAUSE_S = 0.3
DRAFT_EVERY_S = 2.0


@dataclass
class Conflict:
    """A change refused because someone else changed the annotation first: what they made
    of it (`theirs`) and what this user wanted (`field` set to `mine`)."""

    theirs: Annotation
    by: str
    removed: bool
    field: str  # note, themes, status or removed
    mine: Any
    shown: Annotation  # the version this user's change was made on


class Sharing:
    """Conflicts, live refresh and drafts, for `EditorState` (which owns the attributes)."""

    if TYPE_CHECKING:
        store: StoreLike
        user: str
        docs: tuple[Document, ...]
        doc_index: int
        anchor: int | None
        mode: str
        conflict: Conflict | None
        note_target: str | tuple[int, int] | None
        note_version: int | None
        note_draft: str
        note_cursor: int
        _draft_dirty: bool
        _draft_changed_at: float
        _draft_saved_at: float
        _draft_doc: tuple[str, int, int]
        _restored_target: str | None
        _data_version: int
        _seen_change: int
        _anns: dict[str, DocAnnotations]
        _depths: tuple[int, int] | None

        @property
        def doc(self) -> Document: ...

        def say(self, message: str, error: bool = False) -> None: ...

        def _changed(self, ann: Annotation, removed: bool = False) -> None: ...

        def _label(self, theme_id: str) -> str: ...

        def _go(self, index: int, keep_goal: bool = False) -> None: ...

        def token_at(self, offset: int) -> int: ...

        def open_doc(self, index: int) -> None: ...

        def forget_cache(self) -> None: ...

    # --- conflicts --------------------------------------------------------------------------

    def _write_field(self, ann_id: str, name: str, value: Any, expect: int) -> Annotation:
        if name == "note":
            return self.store.set_note(ann_id, value, user=self.user, expect=expect)
        if name == "themes":
            return self.store.set_themes(ann_id, value, user=self.user, expect=expect)
        if name == "status":
            return self.store.set_status(ann_id, value, user=self.user, expect=expect)
        return self.store.remove(ann_id, user=self.user, expect=expect)

    def _conditional(self, shown: Annotation, name: str, value: Any) -> Annotation | None:
        """Set one field of the annotation as shown, only if nobody changed it meanwhile;
        else open the conflict view (and return None): nothing is overwritten unseen."""
        try:
            ann = self._write_field(shown.id, name, value, shown.version)
        except ConflictError as e:
            self._open_conflict(e, name, value, shown)
            return None
        self._changed(ann, removed=name == "removed")
        return ann

    def _open_conflict(self, e: ConflictError, name: str, value: Any,
                       shown: Annotation) -> None:
        theirs = e.current
        self._changed(theirs, removed=e.removed or theirs.orphaned)
        if e.removed and name != "note":
            self.say(f"{visible(e.by)} removed {theirs.id} meanwhile: nothing changed",
                     error=True)
            return
        self.conflict = Conflict(theirs, e.by, e.removed, name, value, shown)
        self.mode = "conflict"
        self.say(f"{visible(e.by)} changed {theirs.id} meanwhile: nothing was overwritten; "
                 "choose", error=True)

    def conflict_choices(self) -> list[tuple[str, str]]:
        """(key, what it does) for the conflict view."""
        c = self.conflict
        if c is None:
            return []
        out = [("t", f"keep theirs ({visible(c.by)}'s version)")]
        if c.removed:
            out.append(("m", "keep mine: my note on a new annotation of the same words"))
        else:
            out.append(("m", f"keep mine: my {c.field} over their version"))
        if c.field == "note":
            out.append(("e", "merge: edit both notes together, then save"))
        return out

    def resolve_conflict(self, choice: str) -> None:
        """Settle the conflict: "theirs", "mine" or "merge" (notes only)."""
        c = self.conflict
        if c is None:
            self.mode = "normal"
            return
        self.conflict = None
        self.mode = "normal"
        theirs = c.theirs
        if choice == "theirs":
            self._discard_draft()
            self.say(f"kept {visible(c.by)}'s version of {theirs.id}")
            return
        if choice == "merge" and c.field == "note":
            parts = [p for p in (theirs.note.rstrip(), str(c.mine).rstrip()) if p]
            merged = "\n\n".join(dict.fromkeys(parts))
            self.note_target = (theirs.start, theirs.end) if c.removed else theirs.id
            self.note_version = None if c.removed else theirs.version
            self.note_draft = merged
            self.note_cursor = len(merged)
            self.mode = "note"
            self.say("merged: both notes are in the editor; Ctrl-S saves")
            return
        if c.removed:
            doc = self._doc(theirs.doc)
            if doc is None:
                self.say(f"{theirs.doc} is not open here: nothing saved", error=True)
                return
            ann = self.store.add(doc, theirs.start, theirs.end, themes=theirs.themes,
                                 note=str(c.mine), user=self.user)
            self._changed(ann)
            self._discard_draft()
            self.say(f"{visible(c.by)} had removed {theirs.id}: your note is on {ann.id}")
            return
        done = self._conditional(theirs, c.field, c.mine)
        if done is not None:
            self._discard_draft()
            self.say(f"{done.id}: kept yours over {visible(c.by)}'s")

    def _doc(self, doc_id: str) -> Document | None:
        return next((d for d in self.docs if d.id == doc_id), None)

    # --- the annotation as cached ----------------------------------------------------------

    def _cached(self, ann_id: str) -> Annotation | None:
        for anns in self._anns.values():
            for a in anns.items:
                if a.id == ann_id:
                    return a
        return None

    # --- drafts ----------------------------------------------------------------------------

    def note_edited(self, text: str, cursor: int) -> None:
        """The note editor's text or cursor moved: the draft is saved soon (`tick`)."""
        if self.mode != "note":
            return
        if (text, cursor) == (self.note_draft, self.note_cursor):
            return
        self.note_draft, self.note_cursor = text, cursor
        if not self._draft_dirty:
            self._draft_saved_at = time.monotonic()
        self._draft_dirty = True
        self._draft_changed_at = time.monotonic()

    def discard_pending_draft(self) -> None:
        """The editor holds what is stored already (just opened): nothing to save yet."""
        self._draft_dirty = False

    def draft(self) -> Draft | None:
        """The note being written, as a draft (None when no note is being written)."""
        target = self.note_target
        if self.mode != "note" or target is None:
            return None
        doc, start, end = self._draft_doc
        return Draft(user=self.user, doc=doc, start=start, end=end, text=self.note_draft,
                     cursor=self.note_cursor,
                     annotation=target if isinstance(target, str) else None,
                     base_version=self.note_version)

    def save_draft(self, force: bool = False) -> bool:
        """Keep the note being written as a draft in the store, debounced: after a pause in
        typing, or every few seconds while it goes on; `force` saves now (on SIGHUP/SIGTERM).
        True when a draft was written."""
        if not self._draft_dirty and not force:
            return False
        now = time.monotonic()
        if not force and now - self._draft_changed_at < DRAFT_PAUSE_S \
                and now - self._draft_saved_at < DRAFT_EVERY_S:
            return False
        d = self.draft()
        if d is None:
            return False
        try:
            self.store.save_draft(d)
        except AnnotateError as e:
            self._draft_dirty = False  # said once; the text is still in the editor
            self.say(f"the draft cannot be kept: {e}", error=True)
            return False
        self._draft_dirty = False
        self._draft_saved_at = now
        return True

    def _discard_draft(self) -> None:
        doc, start, end = self._draft_doc
        targets = {f"{doc}:{start}:{end}"}
        if isinstance(self.note_target, str):
            targets.add(self.note_target)
        if self._restored_target:  # the key it was kept under when it was restored
            targets.add(self._restored_target)
            self._restored_target = None
        for t in targets:
            try:
                self.store.discard_draft(self.user, t)
            except AnnotateError:
                pass  # a read-only store keeps no drafts either
        self._draft_dirty = False

    def restore_draft(self) -> bool:
        """Reopen the newest unsaved note draft of this user, in its document, with its text
        and cursor; True when there was one."""
        drafts = self._store_call(lambda: self.store.drafts(self.user), [])
        for d in drafts:
            index = next((i for i, doc in enumerate(self.docs) if doc.id == d.doc), None)
            if index is None:
                continue
            if index != self.doc_index:
                self.open_doc(index)
            self.anchor = None
            self._go(self.token_at(d.start))
            target: str | tuple[int, int] = (d.start, d.end)
            if d.annotation is not None:
                try:
                    self.store.get(d.annotation)
                    target = d.annotation
                except AnnotateError:
                    pass  # removed since: the note goes on a new annotation of the words
            self.note_target = target
            self.note_version = d.base_version if isinstance(target, str) else None
            self.note_draft = d.text
            self.note_cursor = max(0, min(d.cursor, len(d.text)))
            self._draft_doc = (d.doc, d.start, d.end)
            self._restored_target = d.target
            self.mode = "note"
            more = f" ({len(drafts) - 1} more after this one)" if len(drafts) > 1 else ""
            self.say(f"restored your unsaved note on {visible(d.target)}: Ctrl-S saves, "
                     f"Ctrl-C discards{more}")
            return True
        return False

    # --- others' changes ---------------------------------------------------------------------

    def _store_call(self, fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except (AnnotateError, AttributeError):
            return default

    def tick(self) -> bool:
        """Called about twice a second while the editor runs: saves a pending draft and takes
        in others' changes. True when the screen needs redrawing."""
        self.save_draft()
        return self.poll()

    def poll(self) -> bool:
        """Take in what other annotators committed since the last look (cheap when nothing
        changed: one `PRAGMA data_version`). True when something did."""
        try:
            version = self.store.data_version()
        except AnnotateError:
            return False
        if version == self._data_version:
            return False
        self._data_version = version
        changes: list[Change] = []
        complete = True
        try:
            for _ in range(4):
                since = self.store.changes_since(self._seen_change)
                changes.extend(since.changes)
                self._seen_change = since.last
                if not since.more:
                    break
            else:
                complete = False
        except AnnotateError:
            return False
        if not complete or len({c.annotation for c in changes}) > 200:
            self.forget_cache()
            self._seen_change = self._store_call(self.store.last_change_id, self._seen_change)
            self.say(f"{len(changes)}+ changes by others: annotations reloaded")
            return True
        if not changes:
            return True  # e.g. only drafts: nothing shown changed
        for ann_id in dict.fromkeys(c.annotation for c in changes):
            self._refresh(ann_id)
        self._depths = None
        self.say(self._describe_changes(changes))
        return True

    def _refresh(self, ann_id: str) -> None:
        try:
            ann = self.store.get(ann_id, include_removed=True)
            removed = False
            try:
                self.store.get(ann_id)
            except AnnotateError:
                removed = True
        except AnnotateError:
            return
        if ann.doc in self._anns:
            self._changed(ann, removed=removed or ann.orphaned)

    def _describe_changes(self, changes: list[Change]) -> str:
        last = changes[-1]
        who = visible(last.user)
        ann = self._cached(last.annotation) or self._store_call(
            lambda: self.store.get(last.annotation, include_removed=True), None)
        ident = visible(last.annotation)
        where = ""
        if ann is not None and ann.doc == self.doc.id:
            sent = self.doc.sentence_at(ann.start)
            if sent is not None:
                from annotate.tui.state import short_id  # (state imports this module)

                where = f" in {short_id(sent.id)}"
        try:
            detail = json.loads(last.detail) if last.detail else {}
        except json.JSONDecodeError:
            detail = {}
        fields = list(detail) if isinstance(detail, dict) else []
        action = last.action
        if action in ("add", "import"):
            labels = ", ".join(self._label(t) for t in (ann.themes if ann else ()))
            what = f"added {ident}" + (f" ({visible(labels)})" if labels else "")
        elif action == "note" or fields == ["note"]:
            what = f"changed the note of {ident}"
        elif action == "themes" or fields == ["themes"]:
            labels = ", ".join(self._label(t) for t in (ann.themes if ann else ()))
            what = f"changed the themes of {ident}" + (f" to {visible(labels)}" if labels
                                                       else "")
        elif action in ("accept", "reject"):
            what = f"{action}ed {ident}"
        elif action == "remove":
            what = f"removed {ident}"
        elif action in ("undo", "redo"):
            what = f"{'undid' if action == 'undo' else 'redid'} a change to {ident}"
        else:
            what = f"changed {ident} ({visible(action)})"
        msg = f"{who} {what}{where}"
        if isinstance(self.note_target, str) and self.mode == "note" and any(
            c.annotation == self.note_target for c in changes
        ):
            msg = (f"{visible(last.user)} changed {visible(self.note_target)} while you write: "
                   "Ctrl-S will show both versions")
        elif len(changes) > 1:
            users = ", ".join(visible(u) for u in dict.fromkeys(c.user for c in changes))
            msg += f" (and {len(changes) - 1} more changes by {users})"
        return msg

"""The annotation store: SQLite (the only module importing sqlite3), one store per project.

Where it lives: `./.annotate/annotations.sqlite` in the current directory (the project), unless
the environment variable `ANNOTATE_STORE` names another file; every command that uses the store
also takes `--store PATH`, which wins over both. The directory is created on first use.

Durability: the database runs in WAL mode with `synchronous=FULL`, and every mutating call runs
in its own `BEGIN IMMEDIATE` transaction that is committed before the call returns. Once a call
has returned, its change survives a SIGKILL of the process (WAL alone guarantees that) and, with
FULL, also a power cut — annotators' actions arrive at human speed, so an fsync per action costs
nothing anyone notices. Two processes may write at once: SQLite's busy timeout makes a writer
wait for the other's lock, and a retry loop covers the rare SQLITE_BUSY that escapes it.

Concurrent annotators: each annotation carries a version. Every change is
`UPDATE … WHERE id = ? AND version = ?` and bumps it; a change made on a version someone else
has since changed (`expect=`) raises ConflictError and writes nothing, so no one's edit is
overwritten unseen. `data_version()` and `changes_since()` let the editor notice others' commits.

Files: only a regular file (or a new path) is a store: a device, FIFO or socket is refused
before SQLite could create `PATH-journal` beside it. A store the process cannot write (its
file or folder read-only) is opened read-only: reads work, writes are refused with a message.
A store recording a migration this version does not know was written by a newer annotate: it
is refused for writing (NewerStoreError) and read where its schema allows.

Schema: an ordered list of migration functions (`MIGRATIONS`), each recorded by name in the
`migrations` table once applied, so an older database is upgraded in place when opened.

Undo/redo: every user action (add, themes, note, status, remove) is logged per user with the
annotation's state before and after it. `undo` writes back the fields the action changed as
they were before it, `redo` as they were after it; a new action clears that user's redo entries.
Only the changed fields are written, so undoing a note does not revert another annotator's
theme change to the same annotation; a field (or, for an add, the annotation) another
annotator has changed since is left as they made it. Removal only sets a flag, so undo can
restore it.

History: every change (including undo, redo, re-anchoring and import) is one row: who, when,
what, and a JSON detail — the new annotation's fields for `add`, `{field: [old, new]}` otherwise.
"""

from __future__ import annotations

import builtins
import getpass
import json
import os
import secrets
import sqlite3
import stat
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from annotate.anchor import CONTEXT_CHARS, locate
from annotate.errors import StoreError
from annotate.model import STATUSES, Annotation, Change, Document

if TYPE_CHECKING:
    from annotate.corpus import Corpus

STORE_ENV = "ANNOTATE_STORE"
USER_ENV = "ANNOTATE_USER"
DEFAULT_STORE = Path(".annotate") / "annotations.sqlite"
# How long a writer waits for another's lock before giving up with an error.
BUSY_TIMEOUT_S = 60.0
# SQLite's own busy handler backs off to 100 ms sleeps, so a process writing in a loop can hold
# the lock for seconds while the other sleeps. Waiting briefly inside SQLite and then polling
# with short random sleeps here keeps two writers interleaved.
_SQLITE_WAIT_S = 0.005

T = TypeVar("T")


def default_store_path() -> Path:
    """`$ANNOTATE_STORE`, else `./.annotate/annotations.sqlite` (the project is the cwd)."""
    env = os.environ.get(STORE_ENV)
    return Path(env) if env else DEFAULT_STORE


def default_user() -> str:
    """`$ANNOTATE_USER`, else the system user, else "anonymous"."""
    env = os.environ.get(USER_ENV)
    if env:
        return env
    try:
        return getpass.getuser() or "anonymous"
    except (KeyError, OSError):  # no passwd entry, e.g. in a bare container
        return "anonymous"


def new_batch() -> str:
    """A batch id: actions given the same one form a single undo step."""
    return secrets.token_hex(8)


def now() -> str:
    """The current time as ISO 8601 UTC with milliseconds, e.g. 2025-01-02T03:04:05.678Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- Migrations ------------------------------------------------------------------------------


def _m001_initial(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE annotations (
            id TEXT PRIMARY KEY,
            doc TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            quote TEXT NOT NULL,
            prefix TEXT NOT NULL DEFAULT '',
            suffix TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            user TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'accepted',
            created TEXT NOT NULL,
            modified TEXT NOT NULL,
            removed INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """CREATE TABLE annotation_themes (
            annotation TEXT NOT NULL REFERENCES annotations(id),
            theme TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (annotation, theme)
        )"""
    )
    db.execute(
        """CREATE TABLE history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            annotation TEXT NOT NULL,
            user TEXT NOT NULL,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )"""
    )


def _m002_orphaned(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE annotations ADD COLUMN orphaned INTEGER NOT NULL DEFAULT 0")


def _m003_undo_log(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE undo_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user TEXT NOT NULL,
            annotation TEXT NOT NULL,
            action TEXT NOT NULL,
            description TEXT NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('done', 'undone')),
            at TEXT NOT NULL
        )"""
    )


def _m004_indexes(db: sqlite3.Connection) -> None:
    db.execute('CREATE INDEX annotations_doc ON annotations (doc, start, "end", id)')
    db.execute("CREATE INDEX annotation_themes_theme ON annotation_themes (theme)")
    db.execute("CREATE INDEX history_annotation ON history (annotation, id)")
    db.execute("CREATE INDEX undo_log_user ON undo_log (user, state, id)")


# Append only: a migration, once released, is never edited or reordered.
def _m005_undo_batches(db: sqlite3.Connection) -> None:
    # Actions that share a batch (one `annotate suggest` run) are undone as one step.
    db.execute("ALTER TABLE undo_log ADD COLUMN batch TEXT")


def _m006_versions(db: sqlite3.Connection) -> None:
    # Optimistic concurrency: every change is `UPDATE … WHERE id = ? AND version = ?` and
    # bumps the version; the history row records the version the change produced.
    db.execute("ALTER TABLE annotations ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE history ADD COLUMN version INTEGER")


def _m007_note_drafts(db: sqlite3.Connection) -> None:
    # A note being written in the editor, saved as the user types: never the note itself.
    db.execute(
        """CREATE TABLE note_drafts (
            user TEXT NOT NULL,
            target TEXT NOT NULL,
            annotation TEXT,
            doc TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            text TEXT NOT NULL,
            cursor INTEGER NOT NULL,
            base_version INTEGER,
            saved TEXT NOT NULL,
            PRIMARY KEY (user, target)
        )"""
    )


def _m008_suggestion_origin(db: sqlite3.Connection) -> None:
    # Where a suggestion came from, kept after it is accepted or rejected, so an accepted
    # suggestion can be told from a hand-made annotation (provenance, TEI @resp).
    db.execute(
        """CREATE TABLE suggestion_origin (
            annotation TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            suggested_by TEXT NOT NULL,
            suggested_at TEXT NOT NULL,
            evidence TEXT NOT NULL DEFAULT '[]'
        )"""
    )
    # Suggestions made before this migration: their adding is in the history.
    db.execute(
        "INSERT OR IGNORE INTO suggestion_origin (annotation, source, suggested_by, "
        "suggested_at) SELECT annotation, 'codebook', user, at FROM history "
        "WHERE action = 'add' AND json_valid(detail) "
        "AND json_extract(detail, '$.status') = 'suggested' ORDER BY id"
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _m001_initial,
    _m002_orphaned,
    _m003_undo_log,
    _m004_indexes,
    _m005_undo_batches,
    _m006_versions,
    _m007_note_drafts,
    _m008_suggestion_origin,
)


def migration_name(fn: Callable[[sqlite3.Connection], None]) -> str:
    return fn.__name__.lstrip("_")


# --- Re-anchoring report ---------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """An annotation found again at new offsets after its document's text changed."""

    id: str
    doc: str
    old: tuple[int, int]
    new: tuple[int, int]
    exact: bool  # the quote was found verbatim (else approximately, and updated)


@dataclass(frozen=True)
class ReanchorReport:
    """What `Store.reanchor` did: annotations checked, moved, orphaned, and those it could not
    check because their document is not in the corpus."""

    checked: int
    moved: tuple[Moved, ...] = ()
    orphaned: tuple[str, ...] = ()  # newly orphaned ids
    still_orphaned: tuple[str, ...] = ()
    restored: tuple[str, ...] = ()  # orphans found again
    unknown_documents: tuple[str, ...] = ()  # annotation ids whose document is missing


# --- Conflicts and drafts -----------------------------------------------------------------


class ConflictError(StoreError):
    """A change made on a version of an annotation that someone else has changed since.

    Nothing was written. `current` is the annotation as it now is (removed ones included,
    see `removed`), `by` who changed it last, `expected` the version the change was made on.
    """

    def __init__(self, current: Annotation, by: str, expected: int, removed: bool) -> None:
        self.current = current
        self.by = by
        self.expected = expected
        self.removed = removed
        what = "removed it" if removed else f"changed it (now version {current.version})"
        super().__init__(
            f"annotation {current.id} was changed meanwhile: {by} {what}, you had version "
            f"{expected}; nothing was overwritten"
        )


class DamagedStoreError(StoreError):
    """The store's file is damaged (SQLite cannot read it whole); `finding` says how."""

    def __init__(self, path: Path, finding: str) -> None:
        self.path = path
        self.finding = finding
        super().__init__(f"{path}: not a usable annotation store (the file is damaged: "
                         f"{finding}; `annotate doctor` says what to do)")


class NewerStoreError(StoreError):
    """The store records a migration this version does not know: a newer annotate wrote it."""

    def __init__(self, migration: str) -> None:
        self.migration = migration
        super().__init__(
            f"this store was written by a newer annotate (migration {migration}); "
            "upgrade annotate to use it."
        )


@dataclass(frozen=True)
class Draft:
    """A note being written in the editor and not saved yet: its text, where the cursor was
    in it, and what it is for (an annotation, at `base_version`, or a new one on a span)."""

    user: str
    doc: str
    start: int
    end: int
    text: str
    cursor: int = 0
    annotation: str | None = None
    base_version: int | None = None
    saved: str = ""

    @property
    def target(self) -> str:
        return self.annotation or f"{self.doc}:{self.start}:{self.end}"


@dataclass(frozen=True)
class Provenance:
    """Where a suggested annotation came from and who decided on it: `evidence` holds
    (theme, pattern, words matched) as recorded when it was suggested (may be empty)."""

    source: str  # "codebook"
    suggested_by: str
    suggested_at: str
    evidence: tuple[tuple[str, str, str], ...]
    decision: str  # "accepted", "rejected", or "" while still a suggestion
    decided_by: str
    decided_at: str


@dataclass(frozen=True)
class Since:
    """What `changes_since` found: others' changes, the last history id looked at, and
    whether there may be more after it."""

    changes: tuple[Change, ...]
    last: int
    more: bool


def _readonly_reason(path: Path) -> str | None:
    """Why an existing store cannot be written here (None when it can)."""
    # WAL needs the -wal and -shm files beside the database.
    if not os.access(path.parent, os.W_OK):
        return f"its folder {path.parent} is not writable"
    if not os.access(path, os.W_OK):
        return f"{path} is not writable"
    return None


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection, which works in a folder nobody may write to.

    A WAL database read with `mode=ro` still needs its -shm file, which SQLite cannot create
    in a read-only folder. When there is no -wal file with changes in it, everything is in the
    main file, and `immutable=1` reads it without the -shm file (and without locks: in a
    folder nobody can write, nobody else can be writing). When the log holds changes, reading
    without it would show old data, so that is refused.
    """
    base = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    db = sqlite3.connect(base, uri=True, timeout=_SQLITE_WAIT_S, isolation_level=None)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.DatabaseError as e:  # (a damaged file too: closed, not left to the GC)
        db.close()
        if not isinstance(e, sqlite3.OperationalError) or (
                "unable to open" not in str(e) and "readonly" not in str(e)):
            raise
    wal = Path(str(path) + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"{path}: cannot read the store read-only: its log {wal.name} holds recent changes "
            f"and {path.parent} is not writable (open it once where it can be written)"
        )
    return sqlite3.connect(base + "&immutable=1", uri=True, isolation_level=None)


# --- The store -------------------------------------------------------------------------------

_FIELDS = ("doc", "start", "end", "quote", "prefix", "suffix", "themes", "note", "user",
           "status", "created", "modified", "orphaned", "removed")
# Fields an undo or redo may write back; the rest (times, author) describe the record.
_UNDOABLE = ("doc", "start", "end", "quote", "prefix", "suffix", "themes", "note", "status",
             "orphaned", "removed")
_COLUMNS = 'id, doc, start, "end", quote, prefix, suffix, note, user, status, created, ' \
    "modified, orphaned, removed"


def _is_busy(e: sqlite3.OperationalError) -> bool:
    msg = str(e).lower()
    return "locked" in msg or "busy" in msg


class Store:
    """Annotations of one project in SQLite. Use as a context manager, or call `close()`."""

    def __init__(self, db: sqlite3.Connection, path: Path, readonly: str | None = None) -> None:
        self._db = db
        self.path = path
        # Why this store cannot be written (None when it can): writes are refused with it.
        self.readonly = readonly
        # A store whose older schema could not be upgraded (read-only) has no version column.
        self._version_col = "version"
        self._history_version = True
        self._drafts = True
        # History rows this connection wrote: `changes_since` leaves them out.
        self._own: set[int] = set()

    # -- opening --------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None, *, readonly: bool = False) -> Store:
        """Open (creating and migrating if needed) the store at `path` or the default place.

        Only a regular file (or a path where none exists yet) is a store. With `readonly`,
        or when the file or its folder cannot be written, it is opened read-only: reading
        works, writing raises StoreError. A store written by a newer annotate is refused for
        writing (NewerStoreError) and read where its schema allows.
        """
        path = Path(path) if path is not None else default_store_path()
        try:
            info: os.stat_result | None = os.stat(path)
        except FileNotFoundError:
            info = None
        except OSError as e:
            raise StoreError(f"{path}: cannot open the store ({e.strerror})") from None
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise StoreError(f"{path}: is a directory; --store wants a database file")
        if info is not None and not stat.S_ISREG(info.st_mode):
            # SQLite would create PATH-journal beside it (/dev/null-journal): refused.
            raise StoreError(f"{path}: not a regular file; --store wants a database file")
        reason: str | None = None
        if readonly:
            if info is None:
                raise StoreError(f"no annotation store at {path}")
            reason = "opened for reading"
        elif info is not None:
            reason = _readonly_reason(path)
        if reason is not None:
            return cls._open_readonly(path, reason)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"{path.parent}: cannot create the store directory ({e})") from None
        try:
            # Autocommit mode: transactions are begun explicitly with BEGIN IMMEDIATE, which
            # takes the write lock up front, so two writers queue instead of deadlocking.
            db = sqlite3.connect(path, timeout=_SQLITE_WAIT_S, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"{path}: cannot open the store ({e})") from None
        store = cls(db, path)
        try:
            tables = store._retry(lambda: {r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )})
            if tables and "migrations" not in tables:
                # Another program's database, named by mistake: not even its journal mode
                # is changed.
                raise StoreError("it already holds other tables")
            if tables:
                store._check_not_newer()
            store._retry(lambda: store._db.execute("PRAGMA journal_mode=WAL").fetchone())
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            store._migrate()
        except NewerStoreError:
            db.close()
            raise
        except (sqlite3.DatabaseError, StoreError) as e:
            _unusable(db, path, e)
        return store

    @classmethod
    def _open_readonly(cls, path: Path, reason: str) -> Store:
        try:
            db = _connect_readonly(path)
        except sqlite3.Error as e:
            if isinstance(e, sqlite3.DatabaseError) and _says_damaged(e):
                raise DamagedStoreError(path, str(e)) from None
            raise StoreError(f"{path}: cannot open the store ({e})") from None
        store = cls(db, path, readonly=reason)
        try:
            tables = store._retry(lambda: {r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )})
            if "migrations" not in tables:
                raise StoreError("it holds no annotations table" if not tables
                                 else "it already holds other tables")
            store._adapt_to_schema()
        except (sqlite3.DatabaseError, StoreError) as e:
            _unusable(db, path, e)
        return store

    def _adapt_to_schema(self) -> None:
        """Read an older (not upgraded) or newer schema as far as it goes."""

        def columns(table: str) -> set[str]:
            return {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}

        self._version_col = "version" if "version" in columns("annotations") else "1"
        self._history_version = "version" in columns("history")
        self._drafts = bool(columns("note_drafts"))

    def _check_not_newer(self) -> None:
        known = {migration_name(fn) for fn in MIGRATIONS}
        done = self._retry(lambda: [
            r[0] for r in self._db.execute("SELECT name FROM migrations ORDER BY rowid")
        ])
        for name in done:
            if name not in known:
                raise NewerStoreError(name)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _migrate(self) -> None:
        def run() -> None:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied TEXT)"
            )
            done = {r[0] for r in self._db.execute("SELECT name FROM migrations")}
            for fn in MIGRATIONS:
                name = migration_name(fn)
                if name not in done:
                    fn(self._db)
                    self._db.execute("INSERT INTO migrations VALUES (?, ?)", (name, now()))

        self._retry(lambda: self._transaction(run))

    def migrations(self) -> list[str]:
        """Names of the migrations applied to this database, in order."""
        return self._read(lambda: [
            r[0] for r in self._db.execute("SELECT name FROM migrations ORDER BY rowid")
        ])

    # -- transactions ---------------------------------------------------------------------

    def _retry(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as e:
                if not _is_busy(e) or time.monotonic() > deadline:
                    raise
                time.sleep((1 + secrets.randbelow(4000)) / 1e6)

    def _read(self, fn: Callable[[], T]) -> T:
        """Run `fn` in one read transaction: a consistent snapshot even while others write."""
        if self._db.in_transaction:
            return fn()

        def attempt() -> T:
            self._db.execute("BEGIN")
            try:
                return fn()
            finally:
                if self._db.in_transaction:
                    self._db.execute("COMMIT")

        return self._reported(lambda: self._retry(attempt))

    def _write(self, fn: Callable[[], T]) -> T:
        """Run `fn` in one write transaction, committed before returning; retried if busy."""
        if self.readonly is not None:
            raise StoreError(f"{self.path}: the store is read-only ({self.readonly}); "
                             "nothing was changed")
        return self._reported(lambda: self._retry(lambda: self._transaction(fn)))

    def _transaction(self, fn: Callable[[], T]) -> T:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = fn()
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return result

    def _reported(self, fn: Callable[[], T]) -> T:
        """SQLite's own failures (a read-only or full disk, a lock held past the timeout, a
        damaged file) as a StoreError naming the store, never a traceback."""
        try:
            return fn()
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: the store failed ({e})") from None

    # -- reading --------------------------------------------------------------------------

    def _themes_of(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        if not ids:
            return {}
        # Chunked: SQLite limits the number of bound parameters.
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT annotation, theme FROM annotation_themes WHERE annotation IN ({marks}) "
                "ORDER BY annotation, position",
                chunk,
            )
            for ann, theme in rows:
                out.setdefault(ann, []).append(theme)
        return {k: tuple(v) for k, v in out.items()}

    def _all_themes(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for ann, theme in self._db.execute(
            "SELECT annotation, theme FROM annotation_themes ORDER BY annotation, position"
        ):
            out.setdefault(ann, []).append(theme)
        return {k: tuple(v) for k, v in out.items()}

    @staticmethod
    def _annotation(row: Sequence[Any], themes: tuple[str, ...]) -> Annotation:
        return Annotation(
            id=row[0], doc=row[1], start=row[2], end=row[3], quote=row[4], prefix=row[5],
            suffix=row[6], themes=themes, note=row[7], user=row[8], status=row[9],
            created=row[10], modified=row[11], orphaned=bool(row[12]), version=row[14],
        )

    @property
    def _select(self) -> str:
        return f"{_COLUMNS}, {self._version_col}"

    def _row(self, ann_id: str) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._db.execute(
            f"SELECT {self._select} FROM annotations WHERE id = ?", (ann_id,)
        ).fetchone()
        return row

    def _state(self, ann_id: str) -> dict[str, Any] | None:
        """Everything about an annotation, removed or not, as a JSON-able dict."""
        row = self._row(ann_id)
        if row is None:
            return None
        themes = self._themes_of([ann_id]).get(ann_id, ())
        state = dict(zip(("id", *_FIELDS[:6], "note", "user", "status", "created", "modified",
                          "orphaned", "removed", "version"), row, strict=True))
        state["themes"] = list(themes)
        state["orphaned"] = bool(state["orphaned"])
        state["removed"] = bool(state["removed"])
        return state

    def exists(self, ann_id: str) -> bool:
        """Whether the id is known at all (removed annotations included)."""
        return self._read(lambda: self._row(ann_id) is not None)

    def get(self, ann_id: str, *, include_removed: bool = False) -> Annotation:
        """The annotation with this id; StoreError if unknown (or removed, unless asked)."""
        return self._read(lambda: self._get(ann_id, include_removed))

    def _get(self, ann_id: str, include_removed: bool) -> Annotation:
        row = self._row(ann_id)
        if row is None:
            raise StoreError(f"unknown annotation id {ann_id!r}")
        if row[13] and not include_removed:
            raise StoreError(
                f"annotation {ann_id} was removed (`annotate undo` brings it back)"
            )
        return self._annotation(row, self._themes_of([ann_id]).get(ann_id, ()))

    def list(
        self,
        *,
        doc: str | None = None,
        theme: str | None = None,
        user: str | None = None,
        status: str | None = None,
        orphaned: bool | None = None,
        include_removed: bool = False,
    ) -> list[Annotation]:
        """Annotations ordered by (doc, start, end, id); removed ones left out unless asked."""
        where: list[str] = []
        args: list[Any] = []
        if not include_removed:
            where.append("removed = 0")
        if doc is not None:
            where.append("doc = ?")
            args.append(doc)
        if user is not None:
            where.append("user = ?")
            args.append(user)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if orphaned is not None:
            where.append("orphaned = ?")
            args.append(int(orphaned))
        if theme is not None:
            where.append("id IN (SELECT annotation FROM annotation_themes WHERE theme = ?)")
            args.append(theme)
        sql = f"SELECT {self._select} FROM annotations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += ' ORDER BY doc, start, "end", id'

        def run() -> list[Annotation]:
            rows = self._db.execute(sql, args).fetchall()
            themes = (self._all_themes() if len(rows) > 500
                      else self._themes_of([r[0] for r in rows]))
            return [self._annotation(r, themes.get(r[0], ())) for r in rows]

        return self._read(run)

    def provenance(self, ann_id: str) -> Provenance | None:
        """Where the annotation came from if it was suggested (None for a hand-made one):
        the codebook, who ran the suggestion and when, why, and who accepted or rejected it."""
        return self.provenances([ann_id]).get(ann_id)

    def provenances(self, ann_ids: Sequence[str] | None = None) -> dict[str, Provenance]:
        """`provenance` of many annotations at once (all suggested ones when None)."""

        def run() -> dict[str, Provenance]:
            if self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'suggestion_origin'").fetchone() is None:
                return {}  # an older store, read without upgrading: no provenance recorded
            sql = ("SELECT o.annotation, o.source, o.suggested_by, o.suggested_at, o.evidence, "
                   "a.status FROM suggestion_origin o JOIN annotations a ON a.id = o.annotation")
            rows: builtins.list[Any] = []
            if ann_ids is None:
                rows = self._db.execute(sql).fetchall()
            else:
                ids = builtins.list(ann_ids)
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    rows += self._db.execute(
                        f"{sql} WHERE o.annotation IN ({','.join('?' * len(chunk))})", chunk
                    ).fetchall()
            decided: dict[str, tuple[str, str]] = {}
            ids = [r[0] for r in rows]
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                for ann, user, at in self._db.execute(
                    "SELECT annotation, user, at FROM history WHERE action IN "
                    f"('accept', 'reject') AND annotation IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY id", chunk,
                ):
                    decided[ann] = (user, at)
            out: dict[str, Provenance] = {}
            for ann, source, by, at, evidence, status in rows:
                ev: builtins.list[tuple[str, str, str]] = []
                try:
                    for e in json.loads(evidence):
                        ev.append((str(e[0]), str(e[1]), str(e[2])))
                except (ValueError, TypeError, IndexError, KeyError):
                    pass  # a damaged record loses its evidence, not the annotation
                decision = status if status in ("accepted", "rejected") else ""
                who, when = decided.get(ann, ("", "")) if decision else ("", "")
                out[ann] = Provenance(source, by, at, tuple(ev), decision, who, when)
            return out

        return self._read(run)

    def history(self, ann_id: str | None = None) -> builtins.list[Change]:
        """Every change, oldest first; only those of one annotation when `ann_id` is given."""
        sql = "SELECT id, annotation, user, at, action, detail FROM history"
        args: tuple[str, ...] = ()
        if ann_id is not None:
            sql += " WHERE annotation = ?"
            args = (ann_id,)
        rows = self._read(lambda: self._db.execute(sql + " ORDER BY id", args).fetchall())
        return [Change(id=r[0], annotation=r[1], user=r[2], when=r[3], action=r[4],
                       detail=r[5]) for r in rows]

    def _count_log(self, user: str, state: str) -> int:
        return self._read(lambda: int(self._db.execute(
            "SELECT count(DISTINCT coalesce(batch, 'entry ' || id)) FROM undo_log "
            "WHERE user = ? AND state = ?", (user, state)
        ).fetchone()[0]))

    def undo_depth(self, user: str) -> int:
        """How many of the user's actions `undo` can take back."""
        return self._count_log(user, "done")

    def redo_depth(self, user: str) -> int:
        """How many undone actions of the user `redo` can replay."""
        return self._count_log(user, "undone")

    # -- writing helpers (called inside a transaction) ------------------------------------

    def _log(self, ann_id: str, user: str, action: str, detail: Any, at: str,
             version: int | None = None) -> None:
        """One history row; `version` is the annotation's version after the change."""
        cur = self._db.execute(
            "INSERT INTO history (annotation, user, at, action, detail, version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (ann_id, user, at, action, json.dumps(detail, ensure_ascii=False, sort_keys=True),
             version),
        )
        if cur.lastrowid is not None:
            self._own.add(cur.lastrowid)

    def _push_undo(
        self, user: str, ann_id: str, action: str, description: str,
        before: dict[str, Any], after: dict[str, Any], at: str, batch: str | None = None,
    ) -> None:
        # A new action makes the undone ones unreachable, as in every editor.
        self._db.execute("DELETE FROM undo_log WHERE user = ? AND state = 'undone'", (user,))
        self._db.execute(
            "INSERT INTO undo_log (user, annotation, action, description, before, after, "
            "state, at, batch) VALUES (?, ?, ?, ?, ?, ?, 'done', ?, ?)",
            (user, ann_id, action, description, json.dumps(before, ensure_ascii=False),
             json.dumps(after, ensure_ascii=False), at, batch),
        )

    def _set_themes_rows(self, ann_id: str, themes: Sequence[str]) -> None:
        self._db.execute("DELETE FROM annotation_themes WHERE annotation = ?", (ann_id,))
        self._db.executemany(
            "INSERT INTO annotation_themes (annotation, theme, position) VALUES (?, ?, ?)",
            [(ann_id, t, i) for i, t in enumerate(themes)],
        )

    def _apply(self, ann_id: str, fields: dict[str, Any], at: str, version: int) -> int:
        """Write some fields of an annotation (and its modified time) if it is still at
        `version`; the new version. Zero rows updated means someone else changed it first:
        ConflictError, and the transaction is rolled back."""
        cols = [k for k in fields if k != "themes"]
        values: list[Any] = []
        for k in cols:
            v = fields[k]
            values.append(int(v) if isinstance(v, bool) else v)
        sets = ", ".join(f'"{c}" = ?' for c in [*cols, "modified"])
        cur = self._db.execute(
            f"UPDATE annotations SET {sets}, version = version + 1 "
            "WHERE id = ? AND version = ?", (*values, at, ann_id, version)
        )
        if cur.rowcount == 0:
            raise self._conflict(ann_id, version)
        if "themes" in fields:
            self._set_themes_rows(ann_id, fields["themes"])
        return version + 1

    def _conflict(self, ann_id: str, expected: int) -> ConflictError:
        row = self._row(ann_id)
        if row is None:
            raise StoreError(f"unknown annotation id {ann_id!r}")
        current = self._annotation(row, self._themes_of([ann_id]).get(ann_id, ()))
        last = self._db.execute(
            "SELECT user FROM history WHERE annotation = ? ORDER BY id DESC LIMIT 1", (ann_id,)
        ).fetchone()
        return ConflictError(current, last[0] if last else current.user, expected,
                             bool(row[13]))

    def _insert(self, ann: Annotation, removed: bool = False) -> None:
        self._db.execute(
            f"INSERT INTO annotations ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (ann.id, ann.doc, ann.start, ann.end, ann.quote, ann.prefix, ann.suffix, ann.note,
             ann.user, ann.status, ann.created, ann.modified, int(ann.orphaned), int(removed)),
        )
        # A new annotation has no theme rows to clear (imports insert 100,000s of these).
        self._db.executemany(
            "INSERT INTO annotation_themes (annotation, theme, position) VALUES (?, ?, ?)",
            [(ann.id, t, i) for i, t in enumerate(_unique(ann.themes))],
        )

    def _new_id(self) -> str:
        while True:
            ann_id = secrets.token_hex(4)
            if self._row(ann_id) is None:
                return ann_id

    def _update(
        self, ann_id: str, user: str, action: str, change: Callable[[dict[str, Any]],
                                                                      dict[str, Any]],
        describe: str, expect: int | None = None,
    ) -> Annotation:
        """One undoable change of an existing, not removed annotation; with `expect`, only if
        it is still at that version (else ConflictError, and nothing is written)."""

        def run() -> Annotation:
            before = self._state(ann_id)
            if before is None:
                raise StoreError(f"unknown annotation id {ann_id!r}")
            if expect is not None and before["version"] != expect:
                raise self._conflict(ann_id, expect)
            if before["removed"]:
                raise StoreError(
                    f"annotation {ann_id} was removed (`annotate undo` brings it back)"
                )
            fields = change(before)
            changed = {k: v for k, v in fields.items() if before[k] != v}
            if not changed:
                # Nothing to record: toggling to the same value is not an action.
                return self._get(ann_id, include_removed=True)
            at = now()
            version = self._apply(ann_id, changed, at, before["version"])
            after = {**before, **changed, "modified": at, "version": version}
            self._log(ann_id, user, action, {k: [before[k], v] for k, v in changed.items()}, at,
                      version)
            self._push_undo(user, ann_id, action, f"{describe} {ann_id}", before, after, at)
            # As written, read in the same transaction: another writer may follow at once.
            return self._get(ann_id, include_removed=True)

        return self._write(run)

    # -- user actions ---------------------------------------------------------------------

    def add(
        self,
        doc: Document,
        start: int,
        end: int,
        *,
        themes: Sequence[str] = (),
        note: str = "",
        user: str,
        status: str = "accepted",
        batch: str | None = None,
        evidence: Sequence[tuple[str, str, str]] = (),
    ) -> Annotation:
        """Annotate [start, end) of `doc`; the quote and ~32 characters of context on each side
        are kept so the annotation can be found again if the text changes. Adds that share a
        `batch` (see `new_batch`) are undone and redone as one step. A suggestion's origin
        (the codebook, with `evidence`: theme, pattern, words) is kept for `provenance`."""
        n = len(doc.text)
        if not 0 <= start < end <= n:
            raise StoreError(
                f"offsets [{start}, {end}) out of range for document {doc.id} "
                f"(its text has {n} characters; start must be below end)"
            )
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r} (use {', '.join(STATUSES)})")
        themes = _unique(themes)
        text = doc.text

        def run() -> Annotation:
            at = now()
            ann = Annotation(
                id=self._new_id(), doc=doc.id, start=start, end=end, quote=text[start:end],
                prefix=text[max(0, start - CONTEXT_CHARS) : start],
                suffix=text[end : end + CONTEXT_CHARS], themes=themes, note=note, user=user,
                status=status, created=at, modified=at,
            )
            self._insert(ann)
            if status == "suggested":
                self._db.execute(
                    "INSERT OR REPLACE INTO suggestion_origin (annotation, source, suggested_by, "
                    "suggested_at, evidence) VALUES (?, 'codebook', ?, ?, ?)",
                    (ann.id, user, at, json.dumps([list(e) for e in evidence],
                                                  ensure_ascii=False)),
                )
            after = self._state(ann.id)
            assert after is not None
            self._log(ann.id, user, "add", _detail_of(ann), at, 1)
            self._push_undo(user, ann.id, "add", f"add {ann.id}", {**after, "removed": True},
                            after, at, batch)
            return ann

        return self._write(run)

    # `expect`: the version the change was decided on (as shown to the user); if the
    # annotation has changed since, ConflictError and nothing is written. None: the change
    # applies to whatever version is there (still atomically).

    def set_themes(self, ann_id: str, themes: Sequence[str], *, user: str,
                   expect: int | None = None) -> Annotation:
        """Replace the annotation's themes (order kept, duplicates dropped)."""
        new = list(_unique(themes))
        return self._update(ann_id, user, "themes", lambda s: {"themes": new}, "themes of",
                            expect)

    def set_note(self, ann_id: str, note: str, *, user: str,
                 expect: int | None = None) -> Annotation:
        return self._update(ann_id, user, "note", lambda s: {"note": note}, "note on", expect)

    def set_status(self, ann_id: str, status: str, *, user: str,
                   expect: int | None = None) -> Annotation:
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r} (use {', '.join(STATUSES)})")
        action = {"accepted": "accept", "rejected": "reject"}.get(status, "status")
        return self._update(ann_id, user, action, lambda s: {"status": status}, action, expect)

    def remove(self, ann_id: str, *, user: str, expect: int | None = None) -> Annotation:
        """Mark the annotation removed (kept in the database, so undo can restore it)."""
        return self._update(ann_id, user, "remove", lambda s: {"removed": True}, "remove",
                            expect)

    def _step(self, user: str, undo: bool) -> str | None:
        def run() -> str | None:
            if undo:
                sql = ("SELECT id, annotation, description, before, after, at, batch "
                       "FROM undo_log WHERE user = ? AND state = 'done' ORDER BY id DESC LIMIT 1")
            else:
                sql = ("SELECT id, annotation, description, before, after, at, batch "
                       "FROM undo_log WHERE user = ? AND state = 'undone' ORDER BY id LIMIT 1")
            row = self._db.execute(sql, (user,)).fetchone()
            if row is None:
                return None
            batch = row[6]
            rows = [row[:6]]
            if batch is not None:
                rows = self._db.execute(
                    "SELECT id, annotation, description, before, after, at FROM undo_log "
                    f"WHERE user = ? AND state = ? AND batch = ? ORDER BY id "
                    f"{'DESC' if undo else ''}",
                    (user, "done" if undo else "undone", batch),
                ).fetchall()
            at = now()
            left: list[str] = []
            for entry_id, ann_id, _, before_s, after_s, done_at in rows:
                kept = self._step_entry(user, undo, ann_id, json.loads(before_s),
                                        json.loads(after_s), at, done_at)
                if kept:
                    left.append(kept)
                self._db.execute(
                    "UPDATE undo_log SET state = ? WHERE id = ?",
                    ("undone" if undo else "done", entry_id),
                )
            what = row[2] if len(rows) == 1 else f"{len(rows)} actions ({row[2]} …)"
            note = ""
            if left:
                more = f" and {len(left) - 1} more" if len(left) > 1 else ""
                note = f"; kept as others changed it since: {left[0]}{more}"
            return f"{'undid' if undo else 'redid'} {what}{note}"

        return self._write(run)

    def _step_entry(self, user: str, undo: bool, ann_id: str, before: dict[str, Any],
                    after: dict[str, Any], at: str, done_at: str) -> str | None:
        """Write back what one logged action changed. What another annotator has changed
        since is left as they made it (an undo never overwrites someone's later edit): the
        return value names it, else None."""
        source, target = (after, before) if undo else (before, after)
        # Only what this action changed is written back; other users' later changes to
        # other fields of the same annotation stay.
        fields = {k: target[k] for k in _UNDOABLE if source.get(k) != target.get(k)}
        current = self._state(ann_id)
        if current is None or not fields:
            return None
        kept = [k for k in fields if current[k] != source.get(k)]
        by = self._changed_by_others(ann_id, user, done_at) if undo else None
        if "removed" in fields and by is not None:
            kept = list(fields)  # taking back an add would hide what they did to it since
        changed = {k: v for k, v in fields.items() if k not in kept and current[k] != v}
        if changed:
            version = self._apply(ann_id, changed, at, current["version"])
            self._log(ann_id, user, "undo" if undo else "redo",
                      {k: [current[k], v] for k, v in changed.items()}, at, version)
        if not kept:
            return None
        who = by or self._changed_by_others(ann_id, user, done_at) or "someone"
        what = "it" if "removed" in kept else f"its {', '.join(kept)}"
        return f"{ann_id} ({who} changed {what})"

    def _changed_by_others(self, ann_id: str, user: str, since: str) -> str | None:
        """Who (other than `user`) last changed the annotation after the user's own change
        made at `since`. History ids order changes exactly; timestamps do not (two users'
        changes can share a millisecond), so the user's change is found by its time and the
        others' after it by id."""
        row = self._db.execute(
            "SELECT user FROM history WHERE annotation = ? AND user != ? AND id > "
            "(SELECT COALESCE(MAX(id), 0) FROM history WHERE annotation = ? AND user = ? "
            "AND at <= ?) ORDER BY id DESC LIMIT 1", (ann_id, user, ann_id, user, since)
        ).fetchone()
        return None if row is None else str(row[0])

    def undo(self, user: str) -> str | None:
        """Undo the user's last action; a one-line description, or None if nothing to undo."""
        return self._step(user, undo=True)

    def redo(self, user: str) -> str | None:
        """Redo the user's last undone action; a description, or None if nothing to redo."""
        return self._step(user, undo=False)

    # -- import ---------------------------------------------------------------------------

    def import_annotation(self, ann: Annotation, history: Sequence[Change] = ()) -> bool:
        """Insert an annotation as it is (id, times, user kept) with its history.

        False when an identical annotation with that id is already there; StoreError when a
        different one is. Not an undoable action: it is recorded in the history only.
        """
        return self._write(lambda: self._import_one(ann, history))

    def import_annotations(
        self, items: Sequence[tuple[Annotation, Sequence[Change]]]
    ) -> builtins.list[bool | str]:
        """`import_annotation` for many at once, in ONE transaction: per item True (added),
        False (identical one already there) or the conflict message.

        A transaction per annotation costs a disk sync each (about 100 s for 100,000); an
        import is one user action, so it is committed as one.
        """

        def run() -> builtins.list[bool | str]:
            ids = [ann.id for ann, _ in items]
            known: set[str] = set()
            for i in range(0, len(ids), 500):  # SQLite caps the number of ? per statement
                chunk = ids[i : i + 500]
                known.update(r[0] for r in self._db.execute(
                    f"SELECT id FROM annotations WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ))
            # New annotations (nearly all of an import) are inserted in bulk; an id already in
            # the store, or twice in the batch, goes through the careful one-by-one check.
            rows: builtins.list[tuple[Any, ...]] = []
            theme_rows: builtins.list[tuple[str, str, int]] = []
            hist_rows: builtins.list[tuple[str, str, str, str, str]] = []

            def flush() -> None:
                self._db.executemany(
                    f"INSERT INTO annotations ({_COLUMNS}) VALUES "
                    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                self._db.executemany(
                    "INSERT INTO annotation_themes (annotation, theme, position) "
                    "VALUES (?, ?, ?)", theme_rows)
                self._db.executemany(
                    "INSERT INTO history (annotation, user, at, action, detail) "
                    "VALUES (?, ?, ?, ?, ?)", hist_rows)
                rows.clear()
                theme_rows.clear()
                hist_rows.clear()

            results: builtins.list[bool | str] = []
            at = now()
            for ann, history in items:
                if ann.id in known:
                    flush()
                    try:
                        results.append(self._import_one(ann, history))
                    except StoreError as e:
                        results.append(str(e))
                    continue
                known.add(ann.id)
                rows.append((ann.id, ann.doc, ann.start, ann.end, ann.quote, ann.prefix,
                             ann.suffix, ann.note, ann.user, ann.status, ann.created,
                             ann.modified, int(ann.orphaned), 0))
                theme_rows.extend((ann.id, t, i) for i, t in enumerate(_unique(ann.themes)))
                if history:
                    hist_rows.extend((ann.id, ch.user, ch.when, ch.action, ch.detail)
                                     for ch in history)
                else:
                    hist_rows.append((ann.id, ann.user, at, "import", json.dumps(
                        _detail_of(ann), ensure_ascii=False, sort_keys=True)))
                results.append(True)
            flush()
            return results

        return self._write(run)

    def _import_one(self, ann: Annotation, history: Sequence[Change]) -> bool:
        row = self._row(ann.id)
        if row is not None:
            existing = self._get(ann.id, include_removed=True)
            if row[13]:
                raise StoreError(
                    f"annotation {ann.id} is in the store but was removed; not imported"
                )
            if replace(existing, orphaned=ann.orphaned) == ann:
                return False
            diff = [f for f in ("doc", "start", "end", "quote", "prefix", "suffix",
                                "themes", "note", "user", "status", "created", "modified")
                    if getattr(existing, f) != getattr(ann, f)]
            raise StoreError(
                f"annotation {ann.id} already exists with a different "
                f"{', '.join(diff)}; not imported"
            )
        self._insert(ann)
        if history:
            self._db.executemany(
                "INSERT INTO history (annotation, user, at, action, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                [(ann.id, ch.user, ch.when, ch.action, ch.detail) for ch in history],
            )
        else:
            self._log(ann.id, ann.user, "import", _detail_of(ann), now())
        return True

    # -- re-anchoring ---------------------------------------------------------------------

    def reanchor(self, corpus: Corpus, *, user: str = "annotate") -> ReanchorReport:
        """Find annotations again in documents whose text changed, or flag them orphaned.

        An annotation whose quote is still at [start, end) is left alone. Otherwise its quote
        is looked for again (exact occurrences, ranked by how well the context before and after
        matches and then by nearness to the old place; else diff-match-patch's fuzzy match near
        the old offset). Found: its offsets, quote and context are updated and a `reanchor`
        history entry is written. Not found: it is flagged orphaned, never deleted.
        """
        docs = {d.id: d for d in corpus.documents}
        anns = self.list()
        moved: list[Moved] = []
        orphaned: list[str] = []
        still: list[str] = []
        restored: list[str] = []
        unknown: list[str] = []
        plans: list[tuple[Annotation, dict[str, Any], str]] = []
        # How far text has moved around here, learnt from the annotations just before (the list
        # is in document order): an insertion shifts every later annotation by the same amount.
        shift_doc, shift = "", 0
        for a in anns:
            d = docs.get(a.doc)
            if d is None:
                unknown.append(a.id)
                continue
            if a.doc != shift_doc:
                shift_doc, shift = a.doc, 0
            text = d.text
            if a.end <= len(text) and text[a.start : a.end] == a.quote:
                shift = 0
                if a.orphaned:
                    restored.append(a.id)
                    plans.append((a, {"orphaned": False}, "reanchor"))
                continue
            found = locate(text, a, near=a.start + shift)
            if found is None:
                if a.orphaned:
                    still.append(a.id)
                else:
                    orphaned.append(a.id)
                    plans.append((a, {"orphaned": True}, "orphan"))
                continue
            start, end, exact = found
            shift = start - a.start
            fields: dict[str, Any] = {
                "start": start, "end": end, "quote": text[start:end],
                "prefix": text[max(0, start - CONTEXT_CHARS) : start],
                "suffix": text[end : end + CONTEXT_CHARS], "orphaned": False,
            }
            if a.orphaned:
                restored.append(a.id)
            moved.append(Moved(a.id, a.doc, (a.start, a.end), (start, end), exact))
            plans.append((a, fields, "reanchor"))

        def run() -> None:
            at = now()
            for a, fields, action in plans:
                # The plan was made outside the lock; skip what someone changed meanwhile.
                current = self._state(a.id)
                if current is None or current["modified"] != a.modified or current["removed"]:
                    continue
                changed = {k: v for k, v in fields.items() if current[k] != v}
                if not changed:
                    continue
                version = self._apply(a.id, changed, at, current["version"])
                self._log(a.id, user, action, {k: [current[k], v] for k, v in changed.items()},
                          at, version)

        if plans:
            self._write(run)
        return ReanchorReport(
            checked=len(anns), moved=tuple(moved), orphaned=tuple(orphaned),
            still_orphaned=tuple(still), restored=tuple(restored),
            unknown_documents=tuple(unknown),
        )

    def integrity_check(self) -> str:
        """SQLite's own consistency check of the database file: "ok" when sound, else its
        findings, one per line."""
        try:
            rows = self._retry(lambda: self._db.execute("PRAGMA integrity_check").fetchall())
        except sqlite3.DatabaseError as e:
            return str(e)
        return "\n".join(str(r[0]) for r in rows)

    # -- watching for others' changes -------------------------------------------------------

    def data_version(self) -> int:
        """A number that changes when another connection commits (`PRAGMA data_version`):
        cheap enough to poll twice a second."""
        return self._reported(lambda: self._retry(
            lambda: int(self._db.execute("PRAGMA data_version").fetchone()[0])))

    def last_change_id(self) -> int:
        """The id of the newest history row (0 for none)."""
        return self._read(lambda: int(self._db.execute(
            "SELECT coalesce(max(id), 0) FROM history").fetchone()[0]))

    def changes_since(self, change_id: int, limit: int = 500) -> Since:
        """History rows after `change_id` written by other connections (other processes),
        oldest first: what someone else did since; at most `limit` rows are looked at."""
        rows = self._read(lambda: self._db.execute(
            "SELECT id, annotation, user, at, action, detail FROM history WHERE id > ? "
            "ORDER BY id LIMIT ?", (change_id, limit)).fetchall())
        changes = tuple(Change(id=r[0], annotation=r[1], user=r[2], when=r[3], action=r[4],
                               detail=r[5]) for r in rows if r[0] not in self._own)
        return Since(changes, rows[-1][0] if rows else change_id, len(rows) == limit)

    def field_author(self, ann_id: str, field: str) -> str | None:
        """Who last set `field` (e.g. "note") of the annotation, from its history."""

        def run() -> str | None:
            for user, detail in self._db.execute(
                "SELECT user, detail FROM history WHERE annotation = ? ORDER BY id DESC",
                (ann_id,),
            ):
                try:
                    data = json.loads(detail) if detail else None
                except json.JSONDecodeError:
                    continue
                if isinstance(data, dict) and field in data:
                    return str(user)
            return None

        return self._read(run)

    def undone_adds(self) -> set[str]:
        """Removed annotations whose removal was the undo of their adding: they are gone,
        as if never made (unlike one a user removed or a suggestion someone discarded)."""

        def run() -> set[str]:
            last: dict[str, str] = {}
            for ann, action, detail in self._db.execute(
                "SELECT h.annotation, h.action, h.detail FROM history h "
                "JOIN annotations a ON a.id = h.annotation WHERE a.removed = 1 ORDER BY h.id"
            ):
                if '"removed"' in detail or action in ("add", "import"):
                    last[ann] = action
            return {a for a, action in last.items() if action == "undo"}

        return self._read(run)

    # -- note drafts --------------------------------------------------------------------------

    def save_draft(self, draft: Draft) -> None:
        """Keep (replace) the user's draft for its target: never touches the note itself."""

        def run() -> None:
            self._db.execute(
                "INSERT OR REPLACE INTO note_drafts (user, target, annotation, doc, start, "
                '"end", text, cursor, base_version, saved) VALUES (?,?,?,?,?,?,?,?,?,?)',
                (draft.user, draft.target, draft.annotation, draft.doc, draft.start, draft.end,
                 draft.text, draft.cursor, draft.base_version, now()),
            )

        self._write(run)

    def drafts(self, user: str) -> builtins.list[Draft]:
        """The user's unsaved note drafts, newest first."""
        if not self._drafts:
            return []
        rows = self._read(lambda: self._db.execute(
            'SELECT user, doc, start, "end", text, cursor, annotation, base_version, saved '
            "FROM note_drafts WHERE user = ? ORDER BY saved DESC, target", (user,)).fetchall())
        return [Draft(*r) for r in rows]

    def discard_draft(self, user: str, target: str) -> None:
        self._write(lambda: self._db.execute(
            "DELETE FROM note_drafts WHERE user = ? AND target = ?", (user, target)))


def _unusable(db: sqlite3.Connection, path: Path, e: Exception) -> NoReturn:
    """Close `db`, which failed to open as a store with `e`, and raise what the user needs:
    a damaged file can fail in any way (even "table annotations already exists", when the
    schema page is what broke), so it is told apart, whether opened to write or read-only,
    for `annotate doctor` to report."""
    damaged = isinstance(e, sqlite3.DatabaseError) and (_damaged(db) or _says_damaged(e))
    db.close()
    if damaged:
        raise DamagedStoreError(path, str(e)) from None
    raise StoreError(f"{path}: not a usable annotation store ({_explain(e)})") from None


def _says_damaged(e: sqlite3.DatabaseError) -> bool:
    return "malformed" in str(e) or "not a database" in str(e)


def _damaged(db: sqlite3.Connection) -> bool:
    """Whether SQLite's own quick check finds the database file damaged."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
        return [tuple(r) for r in db.execute("PRAGMA quick_check").fetchall()] != [("ok",)]
    except sqlite3.DatabaseError:
        return True


def _explain(e: Exception) -> str:
    msg = str(e)
    if "malformed" in msg:
        return f"{msg}; `annotate doctor` says what to do"
    return msg


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _detail_of(ann: Annotation) -> dict[str, Any]:
    return {"doc": ann.doc, "start": ann.start, "end": ann.end, "quote": ann.quote,
            "themes": list(ann.themes), "note": ann.note, "status": ann.status}

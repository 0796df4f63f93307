"""Shell completion of document and theme ids (Typer's `autocompletion` callbacks).

They run on every Tab press, so they read only what is cheap: the default corpus's
`corpus.toml` and file names (not the documents), and the default codebook's theme ids.
A completion never prints an error: anything unreadable completes nothing.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

_MAX_BYTES = 4 * 1024 * 1024


def _toml(path: Path) -> dict[str, object]:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return {}
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return {}


def document_ids() -> list[str]:
    """Ids of the default corpus (./seeds, else the bundled one): corpus.toml's, else stems."""
    from annotate.bundled import default_corpus_dir
    from annotate.corpus import FORMATS

    folder, _ = default_corpus_dir()
    if folder is None:
        return []
    entries = _toml(folder / "corpus.toml").get("document")
    by_file: dict[str, str] = {}
    if isinstance(entries, list):
        for e in entries:
            if isinstance(e, dict) and isinstance(e.get("file"), str):
                doc_id = e.get("id")
                by_file[e["file"]] = doc_id if isinstance(doc_id, str) else Path(e["file"]).stem
    try:
        files = sorted(p.name for p in folder.iterdir()
                       if p.suffix.lower() in FORMATS and not p.name.startswith("."))
    except OSError:
        return []
    return [by_file.get(name, Path(name).stem) for name in files]


def theme_ids() -> list[str]:
    """Theme ids of the default codebook ($ANNOTATE_CODEBOOK, ./seeds, else the bundled one)."""
    import os

    from annotate.bundled import default_codebook

    env = os.environ.get("ANNOTATE_CODEBOOK")
    themes = _toml(Path(env) if env else default_codebook()).get("theme")
    if not isinstance(themes, list):
        return []
    return [t["id"] for t in themes if isinstance(t, dict) and isinstance(t.get("id"), str)]


def complete_document(incomplete: str) -> list[str]:
    return [i for i in document_ids() if i.startswith(incomplete)]


def complete_documents(incomplete: str) -> list[str]:
    """For a comma-separated list (`--docs 004,000`): complete the last item."""
    done, _, last = incomplete.rpartition(",")
    head = done + "," if done else ""
    taken = set(done.split(","))
    return [head + i for i in document_ids() if i.startswith(last) and i not in taken]


def complete_theme(incomplete: str) -> list[str]:
    return [i for i in theme_ids() if i.startswith(incomplete)]

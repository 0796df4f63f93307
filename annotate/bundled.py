"""The example corpus that ships with annotate: five UK statements, their corpus.toml and the
themes.toml codebook.

In a checkout it is the top-level `seeds/` folder; in an installed wheel the same files are the
data package `annotate.seeds` (setup.py maps one onto the other, so git holds one copy). A
`./seeds` folder in the current directory always wins over the bundled copy, so a checkout or a
user's own `seeds/` behaves as before.
"""

from __future__ import annotations

from pathlib import Path

LOCAL = Path("seeds")
CODEBOOK_FILE = "themes.toml"
NOTICE = "Using the bundled example corpus (5 UK statements); give a folder to use your own."

_HERE = Path(__file__).resolve().parent


def bundled_dir() -> Path | None:
    """The bundled seeds: inside the installed package, else beside it in a checkout (an
    editable install); None if neither is there (a broken install)."""
    for candidate in (_HERE / "seeds", _HERE.parent / "seeds"):
        if (candidate / "corpus.toml").is_file():
            return candidate
    return None


def default_corpus_dir() -> tuple[Path | None, bool]:
    """The corpus to read when none is given, and whether it is the bundled one."""
    if LOCAL.is_dir():
        return LOCAL, False
    return bundled_dir(), True


def default_codebook() -> Path:
    """`seeds/themes.toml` where there is a `./seeds` folder, else the bundled codebook."""
    folder, _ = default_corpus_dir()
    return (folder or LOCAL) / CODEBOOK_FILE

"""Errors meant for users: the CLI prints `Error: <message>` and exits non-zero.

The core raises these; only `cli.py` turns them into output and exit codes, so library
callers can catch them and tests can assert the exact message.
"""

from __future__ import annotations


class AnnotateError(Exception):
    """A problem the user can fix; its message is shown as is."""

    exit_code = 1


class InputError(AnnotateError):
    """A file could not be read as a document (missing, empty, binary, undecodable)."""


class MetadataError(AnnotateError):
    """`corpus.toml` (or another metadata source) is malformed."""


class CorpusError(AnnotateError):
    """The corpus as a whole is inconsistent (duplicate ids, unknown document)."""


class CodebookError(AnnotateError):
    """A theme codebook is malformed."""


class StoreError(AnnotateError):
    """The annotation store refused an operation."""


class ExportError(AnnotateError):
    """An export or import could not be carried out."""


class UsageError(AnnotateError):
    """The command was called wrongly (a bad option value, a missing option): exit 2, as
    for the argument parser's own usage errors, with a hint on how to call it."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

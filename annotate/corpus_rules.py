"""Folder-wide metadata rules of `corpus.toml`, so nobody writes 9,000 `[[document]]` entries:

    [files]
    pattern = '^(\\d{8})_([^-]+)-ed'   # a regular expression over file names
    date = 1                          # the group giving the date (or a group named "date")
    series = 2                        # the group giving the series (or a group named "series")

    [series]
    table = "chronam-titles.json"     # JSON object keyed by series, or CSV with a `key` column
    key = "lccn"                      # CSV only: the column holding the series
    title = "name"                    # the field giving each series' title
    place = "place_of_publication"    # ... and its place

A date group may be YYYYMMDD, YYYY-MM-DD, YYYY-MM or YYYY. What a `[[document]]` entry says
wins over the rules; the rules win over what a file's own format says. The series table's
path is relative to `corpus.toml`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from annotate.errors import MetadataError
from annotate.files import read_input
from annotate.model import Document, date_precision

RULE_TABLES = frozenset({"files", "series"})
_FILES_KEYS = frozenset({"pattern", "date", "series"})
_SERIES_KEYS = frozenset({"table", "key", "title", "place"})
# A series table is a few thousand rows at most; refuse anything that could exhaust memory.
MAX_TABLE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class SeriesInfo:
    title: str | None = None
    place: str | None = None


@dataclass(frozen=True)
class FolderRules:
    pattern: re.Pattern[str] | None = None
    date_group: int | str | None = None
    series_group: int | str | None = None
    table: Mapping[str, SeriesInfo] | None = None

    def fields(self, file_name: str) -> dict[str, str]:
        """`date` (ISO) and `series` the pattern finds in a file name (either may be absent)."""
        found: dict[str, str] = {}
        m = self.pattern.search(file_name) if self.pattern else None
        if m is None:
            return found
        for key, group in (("date", self.date_group), ("series", self.series_group)):
            value = _group(m, group)
            if value:
                found[key] = value
        if "date" in found:
            found["date"] = iso_date(found["date"]) or ""
            if not found["date"]:
                del found["date"]
        return found

    def apply(self, doc: Document, explicit: bool) -> Document:
        """The document with what the rules say filled in; with `explicit` (it has a
        `[[document]]` entry) its own date and series are kept."""
        meta = doc.meta
        found = self.fields(doc.path.name)
        date = meta.date if explicit and meta.date else found.get("date", meta.date)
        series = meta.series or found.get("series")
        info = self.table.get(series) if (self.table is not None and series) else None
        title = meta.title if explicit and meta.title else (
            (info.title if info else None) or meta.title)
        place = meta.place or (info.place if info else None)
        if (date, series, title, place) == (meta.date, meta.series, meta.title, meta.place):
            return doc
        origin = meta.origin if meta.origin == "corpus.toml" else "corpus.toml rules"
        new = replace(meta, date=date, series=series, title=title, place=place, origin=origin)
        return replace(doc, meta=new)


def _group(m: re.Match[str], group: int | str | None) -> str | None:
    if group is None:
        return None
    try:
        return m.group(group)
    except IndexError:
        return None


def iso_date(value: str) -> str | None:
    """YYYYMMDD as YYYY-MM-DD; an ISO date as it is; None for anything else."""
    if re.fullmatch(r"\d{8}", value):
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    try:
        date_precision(value)
    except ValueError:
        return None
    return value


def read_rules(path: Path, data: Mapping[str, Any]) -> FolderRules | None:
    """The `[files]` and `[series]` tables of the parsed `corpus.toml` at `path`, checked."""
    files, series = data.get("files"), data.get("series")
    if files is None and series is None:
        return None
    name = str(path)
    pattern = date_group = series_group = None
    if files is not None:
        if not isinstance(files, dict):
            raise MetadataError(f"{name}: 'files' must be a table ([files])")
        _known(name, "files", files, _FILES_KEYS)
        raw = files.get("pattern")
        if not isinstance(raw, str):
            raise MetadataError(f"{name}: [files] needs 'pattern', a regular expression")
        try:
            pattern = re.compile(raw)
        except re.error as e:
            raise MetadataError(f"{name}: [files] pattern is not a valid regex ({e})") from None
        date_group = _group_key(name, pattern, files, "date")
        series_group = _group_key(name, pattern, files, "series")
    table = None
    if series is not None:
        if not isinstance(series, dict):
            raise MetadataError(f"{name}: 'series' must be a table ([series])")
        _known(name, "series", series, _SERIES_KEYS)
        for key in _SERIES_KEYS:
            if key in series and not isinstance(series[key], str):
                raise MetadataError(f"{name}: [series] {key} must be a string")
        if "table" not in series:
            raise MetadataError(f"{name}: [series] needs 'table', a JSON or CSV file")
        table = read_series_table(path.parent / series["table"], series.get("key"),
                                  series.get("title", "title"), series.get("place", "place"))
    return FolderRules(pattern, date_group, series_group, table)


def _known(name: str, table: str, data: Mapping[str, Any], known: frozenset[str]) -> None:
    for key in data:
        if key not in known:
            raise MetadataError(
                f"{name}: unknown key {key!r} in [{table}] (known: {', '.join(sorted(known))})"
            )


def _group_key(
    name: str, pattern: re.Pattern[str], files: Mapping[str, Any], key: str
) -> int | str | None:
    value = files.get(key)
    if value is None:
        return key if key in pattern.groupindex else None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MetadataError(f"{name}: [files] {key} must be a group number or name")
    if isinstance(value, int) and not 0 < value <= pattern.groups:
        raise MetadataError(
            f"{name}: [files] {key} = {value}, but the pattern has {pattern.groups} group(s)"
        )
    if isinstance(value, str) and value not in pattern.groupindex:
        raise MetadataError(f"{name}: [files] {key} = {value!r} is not a group of the pattern")
    return value


def read_series_table(
    path: Path, key: str | None, title: str, place: str
) -> dict[str, SeriesInfo]:
    """A JSON object keyed by series (each value an object of fields), or a CSV file with
    a header row whose `key` column holds the series."""
    data = read_input(path)
    if len(data) > MAX_TABLE_BYTES:
        raise MetadataError(f"{path}: series table larger than {MAX_TABLE_BYTES >> 20} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MetadataError(f"{path}: not valid UTF-8") from None
    rows: dict[str, Mapping[str, Any]] = {}
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if key is None or key not in (reader.fieldnames or ()):
            raise MetadataError(f"{path}: give [series] key, the CSV column with the series "
                                f"(columns: {', '.join(reader.fieldnames or ())})")
        try:
            for row in reader:
                rows[row[key]] = row
        except csv.Error as e:
            raise MetadataError(f"{path}: {e}") from None
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as e:
            raise MetadataError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
            raise MetadataError(f"{path}: expected a JSON object of objects keyed by series")
        rows = loaded

    def text_of(row: Mapping[str, Any], field: str) -> str | None:
        v = row.get(field)
        return v.strip() if isinstance(v, str) and v.strip() else None

    return {str(k): SeriesInfo(text_of(r, title), text_of(r, place)) for k, r in rows.items()}


def series_from_names(names: Mapping[str, str], regex: str) -> dict[str, str]:
    """`annotate reuse --series REGEX`: document id -> the regex's first group in its file
    name (documents whose name does not match have no series)."""
    try:
        pattern = re.compile(regex)
    except re.error as e:
        raise MetadataError(f"--series is not a valid regex ({e})") from None
    if pattern.groups < 1:
        raise MetadataError("--series needs a group, e.g. '_([^-]+)-ed': the group is the series")
    out = {}
    for doc_id, file_name in names.items():
        m = pattern.search(file_name)
        if m and m.group(1):
            out[doc_id] = m.group(1)
    return out

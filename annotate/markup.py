"""The only home of lxml: safe XML parsing and the main text of HTML and TEI files.

Untrusted XML never resolves external entities, never loads a DTD and never touches the
network; libxml2's own limits on depth and entity expansion stay on (`huge_tree=False`).
Other modules that need lxml (the TEI export) take `etree` and `parse_xml` from here.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree, html

from annotate.errors import InputError

__all__ = ["etree", "parse_xml", "Extracted", "html_text", "tei_text", "TEI_NS"]

TEI_NS = "http://www.tei-c.org/ns/1.0"
MAX_XML_BYTES = 200 * 1024 * 1024


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


_POSITION = re.compile(r", line \d+, column \d+$")
_DEPTH = re.compile(r"Excessive depth in document: (\d+)")


def _too_deep(message: str) -> str | None:
    """libxml2 stops at a nesting depth (256 in most versions) unless huge_tree is on, a
    guard against hostile files; its error names the limit."""
    m = _DEPTH.search(message)
    return m.group(1) if m else None


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse untrusted XML; errors become `InputError` naming file:line:column."""
    if len(data) > MAX_XML_BYTES:
        raise InputError(f"{name}: XML file larger than {MAX_XML_BYTES // 2**20} MB refused")
    if b"<!ENTITY" in data:
        # Entity declarations are how "billion laughs" and external-entity attacks start;
        # no file this tool reads needs them.
        raise InputError(f"{name}: XML entity declarations are not accepted (unsafe input)")
    try:
        return etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as e:
        line, col = e.position if e.position else (0, 0)
        # libxml2 can quote the offending input on further lines: one line for the user.
        msg = str(e.msg).strip().split("\n")[0].split(" (line")[0] if e.msg else "malformed XML"
        msg = _POSITION.sub("", msg)  # libxml2 repeats the position the prefix already gives
        depth = _too_deep(msg)
        if depth:
            raise InputError(
                f"{name}:{line}:{col}: XML nested more than {depth} elements deep; "
                "not read (a limit against hostile files)"
            ) from None
        raise InputError(f"{name}:{line}:{col}: malformed XML: {msg}") from None


@dataclass(frozen=True)
class Extracted:
    """Main text of a marked-up file, plus whatever metadata the markup itself carries."""

    text: str
    meta: dict[str, object] = field(default_factory=dict)


# Block-level elements start a new paragraph (a blank line) in the extracted text.
_HTML_BLOCKS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li blockquote pre section article tr dd dt figcaption".split()
)
_HTML_SKIP = frozenset(
    "script style nav header footer aside noscript form button svg template iframe".split()
)


# Elements that separate words without starting a paragraph: table cells, HTML line breaks,
# TEI line, column and page breaks ("Three<lb/>four" is two words unless break="no"). A <br>
# inside a <p> is a line break, not a paragraph end: "The UK will<br>act." is one sentence.
_SEPARATORS = frozenset("td th br lb cb pb cell".split())


def _collect(el: etree._Element, blocks: frozenset[str], skip: frozenset[str], out: list[str],
             local: bool = False) -> None:
    tag = etree.QName(el).localname if local and isinstance(el.tag, str) else el.tag
    if not isinstance(tag, str) or tag in skip:
        if el.tail:
            out.append(el.tail)
        return
    if tag in blocks:
        out.append("\n\n")
    elif tag in _SEPARATORS and el.get("break") != "no":
        out.append(" ")
    if el.text:
        out.append(el.text)
    for child in el:
        _collect(child, blocks, skip, out, local)
    if tag in blocks:
        out.append("\n\n")
    if el.tail:
        out.append(el.tail)


def _tidy(parts: list[str]) -> str:
    """Collapse runs of spaces inside lines and of blank lines between blocks."""
    paras = []
    for block in "".join(parts).split("\n\n"):
        line = " ".join(block.split())
        if line:
            paras.append(line)
    return "\n\n".join(paras) + "\n" if paras else ""


_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""\A\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9_.\-]+)""", re.IGNORECASE
)
# As browsers do (WHATWG Encoding): these labels mean windows-1252, whose 0x80-0x9F are
# typographic quotes and dashes rather than control characters.
_WINDOWS_1252 = frozenset(
    "ascii us-ascii iso-8859-1 iso8859-1 iso_8859-1 latin1 latin-1 l1 cp819 ibm819 "
    "windows-1252 cp1252 x-cp1252".split()
)


def html_charset(data: bytes) -> tuple[str, str | None]:
    """(Python codec, charset as declared) of an HTML file: its byte-order mark, else the
    `<meta charset>` (or http-equiv) or XML declaration in its first 4 KB, else UTF-8 with
    None declared."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    head = data[:4096]
    m = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if m is None:
        return "utf-8", None
    label = m.group(1).decode("ascii").strip().lower()
    if label in _WINDOWS_1252:
        return "cp1252", label
    try:
        return codecs.lookup(label).name, label
    except LookupError:
        return "", label


def decode_html(data: bytes, name: str) -> str:
    """The text of an HTML file in the charset it declares (UTF-8 if none), strictly: bytes
    that are not valid in it are an error, as for a .txt file, never U+FFFD or mojibake."""
    codec, declared = html_charset(data)
    if not codec:
        raise InputError(
            f"{name}: declares an unknown charset {declared!r}; convert it to UTF-8 and "
            "declare <meta charset=\"utf-8\">"
        )
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        where = f"byte 0x{data[e.start]:02x} at offset {e.start}"
        if declared is None:
            raise InputError(
                f"{name}: not valid UTF-8 ({where}) and no charset declared; add "
                "<meta charset=...> naming its charset, or convert it to UTF-8"
            ) from None
        raise InputError(
            f"{name}: not valid {declared} ({where}), the charset it declares; correct its "
            "<meta charset> or convert it to UTF-8"
        ) from None


def html_text(data: bytes, name: str) -> Extracted:
    """Main text of an HTML page: `main`/`article` if present, else `body`, without scripts,
    styles, navigation, headers and footers; one paragraph per block element."""
    # Decoded here, strictly, then handed to libxml2 as UTF-8: its own decoding would turn
    # bad bytes into U+FFFD and undeclared UTF-8 into mojibake, silently.
    text = decode_html(data, name)
    parser = html.HTMLParser(encoding="utf-8")
    try:
        doc = html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError) as e:
        raise InputError(f"{name}: cannot parse HTML: {e}") from None
    for err in parser.error_log:
        depth = _too_deep(str(err.message))
        if depth:
            raise InputError(
                f"{name}: HTML nested more than {depth} elements deep; the parser stops "
                "there, so the page is not read"
            )
    meta: dict[str, object] = {}
    title = doc.findtext(".//title")
    if title and title.strip():
        meta["title"] = " ".join(title.split())
    for m in doc.iter("meta"):
        key = (m.get("name") or m.get("property") or "").lower()
        value = (m.get("content") or "").strip()
        if not value:
            continue
        if key in ("author", "dc.creator"):
            meta.setdefault("author", value)
        elif key in ("date", "dc.date", "article:published_time", "dcterms.created"):
            meta.setdefault("date", value[:10])
        elif key in ("og:title", "dc.title"):
            meta.setdefault("title", value)
        elif key in ("og:site_name", "dc.publisher"):
            meta.setdefault("body", value)
    root = doc.find(".//main")
    if root is None:
        root = doc.find(".//article")
    if root is None:
        root = doc.find(".//body")
    if root is None:
        root = doc
    parts: list[str] = []
    _collect(root, _HTML_BLOCKS, _HTML_SKIP, parts)
    return Extracted(_tidy(parts), meta)


_TEI_BLOCKS = frozenset("p head ab l lg item sp speaker note div quote list table row".split())
_TEI_SKIP = frozenset(["teiHeader", "standOff", "facsimile"])


def is_tei(root: etree._Element) -> bool:
    return isinstance(root.tag, str) and etree.QName(root).namespace == TEI_NS


def tei_text(data: bytes, name: str) -> Extracted:
    """Text of a TEI P5 document's `<text>`, a paragraph per block element, and the header's
    title, date, author and publisher."""
    root = parse_xml(data, name)
    if not is_tei(root):
        raise InputError(f"{name}: not a TEI P5 document (root is not in the TEI namespace)")
    ns = {"t": TEI_NS}
    text_el = root.find(".//t:text", ns)
    if text_el is None:
        raise InputError(f"{name}: TEI document has no <text> element")
    meta: dict[str, object] = {}
    title = root.findtext(".//t:teiHeader/t:fileDesc/t:titleStmt/t:title", namespaces=ns)
    if title and title.strip():
        meta["title"] = " ".join(title.split())
    author = root.findtext(".//t:teiHeader/t:fileDesc/t:titleStmt/t:author", namespaces=ns)
    if author and author.strip():
        meta["author"] = " ".join(author.split())
    publisher = root.findtext(".//t:teiHeader//t:publicationStmt/t:publisher", namespaces=ns)
    if publisher and publisher.strip():
        meta["body"] = " ".join(publisher.split())
    date = root.find(".//t:teiHeader//t:sourceDesc//t:date", ns)
    if date is None:
        date = root.find(".//t:teiHeader//t:publicationStmt/t:date", ns)
    if date is not None:
        when = date.get("when")
        if when:
            meta["date"] = when.split("T")[0]  # an xs:dateTime keeps its day
        elif date.get("notBefore") and date.get("notAfter"):
            meta["date"] = f"{date.get('notBefore')}/{date.get('notAfter')}"
    parts: list[str] = []
    _collect(text_el, _TEI_BLOCKS, _TEI_SKIP, parts, local=True)
    return Extracted(_tidy(parts), meta)


def read_markup(path: Path, data: bytes, fmt: str) -> Extracted:
    name = str(path)
    return html_text(data, name) if fmt == "html" else tei_text(data, name)

"""Reading back the TEI subset `annotate export` writes (see `tei_export`): documents with
their text and checksum, annotations with their pointers resolved to offsets, and history."""

from __future__ import annotations

from typing import cast

from annotate.errors import InputError
from annotate.exchange.data import CERT_STATUS, Imported, ImportedDoc
from annotate.exchange.pointers import G_TYPE, SPAN_N, XML_ID, g_char, resolve, t
from annotate.markup import etree, parse_xml
from annotate.model import STATUSES, Annotation, Change


def _element_offsets(div: etree._Element) -> tuple[str, dict[str, tuple[int, int]]]:
    """The text content of `div` and the [start, end) of every element with an xml:id in it."""
    fast = _flat_offsets(div)
    if fast is not None:
        return fast
    parts: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    pos = 0

    def walk(el: etree._Element) -> None:
        nonlocal pos
        start = pos
        if el.text:
            parts.append(el.text)
            pos += len(el.text)
        for child in el:
            char = _g(child)
            if char is not None:
                parts.append(char)
                pos += 1
            elif isinstance(child.tag, str):
                walk(child)
            if child.tail:
                parts.append(child.tail)
                pos += len(child.tail)
        xid = el.get(XML_ID)
        if xid:
            spans[xid] = (start, pos)

    walk(div)
    return "".join(parts), spans


def _flat_offsets(div: etree._Element) -> tuple[str, dict[str, tuple[int, int]]] | None:
    """`_element_offsets` for the shape the export writes (div > p > s, sentences holding
    only text), without recursion; None for any other shape."""
    p_tag, s_tag = t("p"), t("s")
    parts: list[str] = [div.text or ""]
    spans: dict[str, tuple[int, int]] = {}
    pos = len(parts[0])
    for p in div:
        if p.tag != p_tag:
            return None
        p_start = pos
        text = p.text or ""
        parts.append(text)
        pos += len(text)
        for s in p:
            if s.tag != s_tag or len(s):
                return None
            text = s.text or ""
            parts.append(text)
            spans[s.get(XML_ID) or ""] = (pos, pos + len(text))
            pos += len(text)
            tail = s.tail
            if tail:
                parts.append(tail)
                pos += len(tail)
        spans[p.get(XML_ID) or ""] = (p_start, pos)
        tail = p.tail
        if tail:
            parts.append(tail)
            pos += len(tail)
    spans.pop("", None)
    xid = div.get(XML_ID)
    if xid:
        spans[xid] = (0, pos)
    return "".join(parts), spans


G_TAG = t("g")


def _g(el: etree._Element) -> str | None:
    """The character an export's `<g type="char" n="U+001F">␟</g>` stands for; None for any
    other element. A `g` of ours that is malformed is an error, not a silent change."""
    if el.tag != G_TAG or el.get("type") != G_TYPE:
        return None
    char = g_char(el.get("n"), el.text) if len(el) == 0 else None
    if char is None:
        raise InputError(f"{_line(el)}: a g element of type char needs n=\"U+XXXX\" and "
                         "one character of content")
    return char


def _text_of(el: etree._Element | None) -> str:
    """The text content of `el`, with each `g` of ours as the character it stands for."""
    if el is None:
        return ""
    parts = [el.text or ""]
    for child in el:
        char = _g(child)
        if char is not None:
            parts.append(char)
        elif isinstance(child.tag, str):
            parts.append(_text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _line(el: etree._Element) -> int:
    line: object = el.sourceline
    return line if isinstance(line, int) else 0


def read_tei(data: bytes, name: str) -> Imported:
    """What an `annotate export` TEI file holds; InputError naming the file otherwise."""
    try:
        return _read_tei(data, name)
    except InputError as e:
        if str(e).startswith(name):
            raise
        raise InputError(f"{name}:{e}") from None


def _read_tei(data: bytes, name: str) -> Imported:
    root = parse_xml(data, name)
    if root.tag != t("teiCorpus"):
        raise InputError(f"{name}: not a TEI corpus written by `annotate export` "
                         f"(root is {etree.QName(root).localname!r}, not teiCorpus)")
    if root.find(f"{t('teiHeader')}//{t('application')}[@ident='annotate']") is None:
        raise InputError(f"{name}: not written by `annotate export` (no annotate application "
                         "in the header); only its own TEI subset can be imported")
    docs: dict[str, ImportedDoc] = {}
    where: dict[str, tuple[str, int, int]] = {}
    for tei in root.iterfind(t("TEI")):
        doc_id = tei.findtext(f".//{t('publicationStmt')}/{t('idno')}[@type='annotate']")
        digest = tei.findtext(f".//{t('publicationStmt')}/{t('idno')}[@type='sha256']")
        div = tei.find(f"{t('text')}/{t('body')}/{t('div')}")
        if not doc_id or div is None:
            raise InputError(f"{name}:{_line(tei)}: a TEI document without its "
                             "idno type=\"annotate\" or text/body/div")
        if doc_id in docs:
            raise InputError(f"{name}:{_line(tei)}: document {doc_id!r} appears twice")
        text, spans = _element_offsets(div)
        docs[doc_id] = ImportedDoc(doc_id, digest, text)
        for xid, (a, b) in spans.items():
            where[xid] = (doc_id, a, b)
    header = root.find(t("teiHeader"))
    assert header is not None
    themes = {c.get(XML_ID) or "": c.get("n") or c.get(XML_ID) or ""
              for c in header.iter(t("category"))}
    users = {p.get(XML_ID) or "": _text_of(p) for p in header.iter(t("persName"))
             if p.get(XML_ID)}

    def user_of(ref: str | None, el: etree._Element) -> str:
        if not ref or not ref.split():
            return ""
        # The annotator is the first pointer; a decided suggestion lists the application and
        # the user who decided after it (provenance the store keeps apart).
        refs = ref.split()
        ref = next((r for r in refs if r.startswith("#") and r[1:] in users), refs[0])
        if ref.startswith("#") and ref[1:] in users:
            return users[ref[1:]]
        raise InputError(f"{name}:{_line(el)}: unknown annotator {ref!r}")

    anns: list[Annotation] = []
    note_tag, date_tag, quote_tag = t("note"), t("date"), t("quote")
    for span in root.iterfind(f"{t('standOff')}/{t('spanGrp')}[@type='annotation']/{t('span')}"):
        attrs = cast(dict[str, str], dict(span.items()))
        ptr = attrs.get("from") or attrs.get("target") or ""
        try:
            doc_id, start, end = resolve(ptr, where)
        except InputError as e:
            raise InputError(f"{name}:{_line(span)}: {e}") from None
        note = ""
        fields: dict[str, str] = {}
        orphaned = False
        # One pass over the children (this loop runs once per annotation).
        for child in span:
            if child.tag != note_tag:
                continue
            kind = child.get("type")
            if kind == "comment":
                note = (child.text or "") if len(child) == 0 else _text_of(child)
            elif kind == "record":
                orphaned = child.get("subtype") == "orphaned"
                kept = SPAN_N.match(child.get("n") or "") if orphaned else None
                if kept:
                    start, end = int(kept[1]), int(kept[2])
                for part in child:
                    if part.tag == date_tag:
                        fields["date." + (part.get("type") or "")] = part.get("when") or ""
                    elif part.tag == quote_tag:
                        fields["quote." + (part.get("type") or "")] = part.text or "" \
                            if len(part) == 0 else _text_of(part)
        themes_of = []
        for ref in (attrs.get("ana") or "").split():
            if not ref.startswith("#") or ref[1:] not in themes:
                raise InputError(f"{name}:{_line(span)}: unknown theme {ref!r}")
            themes_of.append(themes[ref[1:]])
        status = attrs.get("subtype") or CERT_STATUS.get(attrs.get("cert") or "", "accepted")
        if status not in STATUSES:
            raise InputError(f"{name}:{_line(span)}: unknown status {status!r}")
        quote = fields.get("quote.exact")
        ann_id = attrs.get("n") or attrs.get(XML_ID) or ""
        if not ann_id.strip():
            raise InputError(f"{name}:{_line(span)}: an annotation span without its id "
                             "(@n or @xml:id)")
        try:
            anns.append(Annotation(
                id=ann_id,
                doc=doc_id, start=start, end=end,
                quote=quote if quote is not None else (docs[doc_id].text or "")[start:end],
                prefix=fields.get("quote.prefix", ""), suffix=fields.get("quote.suffix", ""),
                themes=tuple(themes_of), note=note,
                user=user_of(attrs.get("resp"), span), status=status,
                created=fields.get("date.created", ""), modified=fields.get("date.modified", ""),
                orphaned=orphaned,
            ))
        except ValueError as e:
            raise InputError(f"{name}:{_line(span)}: {e}") from None
    history: list[Change] = []
    for ch in header.iterfind(f"{t('revisionDesc')}/{t('change')}"):
        xid = ch.get(XML_ID, "")
        num = xid.rsplit(".", 1)[-1]
        history.append(Change(
            id=int(num) if num.isdigit() else len(history) + 1,
            annotation=ch.get("n", ""), user=user_of(ch.get("who"), ch),
            when=ch.get("when", ""), action=ch.get("type", ""),
            detail=(ch.text or "") if len(ch) == 0 else _text_of(ch),
        ))
    return Imported(docs, tuple(anns), tuple(history), "tei")

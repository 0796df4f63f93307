"""TEI P5 export and import of a corpus with its annotations, theme hits and shared passages.

The export is one `teiCorpus` file (the subset written and read back is listed below), plus
three other formats: W3C Web Annotation JSON-LD, CSV (a row per annotation) and, for two
documents, a TEI collation in parallel segmentation. lxml comes from `annotate.markup` only.

The TEI subset
--------------
- `teiCorpus/teiHeader`: annotators as `titleStmt/respStmt/persName` (`xml:id="user.NAME"`,
  the user name as content), `encodingDesc/appInfo/application` (`xml:id="app.annotate"`),
  `classDecl/taxonomy xml:id="themes"` (nested `category` for the hierarchy; `@n` keeps the
  theme id) and `taxonomy xml:id="reuse"`, and `revisionDesc/change` for each history entry
  (`@type` the action, `@n` the annotation id, `@who`, `@when`, the JSON detail as content).
- `teiCorpus/standOff` (before the documents): `spanGrp type="annotation"` with one `span` per
  annotation (`@n` its id, `@from` a whole sentence or paragraph or `@target` a `string-range()`,
  `@ana` its themes, `@resp` its user, `@cert` and `@subtype` its status, `note type="comment"`
  its note, `note type="record"` its created/modified dates and quote context);
  `spanGrp type="themeHit"` (codebook hits per sentence); `linkGrp type="alignment"` (a `link`
  per shared passage, similarity in `@cert`, reuse category in `@ana`); a `join type="cluster"`
  per cluster of passages; `listAnnotation` with a `commenting` `annotation` per note.
- one `TEI` per document (`xml:id` "d" + its id, e.g. `d002`): a header with title, date
  (`@when`, or `@notBefore`/`@notAfter` for a range), author, speakers, issuing body, source,
  `idno type="annotate"` (the document id) and `idno type="sha256"` (of the document text);
  then `text/body/div/p/s` with ids `d002.div`, `d002.p3`, `d002.p3.s2`.

Whitespace: nothing is normalised. The text content of each `s` is the sentence's text exactly
(hard line breaks inside a sentence kept), the whitespace between sentences and paragraphs is
kept as it is in the file, and the text content of the `div` is the whole document text, so
`string-range()` offsets equal document offsets minus the start of the element pointed at.
The one exception: characters XML 1.0 cannot carry (control characters other than tab, line
feed and carriage return) are replaced one for one by U+FFFD, so offsets still hold.

Import
------
Only this subset is read back (a TEI file is recognised by its `application ident="annotate"`),
plus Web Annotation JSON-LD, including other tools' (an annotation with only a quote is placed
where the quote occurs in the corpus document, its context deciding between occurrences).
Documents are matched by id and sha256: annotations of a document whose text changed are
conflicts, as is an annotation whose id is in the store with different content; nothing is
overwritten and an identical annotation is counted as unchanged, so importing twice adds
nothing. The history of removed annotations is not imported (the store has no removed
annotation to attach it to).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from annotate import __version__
from annotate.errors import AnnotateError, ExportError, InputError
from annotate.files import read_input
from annotate.markup import TEI_NS, etree, parse_xml
from annotate.model import (
    STATUSES,
    Annotation,
    Change,
    Cluster,
    Codebook,
    Document,
    Passage,
    Theme,
    ThemeHit,
)

if TYPE_CHECKING:
    from annotate.corpus import Corpus
    from annotate.store import Store

XML_NS = "http://www.w3.org/XML/1998/namespace"
XML_ID = f"{{{XML_NS}}}id"
_T = f"{{{TEI_NS}}}"
FORMATS = ("tei", "webanno", "csv", "collation")
SUFFIXES = {"tei": ".xml", "webanno": ".jsonld", "csv": ".csv", "collation": ".collation.xml"}

STATUS_CERT = {"accepted": "high", "suggested": "medium", "rejected": "low"}
CERT_STATUS = {v: k for k, v in STATUS_CERT.items()}

# Reuse categories by similarity (the `reuse` taxonomy of the header).
REUSE_CATEGORIES = (
    ("verbatim", "Verbatim", "The same words (similarity of at least 0.99).", 0.99),
    ("near", "Near-verbatim", "The same passage with small edits (similarity 0.85 to 0.99).",
     0.85),
    ("loose", "Loose", "A shared passage rewritten in part (similarity below 0.85).", 0.0),
)

WEBANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
ANNO_URN = "urn:annotate:annotation:"
DOC_URN = "urn:annotate:document:"

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Dots are replaced too: the export's own ids use them as separators (d002.p3.s2,
# ann.X.comment), so an id made from a user's value can never equal one of those.
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_\-]")
_FIXED_IDS = ("app.annotate", "themes", "reuse", "reuse.verbatim", "reuse.near", "reuse.loose")
_SPAN_N = re.compile(r"^(\d+):(\d+)$")
_RANGE = re.compile(r"^#string-range\(\s*([^,\s)]+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$")


def t(name: str) -> str:
    """Clark name of a TEI element."""
    return _T + name


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def xml_safe(text: str) -> str:
    """`text` with characters XML 1.0 cannot carry replaced one for one by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- What an export is made of ---------------------------------------------------------------


@dataclass(frozen=True)
class ExportData:
    """Everything an export can carry; only the corpus is required."""

    corpus: Corpus
    annotations: tuple[Annotation, ...] = ()
    history: tuple[Change, ...] = ()
    codebook: Codebook | None = None
    hits: Mapping[str, tuple[ThemeHit, ...]] = field(default_factory=dict)
    passages: tuple[Passage, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    title: str | None = None
    when: str | None = None  # the export's timestamp; None means now

    @property
    def documents(self) -> tuple[Document, ...]:
        return tuple(self.corpus.documents)

    def skipped_annotations(self) -> list[Annotation]:
        """Annotations of documents that are not in the corpus (they cannot be pointed at)."""
        ids = {d.id for d in self.documents}
        return [a for a in self.annotations if a.doc not in ids]


class _Ids:
    """xml:ids for documents, themes, users and annotations: NCNames, unique in the file."""

    def __init__(self) -> None:
        self.used: set[str] = set(_FIXED_IDS)
        self.maps: dict[str, dict[str, str]] = defaultdict(dict)

    def get(self, kind: str, prefix: str, value: str) -> str:
        known = self.maps[kind].get(value)
        if known is not None:
            return known
        base = prefix + _UNSAFE_ID.sub("_", value)
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate)
        self.maps[kind][value] = candidate
        return candidate


@dataclass(frozen=True)
class _Layout:
    """Where the elements of one document start and end, to write pointers into it."""

    doc: Document
    xid: str
    para_starts: tuple[int, ...]

    def sentence_xid(self, sentence_id: str) -> str:
        return self.xid + sentence_id[len(self.doc.id):]

    def pointer(self, start: int, end: int) -> tuple[str, bool]:
        """A pointer to [start, end): (`#id`, True) for a whole sentence or paragraph, else
        (`#string-range(id,offset,length)`, False) into the smallest element holding it."""
        start = max(0, min(start, len(self.doc.text)))
        end = max(start, min(end, len(self.doc.text)))
        s = self.doc.sentence_at(start)
        if s is not None and end <= s.end:
            return self._point(self.sentence_xid(s.id), s.start, s.end, start, end)
        i = bisect_right(self.para_starts, start) - 1
        if i >= 0:
            p = self.doc.paragraphs[i]
            if p.start <= start and end <= p.end:
                return self._point(self.sentence_xid(p.id), p.start, p.end, start, end)
        return self._point(f"{self.xid}.div", 0, len(self.doc.text), start, end)

    @staticmethod
    def _point(xid: str, a: int, b: int, start: int, end: int) -> tuple[str, bool]:
        if (start, end) == (a, b) and a < b:
            return f"#{xid}", True
        return f"#string-range({xid},{start - a},{end - start})", False


def reuse_category(similarity: float) -> str:
    for cat, _label, _desc, floor in REUSE_CATEGORIES:
        if similarity >= floor:
            return cat
    return REUSE_CATEGORIES[-1][0]


# --- TEI export ------------------------------------------------------------------------------


def _sub(parent: etree._Element, name: str, text: str | None = None,
         **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, t(name))
    for k, v in attrs.items():
        el.set(XML_ID if k == "xml_id" else k, v)
    if text is not None:
        el.text = xml_safe(text)
    return el


_ESC = re.compile(r"[&<>\r]")
_ESC_ATTR = re.compile(r'["\n\t]')


def _esc(text: str) -> str:
    """Text as XML character data (a carriage return escaped so parsers keep it)."""
    text = xml_safe(text)
    if _ESC.search(text):
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))
    return text


def _esc_safe(text: str) -> str:
    """`_esc` for text already made XML-safe."""
    if _ESC.search(text):
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))
    return text


def _attr(text: str) -> str:
    """Text as an attribute value in double quotes (whitespace escaped so it survives
    attribute-value normalisation)."""
    text = _esc(text)
    if _ESC_ATTR.search(text):
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def _tag(name: str, attrs: Iterable[tuple[str, str]], empty: bool = False) -> str:
    inner = "".join(f' {k}="{_attr(v)}"' for k, v in attrs)
    return f"<{name}{inner}{'/' if empty else ''}>"


def _fragment(el: etree._Element, level: int) -> str:
    """An lxml element as indented markup to embed in the export (the TEI namespace is
    declared once, on the root)."""
    etree.indent(el, space="  ", level=level)
    return etree.tostring(el, encoding="unicode").replace(f' xmlns="{TEI_NS}"', "", 1)


def _date(parent: etree._Element, date: str | None, name: str = "date") -> None:
    if not date:
        return
    from annotate.model import date_bounds, date_precision

    if date_precision(date) == "range":
        a, b = date_bounds(date)
        _sub(parent, name, f"{a} to {b}", notBefore=a, notAfter=b)
    else:
        _sub(parent, name, date, when=date)


class _Exporter:
    def __init__(self, data: ExportData) -> None:
        self.data = data
        self.ids = _Ids()
        self.when = data.when or _now()
        self.layouts: dict[str, _Layout] = {}
        for d in data.documents:
            xid = self.ids.get("doc", "d", d.id)
            self.layouts[d.id] = _Layout(d, xid, tuple(p.start for p in d.paragraphs))
        self.themes: list[Theme] = list(data.codebook.themes) if data.codebook else []
        known = {th.id for th in self.themes}
        extra = sorted(
            {th for a in data.annotations for th in a.themes}
            | {th for hs in data.hits.values() for h in hs for th in h.themes}
        )
        # Themes used but absent from the codebook still need a category to point at.
        self.themes += [Theme(th, th, "Not in the codebook.") for th in extra if th not in known]
        for th in self.themes:
            self.ids.get("theme", "theme.", th.id)
        users = {a.user for a in data.annotations} | {c.user for c in data.history}
        for u in sorted(users):
            self.ids.get("user", "user.", u)
        self.doc_themes: dict[str, list[str]] = defaultdict(list)
        for a in data.annotations:
            if a.doc not in self.layouts:
                continue  # left out of the export: nothing may point at it
            self.ids.get("ann", "ann.", a.id)
            self.doc_themes[a.doc].extend(a.themes)

    def theme_ref(self, themes: Iterable[str]) -> str:
        return " ".join(f"#{self.ids.maps['theme'][th]}" for th in dict.fromkeys(themes))

    def user_ref(self, user: str) -> str:
        return f"#{self.ids.maps['user'][user]}"

    def write(self) -> str:
        """The export as a string. The bulk (stand-off annotations and document texts) is
        written directly rather than built as an lxml tree: several times faster, and the
        tests parse every export back and validate it."""
        out = ["<?xml version='1.0' encoding='UTF-8'?>\n",
               f'<teiCorpus xmlns="{TEI_NS}" version="4.3.0">\n  ',
               _fragment(self.corpus_header(), 1), "\n  "]
        standoff = self.standoff()
        if standoff:
            out += ['<standOff type="annotations">\n', *standoff, "  </standOff>\n  "]
        docs = self.data.documents
        for i, d in enumerate(docs):
            out.append(self.document(d))
            out.append("\n  " if i + 1 < len(docs) else "\n")
        out.append("</teiCorpus>\n")
        return "".join(out)

    # header -----------------------------------------------------------------------------

    def corpus_header(self) -> etree._Element:
        data = self.data
        header = etree.Element(t("teiHeader"), nsmap={None: TEI_NS})  # type: ignore[dict-item]
        fd = _sub(header, "fileDesc")
        ts = _sub(fd, "titleStmt")
        _sub(ts, "title", data.title or data.corpus.name or "Annotated corpus")
        if self.ids.maps["user"]:
            rs = _sub(ts, "respStmt")
            _sub(rs, "resp", "annotation")
            for user, xid in sorted(self.ids.maps["user"].items()):
                _sub(rs, "persName", user, xml_id=xid)
        ps = _sub(fd, "publicationStmt")
        _sub(ps, "p", f"Exported by annotate {__version__} on {self.when}; not published.")
        sd = _sub(fd, "sourceDesc")
        _sub(sd, "p", f"{len(data.documents)} documents, each described in its own header.")
        enc = _sub(header, "encodingDesc")
        ai = _sub(enc, "appInfo")
        app = _sub(ai, "application", xml_id="app.annotate", ident="annotate",
                   version=__version__, when=self.when[:10])
        _sub(app, "label", "annotate")
        ed = _sub(enc, "editorialDecl")
        norm = _sub(ed, "normalization")
        _sub(norm, "p", "No normalisation: the text content of each div is the document text "
             "exactly, line breaks included; characters XML cannot carry are replaced one for "
             "one by U+FFFD. string-range() offsets count characters of that text content.")
        cd = _sub(enc, "classDecl")
        if self.themes:
            self.taxonomy(cd)
        tx = _sub(cd, "taxonomy", xml_id="reuse")
        _sub(tx, "desc", "Kinds of shared passage, by similarity")
        for cat, label, desc, _floor in REUSE_CATEGORIES:
            c = _sub(tx, "category", xml_id=f"reuse.{cat}", n=cat)
            cat_desc = _sub(c, "catDesc")
            _sub(cat_desc, "term", label).tail = f": {desc}"
        if data.history:
            rd = _sub(header, "revisionDesc")
            anns = self.ids.maps["ann"]
            for ch in data.history:
                attrs = {"xml_id": f"change.{ch.id}", "n": ch.annotation, "when": ch.when,
                         "who": self.user_ref(ch.user), "type": ch.action}
                if ch.annotation in anns:
                    attrs["target"] = f"#{anns[ch.annotation]}"
                _sub(rd, "change", ch.detail, **attrs)
        return header

    def taxonomy(self, cd: etree._Element) -> None:
        cb = self.data.codebook
        tx = _sub(cd, "taxonomy", xml_id="themes")
        _sub(tx, "desc", cb.name if cb else "Themes")
        by_parent: dict[str | None, list[Theme]] = defaultdict(list)
        ids = {th.id for th in self.themes}
        for th in self.themes:
            by_parent[th.parent if th.parent in ids else None].append(th)

        def add(parent: etree._Element, th: Theme, seen: frozenset[str]) -> None:
            c = _sub(parent, "category", xml_id=self.ids.maps["theme"][th.id], n=th.id)
            desc = _sub(c, "catDesc")
            _sub(desc, "term", th.label)
            if th.description:
                desc[-1].tail = xml_safe(f": {th.description}")
            for child in by_parent.get(th.id, ()):
                if child.id not in seen:  # a cycle in a codebook must not loop forever
                    add(c, child, seen | {child.id})

        for th in by_parent[None]:
            add(tx, th, frozenset({th.id}))

    # stand-off --------------------------------------------------------------------------

    def standoff(self) -> list[str]:
        data = self.data
        out: list[str] = []
        anns = [a for a in data.annotations if a.doc in self.layouts]
        if anns:
            out.append('    <spanGrp type="annotation">\n')
            out += [self.annotation_span(a) for a in anns]
            out.append("    </spanGrp>\n")
        hits = [h for d in data.documents for h in data.hits.get(d.id, ())]
        if hits:
            out.append('    <spanGrp type="themeHit" resp="#app.annotate">\n')
            out += [self.hit_span(h) for h in hits]
            out.append("    </spanGrp>\n")
        passages = [p for p in data.passages
                    if p.a.doc in self.layouts and p.b.doc in self.layouts]
        pids: dict[str, str] = {}
        if passages:
            out.append('    <linkGrp type="alignment" resp="#app.annotate">\n')
            for p in passages:
                pids[p.id] = self.ids.get("passage", "reuse.", p.id)
                pa, _ = self.layouts[p.a.doc].pointer(p.a.start, p.a.end)
                pb, _ = self.layouts[p.b.doc].pointer(p.b.start, p.b.end)
                out.append("      " + _tag("link", [
                    ("xml:id", pids[p.id]), ("n", p.id), ("type", "reuse"),
                    ("target", f"{pa} {pb}"), ("ana", f"#reuse.{reuse_category(p.similarity)}"),
                    ("cert", f"{max(0.0, min(1.0, p.similarity)):.4f}")], empty=True) + "\n")
            out.append("    </linkGrp>\n")
        for c in data.clusters:
            members = [f"#{pids[pid]}" for pid in c.passages if pid in pids]
            if len(members) < 2:
                continue
            out.append("    " + _tag("join", [
                ("xml:id", self.ids.get("cluster", "cluster.", c.id)), ("n", c.id),
                ("type", "cluster"), ("result", "linkGrp"), ("target", " ".join(members))]))
            desc = (f"A passage shared by {len(c.documents)} documents "
                    f"({', '.join(c.documents)}); earliest {c.earliest}.")
            out.append(f"\n      <desc>{_esc(desc)}</desc>\n    </join>\n")
        noted = [a for a in anns if a.note]
        if noted:
            out.append("    <listAnnotation>\n")
            for a in noted:
                xid = self.ids.maps["ann"][a.id]
                out.append("      " + _tag("annotation", [
                    ("xml:id", f"{xid}.comment"), ("motivation", "commenting"),
                    ("target", f"#{xid}"), ("resp", self.user_ref(a.user))]))
                out.append(f"\n        <note>{_esc(a.note)}</note>\n      </annotation>\n")
            out.append("    </listAnnotation>\n")
        return out

    def annotation_span(self, a: Annotation) -> str:
        # Written by hand rather than with `_tag`: this runs once per annotation, and every
        # attribute but the id (`n`) is made of xml:ids and numbers that need no escaping.
        lay = self.layouts[a.doc]
        ptr, whole = lay.pointer(a.start, a.end)
        out = [f'      <span xml:id="{self.ids.maps["ann"][a.id]}" n="{_attr(a.id)}" '
               f'type="annotation" subtype="{a.status}" cert="{STATUS_CERT[a.status]}" '
               f'{"from" if whole else "target"}="{ptr}"']
        if a.themes:
            out.append(f' ana="{self.theme_ref(a.themes)}"')
        if a.user:
            out.append(f' resp="{self.user_ref(a.user)}"')
        inner: list[str] = []
        if a.note:
            inner.append(f'        <note type="comment">{_esc(a.note)}</note>\n')
        rec: list[str] = []
        if a.created:
            rec.append(f'          <date type="created" when="{_attr(a.created)}"/>\n')
        if a.modified:
            rec.append(f'          <date type="modified" when="{_attr(a.modified)}"/>\n')
        if a.prefix:
            rec.append(f'          <quote type="prefix">{_esc(a.prefix)}</quote>\n')
        # The quote is what the pointer selects; it is written out only when it differs (an
        # orphaned annotation whose text changed), so the file stays small.
        if a.quote != lay.doc.text[a.start:a.end] or a.end > len(lay.doc.text):
            rec.append(f'          <quote type="exact">{_esc(a.quote)}</quote>\n')
        if a.suffix:
            rec.append(f'          <quote type="suffix">{_esc(a.suffix)}</quote>\n')
        # An orphan's offsets may lie past the end of the changed text, where no pointer
        # reaches: the record keeps them, so an import gives them back.
        orphan = f' subtype="orphaned" n="{a.start}:{a.end}"' if a.orphaned else ""
        if rec:
            inner += [f'        <note type="record"{orphan}>\n', *rec, "        </note>\n"]
        elif a.orphaned:
            inner.append(f'        <note type="record"{orphan}/>\n')
        if not inner:
            out.append("/>\n")
        else:
            out += [">\n", *inner, "      </span>\n"]
        return "".join(out)

    def hit_span(self, h: ThemeHit) -> str:
        lay = self.layouts[h.doc]
        ptr, whole = lay.pointer(h.start, h.end)
        attrs = [("type", "themeHit"), ("ana", self.theme_ref(h.themes)),
                 ("from" if whole else "target", ptr)]
        if not h.evidence:
            return "      " + _tag("span", attrs, empty=True) + "\n"
        words = "; ".join(f"{e.theme}: {e.text!r} ({e.pattern})" for e in h.evidence)
        return (f"      {_tag('span', attrs)}\n        <note type=\"evidence\">{_esc(words)}"
                "</note>\n      </span>\n")

    # documents --------------------------------------------------------------------------

    def document(self, d: Document) -> str:
        """A `TEI` element: the header, then the text with every character of the document
        in place, so the div's text content is the document text."""
        lay = self.layouts[d.id]
        full = xml_safe(d.text)
        out = [_tag("TEI", [("xml:id", lay.xid), ("n", d.id)]), "\n    ",
               _fragment(self.document_header(d), 2),
               '\n    <text>\n      <body>\n        ',
               _tag("div", [("xml:id", f"{lay.xid}.div"), ("type", "statement")])]
        paras = d.paragraphs
        esc = _esc_safe

        def between(text: str) -> str:
            # A div holds only elements and XML whitespace: other text between paragraphs
            # (a no-break space on a line of its own, say) goes in an `ab` of its own.
            if text.strip(" \t\r\n"):
                return f'<ab type="separator">{esc(text)}</ab>'
            return esc(text)

        out.append(between(full[: paras[0].start] if paras else full))
        for i, p in enumerate(paras):
            sents = p.sentences
            out += ['<p xml:id="', lay.sentence_xid(p.id), '">', esc(full[p.start:sents[0].start])]
            for j, s in enumerate(sents):
                nxt = sents[j + 1].start if j + 1 < len(sents) else p.end
                out += ['<s xml:id="', lay.sentence_xid(s.id), '">', esc(full[s.start:s.end]),
                        "</s>"]
                if nxt > s.end:
                    out.append(esc(full[s.end:nxt]))
            nxt_p = paras[i + 1].start if i + 1 < len(paras) else len(full)
            out += ["</p>", between(full[p.end:nxt_p])]
        out.append("</div>\n      </body>\n    </text>\n  </TEI>")
        return "".join(out)

    def document_header(self, d: Document) -> etree._Element:
        m = d.meta
        header = etree.Element(t("teiHeader"), nsmap={None: TEI_NS})  # type: ignore[dict-item]
        fd = _sub(header, "fileDesc")
        ts = _sub(fd, "titleStmt")
        _sub(ts, "title", m.title or d.id)
        if m.author:
            _sub(ts, "author", m.author)
        ps = _sub(fd, "publicationStmt")
        _sub(ps, "authority", "annotate export")
        _sub(ps, "idno", d.id, type="annotate")
        _sub(ps, "idno", sha256(d.text), type="sha256")
        if m.note:
            ns = _sub(fd, "notesStmt")
            _sub(ns, "note", m.note)
        sd = _sub(fd, "sourceDesc")
        bibl = _sub(sd, "bibl")
        _sub(bibl, "title", m.title or d.id)
        if m.author:
            _sub(bibl, "author", m.author)
        if m.speakers:
            rs = _sub(bibl, "respStmt")
            _sub(rs, "resp", "speaker")
            for sp in m.speakers:
                _sub(rs, "persName", sp)
        if m.body:
            _sub(bibl, "publisher", m.body)
        _date(bibl, m.date)
        if m.source:
            _sub(bibl, "note", m.source, type="source")
        _sub(bibl, "idno", d.path.name, type="file")
        prof = _sub(header, "profileDesc")
        if m.language:
            lu = _sub(prof, "langUsage")
            ident = m.language if re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*",
                                               m.language) else "und"
            _sub(lu, "language", m.language, ident=ident)
        if m.speakers:
            pd = _sub(prof, "particDesc")
            lp = _sub(pd, "listPerson")
            for sp in m.speakers:
                person = _sub(lp, "person", role="speaker")
                _sub(person, "persName", sp)
        themes = [th for h in self.data.hits.get(d.id, ()) for th in h.themes]
        themes += self.doc_themes.get(d.id, [])
        if themes or m.genre:
            tc = _sub(prof, "textClass")
            if themes:
                _sub(tc, "catRef", scheme="#themes",
                     target=self.theme_ref(sorted(set(themes))))
            if m.genre:
                kw = _sub(tc, "keywords")
                _sub(kw, "term", m.genre, type="genre")
        if len(prof) == 0:
            header.remove(prof)
        return header


def tei_bytes(data: ExportData) -> bytes:
    """The `teiCorpus` export, UTF-8."""
    return _Exporter(data).write().encode("utf-8")


# --- Web Annotation JSON-LD and CSV ----------------------------------------------------------


def _webanno_item(a: Annotation, theme_labels: Mapping[str, str]) -> dict[str, Any]:
    bodies: list[dict[str, Any]] = [
        {"type": "TextualBody", "purpose": "classifying", "value": th,
         **({"label": theme_labels[th]} if th in theme_labels else {})}
        for th in a.themes
    ]
    if a.note:
        bodies.append({"type": "TextualBody", "purpose": "commenting", "value": a.note,
                       "format": "text/plain"})
    motivation = "commenting" if a.note and not a.themes else "classifying"
    if not a.note and not a.themes:
        motivation = "highlighting"
    item: dict[str, Any] = {
        "id": ANNO_URN + a.id,
        "type": "Annotation",
        "motivation": motivation,
        "creator": {"type": "Person", "name": a.user} if a.user else None,
        "created": a.created or None,
        "modified": a.modified or None,
        "body": bodies or None,
        "target": {
            "source": DOC_URN + a.doc,
            "selector": [
                {"type": "TextQuoteSelector", "exact": a.quote, "prefix": a.prefix,
                 "suffix": a.suffix},
                {"type": "TextPositionSelector", "start": a.start, "end": a.end},
            ],
        },
        "annotate:status": a.status,
        "annotate:orphaned": a.orphaned or None,
    }
    return {k: v for k, v in item.items() if v is not None}


def webanno_json(data: ExportData) -> dict[str, Any]:
    """An `AnnotationCollection` with one page holding every annotation; the documents'
    checksums and the history ride along under the `annotate:` prefix."""
    labels = {th.id: th.label for th in data.codebook.themes} if data.codebook else {}
    ids = {d.id for d in data.documents}
    items = [_webanno_item(a, labels) for a in data.annotations if a.doc in ids]
    return {
        "@context": [WEBANNO_CONTEXT, {"annotate": "urn:annotate:vocab#"}],
        "id": "urn:annotate:export",
        "type": "AnnotationCollection",
        "label": data.title or data.corpus.name or "Annotated corpus",
        "generator": {"type": "Software", "name": "annotate", "annotate:version": __version__},
        "generated": data.when or _now(),
        "total": len(items),
        "annotate:documents": [
            {"id": DOC_URN + d.id, "annotate:doc": d.id, "title": d.meta.title,
             "annotate:sha256": sha256(d.text), "annotate:file": d.path.name}
            for d in data.documents
        ],
        "annotate:history": [
            {"annotation": c.annotation, "user": c.user, "when": c.when, "action": c.action,
             "detail": c.detail}
            for c in data.history
        ],
        "first": {"type": "AnnotationPage", "items": items},
    }


CSV_COLUMNS = ("id", "doc", "start", "end", "sentence", "quote", "prefix", "suffix", "themes",
               "note", "user", "status", "created", "modified", "orphaned", "doc_title",
               "doc_date")


def csv_text(data: ExportData) -> str:
    """A row per annotation; themes joined with `;`."""
    docs = {d.id: d for d in data.documents}
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for a in data.annotations:
        d = docs.get(a.doc)
        s = d.sentence_at(a.start) if d else None
        w.writerow([a.id, a.doc, a.start, a.end, s.id if s else "", a.quote, a.prefix,
                    a.suffix, ";".join(a.themes), a.note, a.user, a.status, a.created,
                    a.modified, "yes" if a.orphaned else "no",
                    d.meta.title or "" if d else "", d.meta.date or "" if d else ""])
    return out.getvalue()


# --- Collation in parallel segmentation ------------------------------------------------------

_WORD = re.compile(r"\S+")


def _word_diff(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, list[str]]]:
    """Word-level diff of two word lists via `annotate.diff.char_diff`, each distinct word
    coded as one character (diff-match-patch's own lines-to-chars trick)."""
    from annotate.diff import char_diff

    codes: dict[str, str] = {}

    def code(words: Sequence[str]) -> str:
        out = []
        for w in words:
            if w not in codes:
                n = len(codes)
                # Private-use planes: never in the text, and past the BMP when it runs out.
                codes[w] = chr(0xF0000 + n) if n < 0xFFFE else chr(0x100000 + n - 0xFFFE)
            out.append(codes[w])
        return "".join(out)

    ca, cb = code(a), code(b)
    back = {c: w for w, c in codes.items()}
    return [(op, [back[c] for c in text]) for op, text in char_diff(ca, cb)]


def _anchors(a: Document, b: Document,
             passages: Sequence[Passage]) -> list[tuple[int, int, int, int]]:
    """Shared passages of `a` and `b` as ([start, end) in a, [start, end) in b), the heaviest
    chain that runs forward in both documents (a parallel text cannot cross over)."""
    pairs = []
    for p in passages:
        if {p.a.doc, p.b.doc} != {a.id, b.id}:
            continue
        sa, sb = (p.a, p.b) if p.a.doc == a.id else (p.b, p.a)
        pairs.append((sa.start, sa.end, sb.start, sb.end))
    pairs.sort()
    best: list[tuple[int, int]] = []  # (weight of the best chain ending here, previous index)
    for i, (a0, _a1, b0, _b1) in enumerate(pairs):
        weight = pairs[i][1] - a0
        choice = (weight, -1)
        for j in range(i):
            if pairs[j][1] <= a0 and pairs[j][3] <= b0 and best[j][0] + weight > choice[0]:
                choice = (best[j][0] + weight, j)
        best.append(choice)
    if not best:
        return []
    i = max(range(len(best)), key=lambda k: best[k][0])
    chain = []
    while i >= 0:
        chain.append(pairs[i])
        i = best[i][1]
    return chain[::-1]


def collation_diff(a: Document, b: Document,
                   passages: Sequence[Passage] = ()) -> list[tuple[int, list[str]]]:
    """Word diff of two documents: shared passages (from reuse) are aligned with each other
    and diffed word by word, the stretches between them are diffed as wholes."""
    out: list[tuple[int, list[str]]] = []
    ca = cb = 0
    def snap(text: str, x: int) -> int:
        # A boundary inside a word moves to the word's start, so no word is cut in two.
        while 0 < x < len(text) and not text[x - 1].isspace() and not text[x].isspace():
            x -= 1
        return x

    anchors = [(snap(a.text, a0), snap(a.text, a1), snap(b.text, b0), snap(b.text, b1))
               for a0, a1, b0, b1 in _anchors(a, b, passages)]
    for a0, a1, b0, b1 in [*anchors, (len(a.text),) * 2 + (len(b.text),) * 2]:
        for x0, x1, y0, y1 in ((ca, a0, cb, b0), (a0, a1, b0, b1)):
            wa = _WORD.findall(a.text, x0, x1)
            wb = _WORD.findall(b.text, y0, y1)
            if wa or wb:
                out += _word_diff(wa, wb)
        ca, cb = a1, b1
    return out


def collation_tree(a: Document, b: Document,
                   passages: Sequence[Passage] = ()) -> etree._Element:
    """Two documents collated word by word: shared words as text, each difference as an `app`
    with a reading per witness (an empty `rdg` where one of them has nothing)."""
    if a.id == b.id:
        raise ExportError("a collation needs two different documents")
    ids = _Ids()
    wa, wb = ids.get("doc", "d", a.id), ids.get("doc", "d", b.id)
    root = etree.Element(t("TEI"), nsmap={None: TEI_NS})  # type: ignore[dict-item]
    header = _sub(root, "teiHeader")
    fd = _sub(header, "fileDesc")
    ts = _sub(fd, "titleStmt")
    _sub(ts, "title", f"Collation of {a.id} and {b.id}")
    ps = _sub(fd, "publicationStmt")
    _sub(ps, "p", f"Written by annotate {__version__}; not published.")
    sd = _sub(fd, "sourceDesc")
    lw = _sub(sd, "listWit")
    for wid, d in ((wa, a), (wb, b)):
        _sub(lw, "witness", d.meta.title or d.id, xml_id=wid, n=d.id)
    enc = _sub(header, "encodingDesc")
    _sub(enc, "variantEncoding", method="parallel-segmentation", location="internal")
    ed = _sub(enc, "editorialDecl")
    norm = _sub(ed, "normalization")
    _sub(norm, "p", "Words are compared as written; runs of whitespace become one space. "
         f"Aligned on {len(_anchors(a, b, passages))} shared passages.")
    etree.indent(header, space="  ", level=1)
    text = _sub(root, "text")
    body = _sub(text, "body")
    ab = _sub(body, "ab", type="collation")
    diffs = collation_diff(a, b, passages)
    parts: list[tuple[str | None, str]] = []
    i = 0
    while i < len(diffs):
        op, words = diffs[i]
        if op == 0:
            parts.append((None, " ".join(words)))
            i += 1
            continue
        dele: list[str] = []
        ins: list[str] = []
        while i < len(diffs) and diffs[i][0] != 0:
            (dele if diffs[i][0] < 0 else ins).extend(diffs[i][1])
            i += 1
        parts.append((" ".join(dele), " ".join(ins)))
    n = 0
    last: etree._Element | None = None
    ab.text = "\n"
    for first, second in parts:
        if first is None:
            chunk = xml_safe(second) + "\n"
            if last is None:
                ab.text += chunk
            else:
                last.tail = (last.tail or "") + chunk
            continue
        n += 1
        app = _sub(ab, "app", xml_id=f"app{n}", n=str(n))
        app.tail = "\n"
        _sub(app, "rdg", first or None, wit=f"#{wa}")
        _sub(app, "rdg", second or None, wit=f"#{wb}")
        last = app
    root.text, header.tail, text.tail = "\n  ", "\n  ", "\n"
    return root


def collation_bytes(a: Document, b: Document, passages: Sequence[Passage] = ()) -> bytes:
    return etree.tostring(collation_tree(a, b, passages), xml_declaration=True,
                          encoding="UTF-8") + b"\n"


# --- Writing files ---------------------------------------------------------------------------




def export_bytes(data: ExportData, fmt: str) -> bytes:
    if fmt == "tei":
        return tei_bytes(data)
    if fmt == "webanno":
        return (json.dumps(webanno_json(data), ensure_ascii=False, indent=1) + "\n").encode()
    if fmt == "csv":
        return csv_text(data).encode("utf-8")
    raise ExportError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")


# --- Import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedDoc:
    id: str
    sha256: str | None
    text: str | None = None  # the text carried by a TEI export


@dataclass(frozen=True)
class Imported:
    """What an export file holds, read back: documents, annotations and their history."""

    documents: dict[str, ImportedDoc]
    annotations: tuple[Annotation, ...]
    history: tuple[Change, ...]
    format: str
    problems: tuple[str, ...] = ()  # items of the file that could not be read
    unplaced: frozenset[str] = frozenset()  # ids known by their quote only (no offsets)


@dataclass(frozen=True)
class ImportReport:
    added: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()  # one message per annotation (or document) not imported
    warnings: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        return {"added": len(self.added), "unchanged": len(self.unchanged),
                "conflicts": list(self.conflicts), "warnings": list(self.warnings)}


def read_export(path: Path) -> Imported:
    """Read a TEI file written by `annotate export`, or Web Annotation JSON-LD."""
    data = read_input(path)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        return read_webanno(data, str(path))
    return read_tei(data, str(path))


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
            if isinstance(child.tag, str):
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


def resolve(ptr: str, where: Mapping[str, tuple[str, int, int]]) -> tuple[str, int, int]:
    """(owner, start, end) of a `#id` or `#string-range(id,offset,length)` pointer, given each
    element's owner and [start, end); InputError if it does not resolve."""
    m = _RANGE.match(ptr.strip())
    if m:
        xid, off, length = m[1], int(m[2]), int(m[3])
        if xid not in where:
            raise InputError(f"pointer {ptr!r} names an unknown element {xid!r}")
        owner, a, b = where[xid]
        if a + off + length > b:
            raise InputError(f"pointer {ptr!r} runs past the end of {xid!r}")
        return owner, a + off, a + off + length
    if ptr.startswith("#") and ptr[1:] in where:
        return where[ptr[1:]]
    raise InputError(f"pointer {ptr!r} does not resolve")


def _text_of(el: etree._Element | None) -> str:
    return "".join(str(x) for x in el.itertext()) if el is not None else ""


def _line(el: etree._Element) -> int:
    line: object = el.sourceline
    return line if isinstance(line, int) else 0


def read_tei(data: bytes, name: str) -> Imported:
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
        if not ref:
            return ""
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
                kept = _SPAN_N.match(child.get("n") or "") if orphaned else None
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


def _strip(value: str, prefix: str) -> str:
    return value[len(prefix):] if value.startswith(prefix) else value


def read_webanno(data: bytes, name: str) -> Imported:
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{name}: not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{name}:{e.lineno}:{e.colno}: malformed JSON: {e.msg}") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply (unsafe input)") from None
    docs_in: list[Any] = []
    hist_in: list[Any] = []
    if isinstance(obj, list):
        items = obj
    elif isinstance(obj, dict) and obj.get("type") == "Annotation":
        items = [obj]
    elif isinstance(obj, dict):
        page = obj.get("first") or {}
        items = page.get("items", []) if isinstance(page, dict) else []
        if not items and isinstance(obj.get("items"), list):
            items = obj["items"]
        docs_in = obj.get("annotate:documents", [])
        hist_in = obj.get("annotate:history", [])
    else:
        items = None
    if not isinstance(items, list):
        raise InputError(f"{name}: not Web Annotation JSON-LD (an annotation or a collection)")
    docs_in = docs_in if isinstance(docs_in, list) else []
    hist_in = hist_in if isinstance(hist_in, list) else []
    docs: dict[str, ImportedDoc] = {}
    for d in docs_in:
        if isinstance(d, dict) and isinstance(d.get("annotate:doc"), str):
            digest = d.get("annotate:sha256")
            docs[d["annotate:doc"]] = ImportedDoc(d["annotate:doc"],
                                                  digest if isinstance(digest, str) else None)
    anns = []
    problems: list[str] = []
    unplaced: set[str] = set()
    for i, it in enumerate(items, 1):
        # Another tool's file may hold shapes this one does not know: each such annotation
        # is reported and skipped, the rest still imported.
        try:
            ann, placed = _webanno_annotation(it)
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            problems.append(f"{name}: annotation {i}: not understood ({e})")
            continue
        anns.append(ann)
        if not placed:
            unplaced.add(ann.id)
    history = [
        Change(id=i, annotation=str(h["annotation"]), user=str(h.get("user", "")),
               when=str(h.get("when", "")), action=str(h.get("action", "")),
               detail=str(h.get("detail", "")))
        for i, h in enumerate(hist_in, 1) if isinstance(h, dict) and "annotation" in h
    ]
    return Imported(docs, tuple(anns), tuple(history), "webanno", tuple(problems),
                    frozenset(unplaced))


def _webanno_annotation(it: dict[str, Any]) -> tuple[Annotation, bool]:
    """The annotation, and whether it has offsets (a TextPositionSelector)."""
    target = it["target"]
    if isinstance(target, list):
        target = target[0]
    source = target["source"] if isinstance(target, dict) else str(target)
    if isinstance(source, dict):
        source = source.get("id", "")
    selectors = target.get("selector", []) if isinstance(target, dict) else []
    if isinstance(selectors, dict):
        selectors = [selectors]
    quote: dict[str, Any] = next((s for s in selectors if s.get("type") == "TextQuoteSelector"),
                                 {})
    pos = next((s for s in selectors if s.get("type") == "TextPositionSelector"), None)
    if pos is None and not quote.get("exact"):
        raise ValueError("neither a TextPositionSelector nor a TextQuoteSelector")
    bodies = it.get("body", [])
    if isinstance(bodies, dict):
        bodies = [bodies]
    themes = tuple(str(b["value"]) for b in bodies
                   if isinstance(b, dict) and b.get("purpose") in ("classifying", "tagging"))
    note = "\n".join(str(b["value"]) for b in bodies
                     if isinstance(b, dict) and b.get("purpose") == "commenting")
    creator = it.get("creator", {})
    user = creator.get("name", "") if isinstance(creator, dict) else str(creator or "")
    ann_id = str(it["id"])
    if not ann_id.startswith(ANNO_URN):
        # Another tool's IRI: a stable short id, so a second import finds the same one.
        ann_id = "w" + hashlib.sha256(ann_id.encode()).hexdigest()[:11]
    return Annotation(
        id=_strip(ann_id, ANNO_URN), doc=_strip(str(source), DOC_URN),
        start=int(pos["start"]) if pos else 0, end=int(pos["end"]) if pos else 0,
        quote=str(quote.get("exact", "")),
        prefix=str(quote.get("prefix", "")), suffix=str(quote.get("suffix", "")),
        themes=themes, note=note, user=user,
        status=str(it.get("annotate:status", "accepted")),
        created=str(it.get("created", "")), modified=str(it.get("modified", "")),
        orphaned=bool(it.get("annotate:orphaned", False)),
    ), pos is not None


def import_into(store: Store, imported: Imported, corpus: Corpus | None = None) -> ImportReport:
    """Add what `imported` holds to the store. Nothing is overwritten: an annotation already
    there unchanged is counted as such, a different one is a conflict, and so are the
    annotations of a document whose text differs from the exported one (by sha256)."""
    docs = {d.id: d for d in corpus.documents} if corpus is not None else {}
    bad_docs: dict[str, str] = {}
    warnings: list[str] = []
    for doc_id, info in imported.documents.items():
        d = docs.get(doc_id)
        if d is not None and info.sha256 and sha256(d.text) != info.sha256:
            bad_docs[doc_id] = (f"document {doc_id}: its text differs from the exported one "
                                f"(sha256 {info.sha256[:12]}… vs {sha256(d.text)[:12]}…)")
        elif d is None and info.text is not None and info.sha256 \
                and sha256(info.text) != info.sha256:
            warnings.append(f"document {doc_id}: the text in the file does not match its "
                            "recorded sha256 (edited after export, or characters XML cannot "
                            "carry were replaced)")
    changes: dict[str, list[Change]] = defaultdict(list)
    for ch in imported.history:
        changes[ch.annotation].append(ch)
    added: list[str] = []
    unchanged: list[str] = []
    conflicts: list[str] = [*imported.problems, *bad_docs.values()]
    pending: list[tuple[Annotation, Sequence[Change]]] = []
    for a in imported.annotations:
        if a.doc in bad_docs:
            conflicts.append(f"annotation {a.id}: not imported, {bad_docs[a.doc]}")
            continue
        d = _document_for(a.doc, docs, corpus)
        if d is None and corpus is not None and a.doc not in imported.documents:
            conflicts.append(f"annotation {a.id}: document {a.doc!r} is not in the corpus; "
                             "not imported")
            continue
        if d is not None and not a.orphaned:
            placed = _place(a, d, a.id not in imported.unplaced)
            if placed is None:
                conflicts.append(f"annotation {a.id}: its quote is not found in document "
                                 f"{d.id}; not imported")
                continue
            if (placed.start, placed.end) != (a.start, a.end) and a.id not in imported.unplaced:
                warnings.append(f"annotation {a.id}: its quote was found at "
                                f"{placed.start}-{placed.end}, not {a.start}-{a.end}")
            a = placed
        elif a.id in imported.unplaced:
            conflicts.append(f"annotation {a.id}: has no offsets and its document {a.doc!r} "
                             "is not in the corpus to find its quote in; not imported")
            continue
        pending.append((a, changes.get(a.id, ())))
    for (a, _), outcome in zip(pending, store.import_annotations(pending), strict=True):
        if outcome is True:
            added.append(a.id)
        elif outcome is False:
            unchanged.append(a.id)
        else:
            conflicts.append(outcome)
    ann_ids = {a.id for a in imported.annotations}
    lost = sum(1 for ch in imported.history if ch.annotation not in ann_ids)
    if lost:
        warnings.append(f"{lost} history entries of annotations not in the file "
                        "(removed ones) were not imported")
    return ImportReport(tuple(added), tuple(unchanged), tuple(conflicts), tuple(warnings))


def _document_for(key: str, docs: Mapping[str, Document],
                  corpus: Corpus | None) -> Document | None:
    """The corpus document an imported annotation refers to: by id, else (another tool's
    IRI) by the last part of its path, as a file name or stem."""
    if key in docs:
        return docs[key]
    if corpus is None:
        return None
    last = key.rstrip("/").rsplit("/", 1)[-1]
    try:
        return corpus.get(last) if last else None
    except AnnotateError:
        return None


CONTEXT = 32  # characters of context kept on each side, as the store keeps them


def _place(a: Annotation, d: Document, has_offsets: bool) -> Annotation | None:
    """`a` on document `d`: as it is when its quote is at its offsets, else moved to where
    the quote is (the occurrence whose context matches best, then the nearest), else None."""
    from dataclasses import replace

    if has_offsets and d.text[a.start:a.end] == a.quote and a.doc == d.id:
        return a
    if not a.quote:
        return None
    # (start, end) of each occurrence: exact first, else with any run of whitespace matching
    # any other (a tool showing the text as HTML quotes "Western\nBalkans" as one line).
    found: list[tuple[int, int]] = []
    i = d.text.find(a.quote)
    while i != -1 and len(found) < 1000:
        found.append((i, i + len(a.quote)))
        i = d.text.find(a.quote, i + 1)
    words = a.quote.split()
    if not found and words:
        loose = re.compile(r"\s+".join(map(re.escape, words)))
        for m in loose.finditer(d.text):
            found.append(m.span())
            if len(found) >= 1000:
                break
    if found:
        def score(at: tuple[int, int]) -> tuple[int, int]:
            before = d.text[max(0, at[0] - len(a.prefix)):at[0]]
            after = d.text[at[1]:at[1] + len(a.suffix)]
            context = int(bool(a.prefix) and before.endswith(a.prefix)) + int(
                bool(a.suffix) and after.startswith(a.suffix))
            return (-context, abs(at[0] - a.start))

        start, end = min(found, key=score)
    else:
        from annotate.diff import fuzzy_find

        near = fuzzy_find(d.text, a.quote, a.start)
        if near is None:
            return None
        start, end = near, near + len(a.quote)
    return replace(a, doc=d.id, start=start, end=end, quote=d.text[start:end],
                   prefix=d.text[max(0, start - CONTEXT):start],
                   suffix=d.text[end:end + CONTEXT])

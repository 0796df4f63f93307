"""TEI P5 export of a corpus with its annotations, theme hits and shared passages: one
`teiCorpus` file (the subset written, and read back by `tei_import`, is listed below).

The TEI subset
--------------
- `teiCorpus/teiHeader`: annotators as `titleStmt/respStmt/persName` (`xml:id="user.NAME"`,
  the user name as content), `encodingDesc/appInfo/application` (`xml:id="app.annotate"`),
  `classDecl/taxonomy xml:id="themes"` (nested `category` for the hierarchy; `@n` keeps the
  theme id) and `taxonomy xml:id="reuse"`, and `revisionDesc/change` for each history entry
  (`@type` the action, `@n` the annotation id, `@who`, `@when`, the JSON detail as content).
- `teiCorpus/standOff` (before the documents): `spanGrp type="annotation"` with one `span` per
  annotation (`@n` its id, `@from` a whole sentence or paragraph or `@target` a `string-range()`,
  `@ana` its themes, `@resp` its user (then `#app.annotate` and the user who accepted or
  rejected it, for a codebook suggestion), `@cert` and `@subtype` its status, `note type="comment"`
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
The one exception: a character XML 1.0 cannot carry (a control character other than tab, line
feed and carriage return; U+FFFE, U+FFFF) is written as `<g type="char" n="U+001F">␟</g>`: one
stand-in character of text content, so offsets still hold, and its code point, so the import
restores it. The same holds in notes, quotes, user names and history. Attribute values cannot
hold markup: there such a character becomes U+FFFD (annotation and theme ids never contain one).

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

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

from annotate import __version__
from annotate.exchange.data import REUSE_CATEGORIES, STATUS_CERT, ExportData, reuse_category
from annotate.exchange.pointers import (
    G_TYPE,
    XML_ID,
    Ids,
    Layout,
    has_unsafe,
    now,
    sha256,
    split_unsafe,
    stand_in,
    t,
    with_g,
    xml_safe,
)
from annotate.markup import TEI_NS, etree
from annotate.model import Annotation, Document, Theme, ThemeHit


def sub(parent: etree._Element, name: str, text: str | None = None,
        **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, t(name))
    for k, v in attrs.items():
        el.set(XML_ID if k == "xml_id" else k, xml_safe(v))
    if text is not None:
        put_text(el, text)
    return el


def put_text(el: etree._Element, text: str) -> None:
    """`text` as the content of `el`, characters XML cannot carry as `g` elements."""
    if not has_unsafe(text):
        el.text = text
        return
    parts = split_unsafe(text)
    el.text = parts[0]
    for i in range(1, len(parts), 2):
        g = etree.SubElement(el, t("g"), type=G_TYPE, n=f"U+{ord(parts[i]):04X}")
        g.text = stand_in(parts[i])
        g.tail = parts[i + 1]


_ESC = re.compile(r"[&<>\r]")
_ESC_ATTR = re.compile(r'["\n\t]')


def esc(text: str) -> str:
    """Text as XML character data (a carriage return escaped so parsers keep it; characters
    XML cannot carry as `g` elements, see `pointers.g_markup`)."""
    if _ESC.search(text):
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))
    if has_unsafe(text):
        text = with_g(text)
    return text


def _attr(text: str) -> str:
    """Text as an attribute value in double quotes (whitespace escaped so it survives
    attribute-value normalisation; no markup can go there, so characters XML cannot carry
    become U+FFFD)."""
    text = xml_safe(text)
    if _ESC.search(text):
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))
    if _ESC_ATTR.search(text):
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def _tag(name: str, attrs: Iterable[tuple[str, str]], empty: bool = False) -> str:
    inner = "".join(f' {k}="{_attr(v)}"' for k, v in attrs)
    return f"<{name}{inner}{'/' if empty else ''}>"


def indent(el: etree._Element, level: int) -> None:
    """Indent `el`'s element-only content as `etree.indent` does, but leave mixed content
    (text beside elements, such as the `g` of a control character) exactly as it is:
    `etree.indent` would turn an empty or blank text beside a `g` into indentation."""
    g_tag = t("g")

    def mixed(e: etree._Element) -> bool:
        return bool(e.text and e.text.strip()) or any(
            c.tag == g_tag or bool(c.tail and c.tail.strip()) for c in e)

    def walk(e: etree._Element, depth: int) -> None:
        if not len(e) or mixed(e):
            return
        inner = "\n" + "  " * (depth + 1)
        e.text = inner
        for c in e:
            walk(c, depth + 1)
            c.tail = inner
        e[-1].tail = "\n" + "  " * depth

    walk(el, level)


def _fragment(el: etree._Element, level: int) -> str:
    """An lxml element as indented markup to embed in the export (the TEI namespace is
    declared once, on the root)."""
    indent(el, level)
    return etree.tostring(el, encoding="unicode").replace(f' xmlns="{TEI_NS}"', "", 1)


def _date(parent: etree._Element, date: str | None, name: str = "date") -> None:
    if not date:
        return
    from annotate.model import date_bounds, date_precision

    if date_precision(date) == "range":
        a, b = date_bounds(date)
        sub(parent, name, f"{a} to {b}", notBefore=a, notAfter=b)
    else:
        sub(parent, name, date, when=date)


class _Exporter:
    def __init__(self, data: ExportData) -> None:
        self.data = data
        self.ids = Ids()
        self.when = data.when or now()
        self.layouts: dict[str, Layout] = {}
        for d in data.documents:
            xid = self.ids.get("doc", "d", d.id)
            self.layouts[d.id] = Layout(d, xid, tuple(p.start for p in d.paragraphs))
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
        users = ({a.user for a in data.annotations} | {c.user for c in data.history}
                 | set(data.decided_by.values()))
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
        return "".join(self.pieces())

    def pieces(self) -> Iterator[str]:
        """The export in pieces, in order (a document's text one paragraph at a time), so
        that a 200 MB document is never held again whole as markup, as a string or bytes."""
        yield "<?xml version='1.0' encoding='UTF-8'?>\n"
        yield f'<teiCorpus xmlns="{TEI_NS}" version="4.3.0">\n  '
        yield _fragment(self.corpus_header(), 1)
        yield "\n  "
        standoff = self.standoff()
        if standoff:
            yield '<standOff type="annotations">\n'
            yield from standoff
            yield "  </standOff>\n  "
        docs = self.data.documents
        for i, d in enumerate(docs):
            yield from self.document(d)
            yield "\n  " if i + 1 < len(docs) else "\n"
        yield "</teiCorpus>\n"

    # header -----------------------------------------------------------------------------

    def corpus_header(self) -> etree._Element:
        data = self.data
        header = etree.Element(t("teiHeader"), nsmap={None: TEI_NS})  # type: ignore[dict-item]
        fd = sub(header, "fileDesc")
        ts = sub(fd, "titleStmt")
        sub(ts, "title", data.title or data.corpus.name or "Annotated corpus")
        if self.ids.maps["user"]:
            rs = sub(ts, "respStmt")
            sub(rs, "resp", "annotation")
            for user, xid in sorted(self.ids.maps["user"].items()):
                sub(rs, "persName", user, xml_id=xid)
        ps = sub(fd, "publicationStmt")
        sub(ps, "p", f"Exported by annotate {__version__} on {self.when}; not published.")
        sd = sub(fd, "sourceDesc")
        sub(sd, "p", f"{len(data.documents)} documents, each described in its own header.")
        enc = sub(header, "encodingDesc")
        ai = sub(enc, "appInfo")
        app = sub(ai, "application", xml_id="app.annotate", ident="annotate",
                   version=__version__, when=self.when[:10])
        sub(app, "label", "annotate")
        ed = sub(enc, "editorialDecl")
        norm = sub(ed, "normalization")
        sub(norm, "p", "No normalisation: the text content of each div is the document text "
             "exactly, line breaks included; a character XML cannot carry (a control "
             "character) is a g element of type char whose n gives its code point and whose "
             "content is one stand-in character (its Unicode Control Picture). "
             "string-range() offsets count characters of that text content.")
        agreement = self.agreement()
        if agreement is not None:
            ed.append(agreement)
        cd = sub(enc, "classDecl")
        if self.themes:
            self.taxonomy(cd)
        tx = sub(cd, "taxonomy", xml_id="reuse")
        sub(tx, "desc", "Kinds of shared passage, by similarity")
        for cat, label, desc, _floor in REUSE_CATEGORIES:
            c = sub(tx, "category", xml_id=f"reuse.{cat}", n=cat)
            cat_desc = sub(c, "catDesc")
            sub(cat_desc, "term", label).tail = f": {desc}"
        if data.history:
            rd = sub(header, "revisionDesc")
            anns = self.ids.maps["ann"]
            for ch in data.history:
                attrs = {"xml_id": f"change.{ch.id}", "n": ch.annotation, "when": ch.when,
                         "who": self.user_ref(ch.user), "type": ch.action}
                if ch.annotation in anns:
                    attrs["target"] = f"#{anns[ch.annotation]}"
                sub(rd, "change", ch.detail, **attrs)
        return header

    def agreement(self) -> etree._Element | None:
        """How far the annotators agree (as `annotate agree` computes it on sentences), where
        two or more of them judged themes; None otherwise."""
        from annotate.agree_report import TEI_COLUMNS, tei_figures, tei_interpretation

        data = self.data
        report = tei_figures(data.documents, data.annotations, data.history)
        if report is None or all(getattr(report.overall, key) is None for key, _ in TEI_COLUMNS):
            return None  # nothing comparable was judged: an empty table would only mislead
        fragment = tei_interpretation(
            report, user_ref=self.user_ref, theme_ref=lambda th: self.theme_ref([th]),
            labels={th.id: th.label for th in self.themes})
        return etree.fromstring(f'<wrap xmlns="{TEI_NS}">{fragment}</wrap>')[0]

    def taxonomy(self, cd: etree._Element) -> None:
        cb = self.data.codebook
        tx = sub(cd, "taxonomy", xml_id="themes")
        sub(tx, "desc", cb.name if cb else "Themes")
        by_parent: dict[str | None, list[Theme]] = defaultdict(list)
        ids = {th.id for th in self.themes}
        for th in self.themes:
            by_parent[th.parent if th.parent in ids else None].append(th)

        def add(parent: etree._Element, th: Theme, seen: frozenset[str]) -> None:
            c = sub(parent, "category", xml_id=self.ids.maps["theme"][th.id], n=th.id)
            desc = sub(c, "catDesc")
            sub(desc, "term", th.label)
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
            out.append(f"\n      <desc>{esc(desc)}</desc>\n    </join>\n")
        noted = [a for a in anns if a.note]
        if noted:
            out.append("    <listAnnotation>\n")
            for a in noted:
                xid = self.ids.maps["ann"][a.id]
                out.append("      " + _tag("annotation", [
                    ("xml:id", f"{xid}.comment"), ("motivation", "commenting"),
                    ("target", f"#{xid}"), ("resp", self.user_ref(a.user))]))
                out.append(f"\n        <note>{esc(a.note)}</note>\n      </annotation>\n")
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
        resp = [self.user_ref(a.user)] if a.user else []
        decider = self.data.decided_by.get(a.id)
        if decider:
            # A codebook suggestion someone decided on: who made it, the application whose
            # codebook suggested it, and who accepted or rejected it, in that order.
            resp += ["#app.annotate", self.user_ref(decider)]
        if resp:
            out.append(f' resp="{" ".join(dict.fromkeys(resp))}"')
        inner: list[str] = []
        if a.note:
            inner.append(f'        <note type="comment">{esc(a.note)}</note>\n')
        rec: list[str] = []
        if a.created:
            rec.append(f'          <date type="created" when="{_attr(a.created)}"/>\n')
        if a.modified:
            rec.append(f'          <date type="modified" when="{_attr(a.modified)}"/>\n')
        if a.prefix:
            rec.append(f'          <quote type="prefix">{esc(a.prefix)}</quote>\n')
        # The quote is what the pointer selects; it is written out only when it differs (an
        # orphaned annotation whose text changed), so the file stays small.
        if a.quote != lay.doc.text[a.start:a.end] or a.end > len(lay.doc.text):
            rec.append(f'          <quote type="exact">{esc(a.quote)}</quote>\n')
        if a.suffix:
            rec.append(f'          <quote type="suffix">{esc(a.suffix)}</quote>\n')
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
        return (f"      {_tag('span', attrs)}\n        <note type=\"evidence\">{esc(words)}"
                "</note>\n      </span>\n")

    # documents --------------------------------------------------------------------------

    def document(self, d: Document) -> Iterator[str]:
        """A `TEI` element in pieces: the header, then the text with every character of the
        document in place, so the div's text content is the document text."""
        lay = self.layouts[d.id]
        full = d.text
        yield "".join([_tag("TEI", [("xml:id", lay.xid), ("n", d.id)]), "\n    ",
                       _fragment(self.document_header(d), 2),
                       '\n    <text>\n      <body>\n        ',
                       _tag("div", [("xml:id", f"{lay.xid}.div"), ("type", "statement")])])
        paras = d.paragraphs

        def between(text: str) -> str:
            # A div holds only elements and XML whitespace: other text between paragraphs
            # (a no-break space on a line of its own, say) goes in an `ab` of its own.
            if text.strip(" \t\r\n"):
                return f'<ab type="separator">{esc(text)}</ab>'
            return esc(text)

        yield between(full[: paras[0].start] if paras else full)
        for i, p in enumerate(paras):
            sents = p.sentences
            para = ['<p xml:id="', lay.sentence_xid(p.id), '">',
                    esc(full[p.start:sents[0].start])]
            for j, s in enumerate(sents):
                nxt = sents[j + 1].start if j + 1 < len(sents) else p.end
                para += ['<s xml:id="', lay.sentence_xid(s.id), '">', esc(full[s.start:s.end]),
                         "</s>"]
                if nxt > s.end:
                    para.append(esc(full[s.end:nxt]))
            nxt_p = paras[i + 1].start if i + 1 < len(paras) else len(full)
            para += ["</p>", between(full[p.end:nxt_p])]
            # One string a paragraph: millions of small strings (one a sentence and its
            # id) would cost far more than the markup itself on their way to the file.
            yield "".join(para)
        yield "</div>\n      </body>\n    </text>\n  </TEI>"

    def document_header(self, d: Document) -> etree._Element:
        m = d.meta
        header = etree.Element(t("teiHeader"), nsmap={None: TEI_NS})  # type: ignore[dict-item]
        fd = sub(header, "fileDesc")
        ts = sub(fd, "titleStmt")
        sub(ts, "title", m.title or d.id)
        if m.author:
            sub(ts, "author", m.author)
        ps = sub(fd, "publicationStmt")
        sub(ps, "authority", "annotate export")
        sub(ps, "idno", d.id, type="annotate")
        sub(ps, "idno", sha256(d.text), type="sha256")
        if m.note:
            ns = sub(fd, "notesStmt")
            sub(ns, "note", m.note)
        sd = sub(fd, "sourceDesc")
        bibl = sub(sd, "bibl")
        sub(bibl, "title", m.title or d.id)
        if m.author:
            sub(bibl, "author", m.author)
        if m.speakers:
            rs = sub(bibl, "respStmt")
            sub(rs, "resp", "speaker")
            for sp in m.speakers:
                sub(rs, "persName", sp)
        if m.body:
            sub(bibl, "publisher", m.body)
        _date(bibl, m.date)
        if m.source:
            sub(bibl, "note", m.source, type="source")
        sub(bibl, "idno", d.path.name, type="file")
        prof = sub(header, "profileDesc")
        if m.language:
            lu = sub(prof, "langUsage")
            ident = m.language if re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*",
                                               m.language) else "und"
            sub(lu, "language", m.language, ident=ident)
        if m.speakers:
            pd = sub(prof, "particDesc")
            lp = sub(pd, "listPerson")
            for sp in m.speakers:
                person = sub(lp, "person", role="speaker")
                sub(person, "persName", sp)
        themes = [th for h in self.data.hits.get(d.id, ()) for th in h.themes]
        themes += self.doc_themes.get(d.id, [])
        if themes or m.genre:
            tc = sub(prof, "textClass")
            if themes:
                sub(tc, "catRef", scheme="#themes",
                     target=self.theme_ref(sorted(set(themes))))
            if m.genre:
                kw = sub(tc, "keywords")
                sub(kw, "term", m.genre, type="genre")
        if len(prof) == 0:
            header.remove(prof)
        return header


# About this many characters are encoded and handed to the writer at a time (a chunk is
# held three times over on its way: its pieces, joined, encoded).
CHUNK = 1 << 18


def tei_chunks(data: ExportData) -> Iterator[bytes]:
    """The `teiCorpus` export as UTF-8, in chunks of about 256 kB, for a writer to stream
    to its file: the export of a 200 MB document is never in memory whole."""
    pieces = _Exporter(data).pieces()  # set up now, before the writer opens its file

    def chunks() -> Iterator[bytes]:
        batch: list[str] = []
        size = 0
        for piece in pieces:
            batch.append(piece)
            size += len(piece)
            if size >= CHUNK:
                yield "".join(batch).encode("utf-8")
                batch, size = [], 0
        if batch:
            yield "".join(batch).encode("utf-8")

    return chunks()


def tei_bytes(data: ExportData) -> bytes:
    """The `teiCorpus` export, UTF-8, in one piece."""
    return b"".join(tei_chunks(data))

"""The agreement a TEI export can record: `tei_interpretation` as a TEI P5 fragment that is
valid in `encodingDesc/editorialDecl` (checked with the official tei_all schema) and whose
pointers resolve, with the figures of the report it came from."""

from __future__ import annotations

import numpy as np
import pytest

from annotate.agree_report import TEI_COLUMNS, agreement_report, tei_figures, tei_interpretation
from annotate.markup import TEI_NS, etree
from annotate.model import Annotation, Change, Document, Metadata

from .conftest import ROOT

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
TEXT = "One sentence here. Another one there. A third\x1b one. And a fourth."


def doc() -> Document:
    return Document(path=ROOT / "x.txt", text=TEXT, meta=Metadata(id="x"))


def annotations() -> tuple[list[Annotation], list[Change]]:
    d = doc()
    sents = d.sentences
    anns, history = [], []
    plan = [("alice", 0, ("returns",)), ("alice", 2, ("returns", "balkans")),
            ("bob", 0, ("returns",)), ("bob", 3, ("balkans",)), ("b\x1bob", 1, ("returns",))]
    for n, (user, i, themes) in enumerate(plan):
        s = sents[i]
        anns.append(Annotation(id=f"a{n}", doc="x", start=s.start, end=s.end, quote=s.text,
                               themes=themes, user=user))
        history.append(Change(id=n, annotation=f"a{n}", user=user, when="2026-01-01T00:00:00Z",
                              action="add", detail='{"status": "accepted"}'))
    return anns, history


def corpus_tei(fragment: str, users: list[str], themes: list[str]) -> object:
    """A minimal teiCorpus whose header holds the fragment where the export would put it."""
    persons = "".join(f'<persName xml:id="user.{i}">u</persName>' for i in range(len(users)))
    cats = "".join(f'<category xml:id="theme.{t}"><catDesc>{t}</catDesc></category>'
                   for t in themes)
    xml = f"""<teiCorpus xmlns="{TEI_NS}"><teiHeader><fileDesc>
<titleStmt><title>t</title><respStmt><resp>annotation</resp>{persons}</respStmt></titleStmt>
<publicationStmt><p>p</p></publicationStmt><sourceDesc><p>s</p></sourceDesc></fileDesc>
<encodingDesc><appInfo><application xml:id="app.annotate" ident="annotate" version="0">
<label>annotate</label></application></appInfo>
<editorialDecl><normalization><p>none</p></normalization>{fragment}</editorialDecl>
<classDecl><taxonomy xml:id="themes">{cats}</taxonomy></classDecl></encodingDesc></teiHeader>
<TEI xml:id="dx"><teiHeader><fileDesc><titleStmt><title>x</title></titleStmt>
<publicationStmt><p>p</p></publicationStmt><sourceDesc><p>s</p></sourceDesc></fileDesc>
</teiHeader><text><body><p>{TEXT.replace(chr(27), "?")}</p></body></text></TEI></teiCorpus>"""
    return etree.fromstring(xml.encode())


def test_interpretation_is_valid_tei_with_the_reports_figures() -> None:
    anns, history = annotations()
    report = tei_figures([doc()], anns, history)
    assert report is not None and report.annotators == ("alice", "b\x1bob", "bob")
    users = list(report.annotators)
    fragment = tei_interpretation(
        report, user_ref=lambda u: f"#user.{users.index(u)}",
        theme_ref=lambda t: f"#theme.{t}", labels={"returns": "Returns & removals"})
    root = corpus_tei(fragment, users, [t.id for t in report.themes])
    ids = {el.get(XML_ID) for el in root.iter()}  # type: ignore[attr-defined]
    for el in root.iter():  # type: ignore[attr-defined]
        for name in ("ref", "target"):
            value = el.get(name)
            if value and value.startswith("#"):
                assert value[1:] in ids, f"{value} does not resolve"
    ns = {"t": TEI_NS}
    rows = root.findall(".//t:interpretation/t:p/t:table/t:row", ns)  # type: ignore[attr-defined]
    assert len(rows) == len(report.themes) + 2
    assert "Returns & removals" in "".join(rows[2].itertext())  # themes sorted by id
    for row, figures in zip(rows[1:], [*report.themes, report.overall], strict=True):
        cells = row.findall("t:cell", ns)[1:]
        for cell, (key, _) in zip(cells, TEI_COLUMNS, strict=True):
            value = getattr(figures, key)
            num = cell.find("t:num", ns)
            if value is None:
                assert num is None
            else:
                assert num.get("type") == key
                assert float(num.get("value")) == pytest.approx(value, abs=1e-6)
    try:
        from .test_tei_schema import assert_valid
    except ImportError:
        pytest.skip("tests/test_tei_schema.py (the tei_all schema loader) is not there")
    assert_valid(root)


def test_tei_figures_need_two_annotators() -> None:
    anns, history = annotations()
    alone = [a for a in anns if a.user == "alice"]
    assert tei_figures([doc()], alone, history) is None


def test_tei_figures_are_the_sentence_report() -> None:
    anns, history = annotations()
    report = tei_figures([doc()], anns, history)
    assert report is not None
    same = agreement_report([doc()], anns, history, list(report.annotators),
                            ["balkans", "returns"])
    assert report == same
    assert report.overall.alpha is not None and np.isfinite(report.overall.alpha)

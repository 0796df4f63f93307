"""REFI-QDA codebook (.qdc) export and import: schema-valid, lossless round trip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotate.cli import app
from annotate.errors import CodebookError, ExportError
from annotate.exchange.qdc import (
    QDC_NS,
    codebook_to_qdc,
    codebook_to_toml,
    qdc_to_codebook,
    theme_guid,
)
from annotate.markup import etree
from annotate.model import Codebook, Theme
from annotate.themes import load_codebook, parse_codebook

from .conftest import SCHEMAS, SEEDS

runner = CliRunner()
NS = {"q": QDC_NS}
# The official REFI-QDA Codebook.xsd, from ../shared/schemas (see its README).
CODEBOOK_XSD = SCHEMAS / "refi-qda" / "Codebook.xsd"
SCHEMA = etree.XMLSchema(etree.parse(str(CODEBOOK_XSD))) if CODEBOOK_XSD.is_file() else None
NO_SCHEMA = f"the official REFI-QDA schema {CODEBOOK_XSD} is not beside the project here"


def validate(data: bytes) -> None:
    """Valid against the official Codebook.xsd (checked where ../shared is present; the tests
    about validity itself skip, saying why, where it is not)."""
    if SCHEMA is None:
        return
    doc = etree.fromstring(data)
    assert SCHEMA.validate(doc), SCHEMA.error_log


def same(a: Codebook, b: Codebook) -> bool:
    return dataclasses.replace(a, path=None) == dataclasses.replace(b, path=None)


def test_seed_codebook_export_is_schema_valid_and_nested() -> None:
    if SCHEMA is None:
        pytest.skip(NO_SCHEMA)
    cb = load_codebook(SEEDS / "themes.toml")
    data = codebook_to_qdc(cb)
    validate(data)
    root = etree.fromstring(data)
    top = root.findall("q:Codes/q:Code", NS)
    assert [c.get("name") for c in top][:2] == ["Whole-of-route approach", "Returns and removals"]
    child = top[0].find("q:Code", NS)
    assert child is not None and child.get("name") == "Upstream action against smugglers"
    assert child.get("guid") == theme_guid("upstream")
    assert top[0].get("color") == "#008080"  # "cyan" as the schema's hex
    assert top[0].get("isCodable") == "true"
    desc = top[0].findtext("q:Description", namespaces=NS)
    assert desc.startswith("Acting along the whole migration route")
    assert '\n\n[annotate]\nid = "whole-of-route"\n' in desc
    assert len(root.findall("q:Sets/q:Set/q:MemberCode", NS)) == len(cb.themes)


def test_seed_codebook_round_trip() -> None:
    cb = load_codebook(SEEDS / "themes.toml")
    back = qdc_to_codebook(codebook_to_qdc(cb), "seeds.qdc")
    assert same(cb, back)
    assert codebook_to_qdc(back) == codebook_to_qdc(cb)  # deterministic, stable GUIDs


def test_export_detects_schema_breakage() -> None:
    # the validator itself must be able to fail
    if SCHEMA is None:
        pytest.skip(NO_SCHEMA)
    data = codebook_to_qdc(load_codebook(SEEDS / "themes.toml")).replace(
        b'isCodable="true"', b'isCodable="yes"', 1)
    assert not SCHEMA.validate(etree.fromstring(data))


def test_import_from_another_tool() -> None:
    data = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="{QDC_NS}" origin="QualCoder">
  <Codes>
    <Code guid="11111111-2222-3333-4444-555555555555" name="Border &amp; security"
          isCodable="true" color="#F0A">
      <Description>Anything about borders.</Description>
      <Code guid="{{11111111-2222-3333-4444-555555555556}}" name="Border security"
            isCodable="false"/>
    </Code>
  </Codes>
</CodeBook>""".encode()
    validate(data)
    cb = qdc_to_codebook(data, "other.qdc")
    assert cb.name == "other"
    assert [(t.id, t.label, t.parent, t.color) for t in cb.themes] == [
        ("border-security", "Border & security", None, "#FF00AA"),
        ("border-security-2", "Border security", "border-security", None),
    ]
    assert cb.themes[0].description == "Anything about borders."
    assert cb.themes[0].patterns == ()


def test_ids_of_foreign_codes_keep_accented_letters() -> None:
    data = f"""<CodeBook xmlns="{QDC_NS}"><Codes>
      <Code guid="a" name="Rückführung" isCodable="true"/>
      <Code guid="b" name="Coopération" isCodable="true"/>
      <Code guid="c" name="日本" isCodable="true"/>
    </Codes></CodeBook>""".encode()
    assert qdc_to_codebook(data, "x.qdc").ids == ("ruckfuhrung", "cooperation", "code")


def test_import_refuses_other_xml() -> None:
    with pytest.raises(CodebookError) as e:
        qdc_to_codebook(b"<Project xmlns='urn:QDA-XML:project:1.0'/>", "p.qde")
    assert str(e.value) == (
        "p.qde: not a REFI-QDA codebook (root is 'Project' in 'urn:QDA-XML:project:1.0', "
        "expected CodeBook in 'urn:QDA-XML:codebook:1.0')"
    )
    with pytest.raises(CodebookError) as e:
        qdc_to_codebook(b"<CodeBook", "bad.qdc")
    assert str(e.value).startswith("bad.qdc:1:")


def test_import_validates_patterns() -> None:
    cb = Codebook("x", (Theme("a", "A", patterns=("route",)),))
    data = codebook_to_qdc(cb).replace(b'"route"', b'"~2 route"')
    with pytest.raises(CodebookError) as e:
        qdc_to_codebook(data, "x.qdc")
    assert str(e.value) == (
        "x.qdc: theme 'a': pattern '~2 route': a pattern cannot start with a gap ~N"
    )


def test_export_refuses_characters_xml_cannot_hold() -> None:
    cb = Codebook("x", (Theme("a", "A\x01"),))
    with pytest.raises(ExportError) as e:
        codebook_to_qdc(cb)
    assert str(e.value) == "theme 'a': label contains character U+0001, which XML cannot hold"
    with pytest.raises(ExportError, match="U\\+FFFE"):
        codebook_to_qdc(Codebook("\ufffe", (Theme("a", "A"),)))


# --- round trip of generated codebooks -----------------------------------------------------

# Text XML can hold (the .qdc export refuses the rest, tested below): no surrogates, no
# control characters but tab and line ends, not the noncharacters U+FFFE and U+FFFF.
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n\r",
                  blacklist_characters="\ufffe\uffff"),
    max_size=30,
)
LABELS = XML_TEXT.filter(lambda s: s.strip() != "")
IDS = st.from_regex(r"[a-z0-9][a-z0-9_.\-]{0,12}", fullmatch=True)
WORD = st.sampled_from(["route", "transit*", "=data", "co-operation", "return", "fund|invest*",
                        "uk's", "a"])
PATTERN = st.one_of(
    WORD,
    st.lists(WORD, min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"'),
    st.tuples(WORD, st.integers(0, 20), WORD).map(lambda t: f"{t[0]} ~{t[1]} {t[2]}"),
)
COLORS = st.sampled_from([None, "cyan", "bright_green", "#a0b1c2", "red", "grey50"])


@st.composite
def codebooks(draw: st.DrawFn) -> Codebook:
    ids = draw(st.lists(IDS, min_size=1, max_size=6, unique=True))
    themes = []
    for i, tid in enumerate(ids):
        # a parent among the themes before this one keeps the hierarchy acyclic; the theme
        # order is shuffled afterwards so children may also come before their parents
        parent = draw(st.sampled_from([None, *ids[:i]]))
        themes.append(
            Theme(
                id=tid,
                label=draw(LABELS),
                description=draw(XML_TEXT),
                patterns=tuple(draw(st.lists(PATTERN, max_size=3))),
                exclude=tuple(draw(st.lists(PATTERN, max_size=2))),
                examples=tuple(draw(st.lists(XML_TEXT, max_size=2))),
                color=draw(COLORS),
                parent=parent,
            )
        )
    order = draw(st.permutations(themes))
    return Codebook(
        name=draw(LABELS),
        themes=tuple(order),
        unit=draw(st.sampled_from(["sentence", "paragraph"])),
        language=draw(st.sampled_from(["en", "fr", "de"])),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codebooks())
def test_round_trip_qdc(cb: Codebook) -> None:
    data = codebook_to_qdc(cb)
    validate(data)
    assert same(qdc_to_codebook(data, "gen.qdc"), cb)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codebooks())
def test_round_trip_toml(cb: Codebook) -> None:
    assert same(parse_codebook(codebook_to_toml(cb), "gen.toml"), cb)


# --- CLI -----------------------------------------------------------------------------------


def test_cli_export_import_round_trip(tmp_path: Path) -> None:
    qdc = tmp_path / "out" / "themes.qdc"
    result = runner.invoke(app, ["codebook", "export", "--codebook",
                                 str(SEEDS / "themes.toml"), "--out", str(qdc)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {qdc} (9 codes)\n"
    validate(qdc.read_bytes())

    again = runner.invoke(app, ["codebook", "export", "--out", str(qdc)])
    assert again.exit_code == 1
    assert again.stderr == f"Error: {qdc} exists; use --force to overwrite it\n"
    forced = runner.invoke(app, ["codebook", "export", "--out", str(qdc), "--force"])
    assert forced.exit_code == 0, forced.output

    toml = tmp_path / "themes.toml"
    result = runner.invoke(app, ["codebook", "import", str(qdc), "--out", str(toml)])
    assert result.exit_code == 0, result.output
    assert same(load_codebook(toml), load_codebook(SEEDS / "themes.toml"))
    refused = runner.invoke(app, ["codebook", "import", str(qdc), "--out", str(toml)])
    assert refused.exit_code == 1 and "exists; use --force to overwrite it" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "themes.toml"]  # no temp files


def test_cli_import_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["codebook", "import", str(tmp_path / "no.qdc"),
                                 "--out", str(tmp_path / "t.toml")])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'no.qdc'}: no such file\n"

"""Web Annotation exports checked with the W3C's own tools: every MUST assertion of the W3C
Web Annotation test suite (its JSON Schemas, draft 4) for the collection and for each
annotation, and JSON-LD expansion with pyld (offline, the W3C context from ../shared) that
drops nothing."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.corpus import load_corpus
from annotate.exchange.data import ExportData
from annotate.exchange.webanno import webanno_json
from annotate.model import Annotation, Change
from tests.conftest import SCHEMAS, SEEDS

W3C = SCHEMAS / "w3c-anno"
TESTS = W3C / "tests"
ANNO_CONTEXT_URLS = {"http://www.w3.org/ns/anno.jsonld", "https://www.w3.org/ns/anno.jsonld"}
runner = CliRunner()

pytestmark = pytest.mark.skipif(
    not (TESTS / "definitions").is_dir() or not (W3C / "anno.jsonld").is_file(),
    reason=f"the W3C Web Annotation schemas are not beside the project here ({W3C})",
)


def export() -> dict[str, Any]:
    corpus = load_corpus([SEEDS])
    d = corpus.get("002")
    anns = (
        Annotation("a1", "002", 10, 40, d.text[10:40], themes=("balkans", "returns"),
                   note="a note\nover two lines", user="alice", created="2026-01-01T10:00:00Z",
                   modified="2026-01-02T10:00:00Z", prefix=d.text[:10],
                   suffix=d.text[40:72]),
        Annotation("a2", "002", 50, 60, d.text[50:60], user="bob"),
        Annotation("a3", "002", 70, 90, d.text[70:90], note="only a note", status="suggested",
                   user="bob", orphaned=True),
    )
    history = (Change(1, "a1", "alice", "2026-01-01T10:00:00Z", "add", '{"themes": []}'),
               Change(2, "a2", "bob", "2026-01-01T10:05:00Z", "add", ""))
    data = ExportData(corpus, anns, history, when="2026-01-03T00:00:00Z")
    return json.loads(json.dumps(webanno_json(data)))


@lru_cache(maxsize=1)
def _registry() -> Any:
    from referencing import Registry
    from referencing.jsonschema import DRAFT4

    return Registry().with_resources(
        (p.name, DRAFT4.create_resource(json.loads(p.read_text(encoding="utf-8"))))
        for p in sorted((TESTS / "definitions").glob("*.json"))
    )


def _musts(test_file: str) -> list[tuple[str, dict[str, Any]]]:
    spec = json.loads((TESTS / test_file).read_text(encoding="utf-8"))
    out = []
    for name in spec["assertions"]:
        schema = json.loads((TESTS / name).read_text(encoding="utf-8"))
        if schema.get("assertionType") == "must":
            out.append((name, schema))
    assert out, f"no MUST assertions found in {test_file}"
    return out


def failed_musts(instance: dict[str, Any], test_file: str) -> list[str]:
    """The MUST assertions of the W3C test `test_file` that `instance` fails."""
    from jsonschema import Draft4Validator

    failures = []
    for name, schema in _musts(test_file):
        validator = Draft4Validator(schema, registry=_registry(),
                                    format_checker=Draft4Validator.FORMAT_CHECKER)
        expected = schema.get("expectedResult", "valid") == "valid"
        if validator.is_valid(instance) != expected:
            failures.append(f"{name}: {schema.get('errorMessage', '')}")
    return failures


def test_uri_format_is_really_checked() -> None:
    from jsonschema import Draft4Validator

    checker = Draft4Validator.FORMAT_CHECKER
    assert not checker.conforms("not a uri", "uri")  # else every id check would pass blindly
    assert checker.conforms("urn:annotate:annotation:a1", "uri")


def test_collection_passes_every_must() -> None:
    assert failed_musts(export(), "collections/collectionMusts.test") == []


def test_each_annotation_passes_every_must() -> None:
    doc = export()
    items = doc["first"]["items"]
    assert len(items) == 3
    for item in items:
        # An annotation on its own carries the context, as the W3C test expects.
        alone = {"@context": doc["@context"], **item}
        assert failed_musts(alone, "annotations/annotationMusts.test") == [], item["id"]


def test_a_broken_annotation_fails_the_musts() -> None:
    doc = export()
    item = {"@context": doc["@context"], **doc["first"]["items"][0]}
    del item["target"]
    assert failed_musts(item, "annotations/annotationMusts.test")
    coll = export()
    coll["id"] = "not a uri"
    assert failed_musts(coll, "collections/collectionMusts.test")


def test_page_has_an_id_and_the_source_resolves() -> None:
    doc = export()
    page = doc["first"]
    assert page["id"].startswith("urn:annotate:export") and page["partOf"] == doc["id"]
    source = page["items"][0]["target"]["source"]
    assert source["canonical"] == "urn:annotate:document:002"
    assert source["id"].startswith("file:///")
    from urllib.parse import unquote, urlparse

    path = Path(unquote(urlparse(source["id"]).path))
    assert path.is_file() and path.name.startswith("002_")


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    from pyld import jsonld

    if url in ANNO_CONTEXT_URLS:
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": json.loads((W3C / "anno.jsonld").read_text(encoding="utf-8"))}
    raise jsonld.JsonLdError(f"no network in tests: {url}", "loading document failed")


# Keys whose values JSON-LD turns into IRIs of the vocabulary (so the plain value is gone).
VOCAB_KEYS = {"type", "motivation", "purpose"}


def _leaves(node: Any, key: str = "") -> list[str]:
    if isinstance(node, dict):
        return [v for k, x in node.items() if k != "@context" and k not in VOCAB_KEYS
                for v in _leaves(x, k)]
    if isinstance(node, list):
        return [v for x in node for v in _leaves(x, key)]
    return [] if node is None else [str(node)]


def _expanded_leaves(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = []
        for k, x in node.items():
            if k in ("@value", "@id"):
                out.append(str(x))
            elif k != "@type":
                out += _expanded_leaves(x)
        return out
    if isinstance(node, list):
        return [v for x in node for v in _expanded_leaves(x)]
    return []


def test_json_ld_expansion_drops_nothing() -> None:
    from pyld import jsonld

    doc = export()
    expanded = jsonld.expand(doc, {"documentLoader": _loader})
    kept = _expanded_leaves(expanded)
    missing = [v for v in _leaves(doc) if v not in kept]
    assert missing == []
    # and the check can fail: a key no context defines is dropped by expansion
    doc["undefinedTerm"] = "lost value"
    assert "lost value" not in _expanded_leaves(jsonld.expand(doc, {"documentLoader": _loader}))


def test_history_keeps_its_order() -> None:
    from pyld import jsonld

    expanded = jsonld.expand(export(), {"documentLoader": _loader})
    history = expanded[0]["urn:annotate:vocab#history"][0]["@list"]
    assert [h["urn:annotate:vocab#annotation"][0]["@value"] for h in history] == ["a1", "a2"]


def test_cli_export_round_trips(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    added = runner.invoke(app, ["add", "004", "--span", "10:40", "--note", "x", "--store",
                                str(store), str(SEEDS)])
    assert added.exit_code == 0, added.output
    out = tmp_path / "x.jsonld"
    r = runner.invoke(app, ["export", str(SEEDS), "--format", "webanno", "--out", str(out),
                            "--store", str(store)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert failed_musts(doc, "collections/collectionMusts.test") == []
    back = runner.invoke(app, ["import", str(out), str(SEEDS), "--store",
                               str(tmp_path / "t.sqlite")])
    assert back.exit_code == 0, back.output
    assert "1 added" in back.output

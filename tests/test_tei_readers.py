"""Real readers of the exports: teiphy converts the collation, CETEIcean (under Node with
jsdom) renders the corpus with its text and ids."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.corpus import Corpus
from annotate.exchange.collation import collation_bytes
from annotate.exchange.tei_export import tei_bytes
from tests.test_tei import seed_corpus, seed_data

NODE_CACHE = Path(__file__).resolve().parent / ".cache" / "node"
RENDER = r"""
import { JSDOM } from 'jsdom';
import CETEI from 'CETEIcean';
import fs from 'fs';

const xml = fs.readFileSync(process.argv[2], 'utf8');
const dom = new JSDOM(xml, {contentType: 'text/xml'});
const ceteicean = new CETEI({documentObject: dom.window.document});
const html = ceteicean.domToHTML5(dom.window.document);
const out = {sentences: {}, divs: {}, elements: html.querySelectorAll('*').length};
for (const s of html.querySelectorAll('tei-s')) out.sentences[s.getAttribute('id')] = s.textContent;
for (const d of html.querySelectorAll('tei-div')) out.divs[d.getAttribute('id')] = d.textContent;
console.log(JSON.stringify(out));
"""


def test_teiphy_converts_the_collation(tmp_path: Path) -> None:
    from annotate.reuse import find_reuse

    teiphy = Path(sys.executable).parent / "teiphy"
    if not teiphy.exists():
        pytest.fail("teiphy is not installed: it is in the dev extra (pip install -e '.[dev]')")
    c = seed_corpus()
    a, b = c.get("003"), c.get("002")
    src = tmp_path / "collation.xml"
    src.write_bytes(collation_bytes(a, b, find_reuse(Corpus((a, b)), min_bits=0).passages))
    out = tmp_path / "collation.csv"
    proc = subprocess.run([str(teiphy), str(src), str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].split(",")[1:] == ["d003", "d002"]
    apps = len([line for line in src.read_text().splitlines() if "<app " in line])
    assert apps > 1 and len(rows) - 1 >= apps  # one row per reading of every app
    nexus = tmp_path / "collation.nex"
    proc = subprocess.run([str(teiphy), str(src), str(nexus)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = nexus.read_text()
    assert "ntax=2" in text and f"nchar={apps}" in text


def _ceteicean() -> Path:
    """A Node project with CETEIcean and jsdom from npm, cached in tests/.cache/node."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("CETEIcean check needs Node.js and npm, which are not installed")
    if not (NODE_CACHE / "node_modules" / "CETEIcean").is_dir() or not (
            NODE_CACHE / "node_modules" / "jsdom").is_dir():
        NODE_CACHE.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "CETEIcean", "jsdom"],
            cwd=NODE_CACHE, capture_output=True, text=True, timeout=600,
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot install CETEIcean and jsdom from npm: {proc.stderr[-300:]}")
    script = NODE_CACHE / "render.mjs"
    script.write_text(RENDER)
    return script


def test_ceteicean_renders_the_corpus_export(tmp_path: Path) -> None:
    script = _ceteicean()
    f = tmp_path / "seeds.xml"
    f.write_bytes(tei_bytes(seed_data()))
    proc = subprocess.run(["node", str(script), str(f)], capture_output=True, text=True,
                          timeout=120, cwd=NODE_CACHE)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    for d in seed_corpus().documents:
        assert out["divs"][f"d{d.id}.div"] == d.text
        for s in d.sentences:
            assert out["sentences"][f"d{s.id}"] == s.text

"""`--out -` writes every export format to standard output (and creates no file called `-`);
the summary line goes to stderr so the output stays clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from tests.conftest import SEEDS

runner = CliRunner()

EXPORTS = [
    (["export", str(SEEDS), "--no-reuse"], "x.xml"),
    (["export", str(SEEDS), "--format", "webanno"], "x.jsonld"),
    (["export", str(SEEDS), "--format", "csv"], "x.csv"),
    (["export", str(SEEDS), "--format", "collation", "--docs", "004,000"], "x.collation.xml"),
    (["codebook", "export", "--codebook", str(SEEDS / "themes.toml")], "x.qdc"),
]


@pytest.mark.parametrize(("args", "name"), EXPORTS)
def test_out_dash_is_stdout(
    args: list[str], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    to_file = runner.invoke(app, [*args, "--out", str(tmp_path / name)])
    assert to_file.exit_code == 0, to_file.output
    result = runner.invoke(app, [*args, "--out", "-"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "-").exists()
    written = (tmp_path / name).read_bytes()
    if name == "x.xml":  # the TEI header carries the time of the export
        assert result.stdout_bytes.split(b"<encodingDesc>")[1] == written.split(
            b"<encodingDesc>")[1]
    elif name == "x.jsonld":  # so does the Web Annotation collection
        out, kept = json.loads(result.stdout_bytes), json.loads(written)
        out.pop("generated")
        kept.pop("generated")
        assert out == kept
    else:
        assert result.stdout_bytes == written
    assert "Wrote standard output" in result.stderr


def test_codebook_import_to_stdout(tmp_path: Path) -> None:
    qdc = tmp_path / "x.qdc"
    assert runner.invoke(app, ["codebook", "export", "--codebook", str(SEEDS / "themes.toml"),
                               "--out", str(qdc)]).exit_code == 0
    result = runner.invoke(app, ["codebook", "import", str(qdc), "--out", "-"])
    assert result.exit_code == 0, result.output
    assert "[[theme]]" in result.stdout and 'id = "balkans"' in result.stdout

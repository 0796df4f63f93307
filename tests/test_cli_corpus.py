"""`annotate corpus`, `annotate show`, `--version`, and the error contract of the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate import __version__
from annotate.cli import app
from tests.conftest import DATA, ROOT, SEEDS, check_golden

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"annotate {__version__}"


def test_python_dash_m_runs_the_same_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "annotate", "--version"], capture_output=True, text=True,
        check=True, cwd=ROOT,
    )
    assert out.stdout.strip() == f"annotate {__version__}"


def test_corpus_table_golden() -> None:
    result = runner.invoke(app, ["corpus", str(SEEDS)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    check_golden(DATA / "cli" / "corpus.txt", result.output)


def test_corpus_json_shape() -> None:
    result = runner.invoke(app, ["corpus", str(SEEDS), "--json"])
    data = json.loads(result.output)
    docs = data["documents"]
    assert [d["id"] for d in docs] == ["004", "000", "001", "003", "002"]
    for d in docs:
        assert {"id", "path", "title", "date", "date_precision", "speakers", "words",
                "sentences"} <= d.keys()
        assert Path(d["path"]).exists()
    assert docs[3]["date"] == "2024-11-07" and docs[3]["date_precision"] == "day"
    assert docs[0]["words"] == 815


def test_show_lists_sentence_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the header shows the path as given: keep it the same everywhere
    result = runner.invoke(app, ["show", "003", "seeds", "--no-pager"], env={"COLUMNS": "90"})
    assert result.exit_code == 0
    check_golden(DATA / "cli" / "show-003.txt", result.output)


def test_show_json_offsets_are_exact() -> None:
    result = runner.invoke(app, ["show", "002", str(SEEDS), "--json"])
    data = json.loads(result.output)
    text = (SEEDS / "002_3f54934f788c0788.txt").read_text(encoding="utf-8")
    sentences = [s for p in data["paragraphs"] for s in p["sentences"]]
    assert sentences[0]["id"] == "002.p1.s1"
    for s in sentences:
        assert text[s["start"] : s["end"]] == s["text"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["corpus", "does-not-exist"], "Error: does-not-exist: no such file or directory"),
        (["show", "999", str(SEEDS)], "Error: unknown document '999' (known: 004, 000, 001, "
                                      "003, 002)"),
    ],
)
def test_errors_are_one_line_without_traceback(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.strip() == message
    assert "Traceback" not in result.output


def test_bad_corpus_toml_and_skip_bad(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Fine text here.", encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    result = runner.invoke(app, ["corpus", str(tmp_path)])
    assert result.exit_code == 1 and "looks like a binary file" in result.stderr
    result = runner.invoke(app, ["corpus", str(tmp_path), "--skip-bad", "--json"])
    assert result.exit_code == 0
    assert [d["id"] for d in json.loads(result.stdout)["documents"]] == ["ok"]
    assert result.stderr.startswith("Skipped: ")
    (tmp_path / "corpus.toml").write_text('[[document]]\nfile = "ok.txt"\nwhen = "2020"\n')
    result = runner.invoke(app, ["corpus", str(tmp_path), "--skip-bad"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'corpus.toml'}, line 3: unknown key")


def test_every_command_has_help_and_is_in_the_readme() -> None:
    import typer.main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    click_app = typer.main.get_command(app)
    names = sorted(click_app.commands)  # type: ignore[attr-defined]
    assert {"corpus", "show"} <= set(names)
    for name in names:
        cmd = click_app.commands[name]  # type: ignore[attr-defined]
        assert cmd.help, f"command {name} has no help text"
        assert f"annotate {name}" in readme, f"`annotate {name}` is not in README.md"


def test_brackets_in_texts_and_metadata_are_text_not_rich_markup(tmp_path: Path) -> None:
    # "[/x]" used to reach rich's markup parser and crash with a traceback.
    (tmp_path / "a.txt").write_text("Text with [/x] in it. Then [bold]b[/bold].", "utf-8")
    (tmp_path / "corpus.toml").write_text(
        '[[document]]\nfile = "a.txt"\ntitle = "[/oops] T"\nspeakers = ["[red]S"]\n', "utf-8")
    result = runner.invoke(app, ["corpus", str(tmp_path)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "[/oops] T" in result.stdout and "[red]S" in result.stdout
    assert "(1 document)" in result.stdout
    result = runner.invoke(app, ["show", "a", str(tmp_path)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "Text with [/x] in it." in result.stdout and "[bold]b[/bold]" in result.stdout


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import annotate.render

    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(annotate.render, "corpus_table", boom)
    monkeypatch.delenv("ANNOTATE_DEBUG", raising=False)
    result = runner.invoke(app, ["corpus", str(SEEDS)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unexpected ValueError: boom")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_show_accepts_the_path_shell_completion_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["show", "./seeds/002_3f54934f788c0788.txt", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "002"


@pytest.mark.parametrize(
    ("pager", "less", "styles", "less_after"),
    [
        (None, None, True, "-R"),  # used to page styled text through a bare less: raw escapes
        ("less", "-FX", False, "-FX"),
        ("/usr/bin/less -S", "-FRX", True, "-FRX"),
        (None, "--RAW-CONTROL-CHARS", True, "--RAW-CONTROL-CHARS"),
        ("more", None, False, None),
    ],
)
def test_show_pages_in_colour_only_where_the_pager_can(
    monkeypatch: pytest.MonkeyPatch, pager: str | None, less: str | None, styles: bool,
    less_after: str | None,
) -> None:
    import os

    from annotate.cli import pager_styles

    for name, value in (("PAGER", pager), ("LESS", less)):
        monkeypatch.setenv(name, "")  # recorded, so pager_styles' own change is undone too
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    assert pager_styles() is styles
    assert os.environ.get("LESS") == less_after

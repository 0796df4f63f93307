"""Codebook parsing and validation: every error names file, line, theme and pattern."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.errors import CodebookError
from annotate.themes import (
    codebook_errors,
    codebook_path,
    load_codebook,
    parse_codebook,
)

from .conftest import SEEDS

runner = CliRunner()

GOOD = """\
[meta]
name = "Test"

[[theme]]
id = "route"
label = "Route"
patterns = ["whole of route", "transit*"]

[[theme]]
id = "returns"
label = "Returns"
parent = "route"
patterns = [
    "return",
    '"no right to" ~2 remain',
]
exclude = ["envoy for returns"]
color = "#aa00ff"
"""


def write(tmp_path: Path, text: str, name: str = "themes.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(CodebookError) as e:
        load_codebook(path)
    return str(e.value).replace(str(path), "FILE")


def test_good_codebook(tmp_path: Path) -> None:
    cb = load_codebook(write(tmp_path, GOOD))
    assert cb.name == "Test"
    assert cb.unit == "sentence"
    assert cb.ids == ("route", "returns")
    returns = cb.get("returns")
    assert returns.parent == "route"
    assert returns.patterns == ("return", '"no right to" ~2 remain')
    assert returns.exclude == ("envoy for returns",)
    assert returns.color == "#aa00ff"
    assert cb.path == tmp_path / "themes.toml"


def test_seed_codebook_is_valid_and_has_the_eight_themes() -> None:
    cb = load_codebook(SEEDS / "themes.toml")
    for tid in ("whole-of-route", "upstream", "returns", "balkans", "intelligence",
                "deterrence", "funding", "cooperation"):
        theme = cb.get(tid)
        assert theme.label and theme.description and theme.patterns and theme.color
        assert theme.examples
    assert codebook_errors(SEEDS / "themes.toml") == []


def test_unknown_theme_key(tmp_path: Path) -> None:
    text = GOOD.replace('label = "Route"\n', 'label = "Route"\ncolour = "red"\n')
    assert error_of(tmp_path, text) == (
        "FILE:7: theme 'route': unknown key 'colour' (known: id, label, description, "
        "patterns, exclude, examples, color, parent)"
    )


def test_unknown_meta_and_top_level_keys(tmp_path: Path) -> None:
    text = 'title = "x"\n' + GOOD.replace('name = "Test"\n', 'name = "Test"\nversion = "1"\n')
    path = write(tmp_path, text)
    assert [e.replace(str(path), "FILE") for e in codebook_errors(path)] == [
        "FILE:1: unknown key 'title' (known: meta, theme)",
        "FILE:4: meta: unknown key 'version' (known: name, unit, language)",
    ]


def test_bad_pattern_names_line_theme_and_pattern(tmp_path: Path) -> None:
    text = GOOD.replace('    "return",\n', '    "return",\n    "return ~ home",\n')
    assert error_of(tmp_path, text) == (
        "FILE:15: theme 'returns': pattern 'return ~ home': bad gap '~': write ~N, e.g. ~3"
    )


def test_bad_exclude_pattern(tmp_path: Path) -> None:
    text = GOOD.replace('exclude = ["envoy for returns"]', 'exclude = ["envoy*for"]')
    assert error_of(tmp_path, text) == (
        "FILE:17: theme 'returns': exclude pattern 'envoy*for': "
        "'envoy*for': '*' may only end a word"
    )


def test_duplicate_id(tmp_path: Path) -> None:
    text = GOOD + '\n[[theme]]\nid = "route"\nlabel = "Again"\n'
    assert error_of(tmp_path, text) == (
        "FILE:21: theme 'route': duplicate id (first defined on line 5)"
    )


def test_unknown_parent(tmp_path: Path) -> None:
    text = GOOD.replace('parent = "route"', 'parent = "routes"')
    assert error_of(tmp_path, text) == "FILE:12: theme 'returns': unknown parent 'routes'"


def test_parent_cycle(tmp_path: Path) -> None:
    text = GOOD.replace('label = "Route"\n', 'label = "Route"\nparent = "returns"\n')
    assert error_of(tmp_path, text) == (
        "FILE:7: theme 'route': parent cycle route -> returns -> route (and 1 more)"
    )


def test_missing_label(tmp_path: Path) -> None:
    text = GOOD.replace('label = "Returns"\n', "")
    assert error_of(tmp_path, text) == "FILE:9: theme 'returns': missing label"


def test_missing_and_bad_id(tmp_path: Path) -> None:
    assert error_of(tmp_path, GOOD.replace('id = "returns"\n', "")) == (
        "FILE:9: theme #2: missing id"
    )
    assert error_of(tmp_path, GOOD.replace('id = "returns"', 'id = "the returns"')) == (
        "FILE:10: theme 'the returns': bad id (use letters, digits, '-', '_' and '.', no spaces)"
    )


def test_wrong_types(tmp_path: Path) -> None:
    text = GOOD.replace('["whole of route", "transit*"]', '"whole of route"')
    assert error_of(tmp_path, text) == (
        "FILE:7: theme 'route': patterns must be a list of strings"
    )
    assert error_of(tmp_path, GOOD.replace('label = "Route"', "label = 3")) == (
        "FILE:6: theme 'route': label must be a string"
    )


def test_unknown_color_and_unit(tmp_path: Path) -> None:
    assert error_of(tmp_path, GOOD.replace('"#aa00ff"', '"purplish"')) == (
        "FILE:18: theme 'returns': unknown color 'purplish'"
    )
    assert error_of(tmp_path, GOOD.replace('name = "Test"', 'name = "Test"\nunit = "word"')) == (
        "FILE:3: meta: unknown unit 'word' (known: sentence, paragraph)"
    )


def test_toml_syntax_error_with_line(tmp_path: Path) -> None:
    text = GOOD.replace('label = "Returns"', 'label = "Returns')
    assert error_of(tmp_path, text) == "FILE:11: TOML syntax error: Illegal character '\\n'"


def test_no_themes(tmp_path: Path) -> None:
    assert error_of(tmp_path, '[meta]\nname = "x"\n') == "FILE: no themes (add a [[theme]] table)"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CodebookError) as e:
        load_codebook(tmp_path / "nope.toml")
    assert str(e.value).startswith(f"codebook not found: {tmp_path / 'nope.toml'} (")


def test_parse_codebook_from_text_counts_further_errors() -> None:
    text = GOOD.replace('label = "Route"', 'label = ""').replace('label = "Returns"', 'label = ""')
    with pytest.raises(CodebookError) as e:
        parse_codebook(text, "x.toml")
    assert str(e.value) == "x.toml:6: theme 'route': missing label (and 1 more)"


def test_codebook_path_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = tmp_path / "mine.toml"
    assert codebook_path([tmp_path], explicit) == explicit
    assert codebook_path([tmp_path]) == Path("seeds/themes.toml")
    write(tmp_path, GOOD)
    assert codebook_path([tmp_path]) == tmp_path / "themes.toml"
    assert codebook_path([tmp_path / "a.txt"]) == tmp_path / "themes.toml"
    monkeypatch.setenv("ANNOTATE_CODEBOOK", str(explicit))
    assert codebook_path([tmp_path]) == explicit
    assert codebook_path(None, tmp_path / "x.toml") == tmp_path / "x.toml"


def test_cli_check_ok_and_errors(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["codebook", "check", str(SEEDS / "themes.toml")])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(f"{SEEDS / 'themes.toml'}: OK, 9 themes, ")
    bad = write(tmp_path, GOOD.replace('label = "Route"', 'label = ""').replace(
        '"transit*"', '"tran*sit"'))
    result = runner.invoke(app, ["codebook", "check", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {bad}:6: theme 'route': missing label",
        f"Error: {bad}:7: theme 'route': pattern 'tran*sit': 'tran*sit': '*' may only end a word",
    ]


def test_cli_show(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = runner.invoke(app, ["codebook", "show", str(path)])
    assert result.exit_code == 0, result.output
    assert "route" in result.output and "└ " in result.output
    assert "no right to" in result.output
    js = runner.invoke(app, ["codebook", "show", str(path), "--json"])
    import json

    data = json.loads(js.output)
    assert [t["id"] for t in data["themes"]] == ["route", "returns"]
    assert data["themes"][1]["parent"] == "route"

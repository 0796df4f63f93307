"""The terminal sanitiser: every control character visible, one character for one."""

from hypothesis import given
from hypothesis import strategies as st

from annotate.sanitize import has_controls, json_visible, visible


def test_escape_sequences_are_made_visible() -> None:
    hostile = "a\x1b]52;c;SGVsbG8=\x07b\x1b[2J\x9b31m\u202eevil"
    shown = visible(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\u202e" not in shown
    assert shown.startswith("a\u241b]52;")
    assert has_controls(hostile)


def test_newlines_and_tabs_kept_only_when_asked() -> None:
    assert visible("a\nb\tc") == "a\u240ab\u2409c"
    assert visible("a\nb\tc", keep_newlines=True) == "a\nb\u2409c"
    assert visible("a\nb\tc", keep_newlines=True, keep_tabs=True) == "a\nb\tc"
    assert not has_controls("plain text\nwith lines\tand tabs")


@given(st.text())
def test_same_length_and_no_controls_left(text: str) -> None:
    shown = visible(text)
    assert len(shown) == len(text)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in shown)


def test_json_visible_escapes_what_json_leaves_raw() -> None:
    import json

    data = {"t": "a\x1b[2J\x9b31m\u202eb\x7f"}
    dumped = json_visible(json.dumps(data, ensure_ascii=False))
    assert "\x9b" not in dumped and "\u202e" not in dumped and "\x7f" not in dumped
    assert "\\u009b" in dumped and "\\u202e" in dumped
    assert json.loads(dumped) == data


_CONTROLISH = st.text(alphabet=st.one_of(
    st.characters(max_codepoint=0xA0), st.sampled_from("\u202a\u202e\u2066\u2069\u2070\u2400"),
    st.characters()))


@given(_CONTROLISH, st.booleans(), st.booleans())
def test_fast_path_agrees_with_the_tables(text: str, newlines: bool, tabs: bool) -> None:
    # `visible` and `json_visible` skip the translation when a regex finds nothing to
    # replace: the regexes must match exactly the tables' characters.
    from annotate import sanitize

    table = (sanitize._KEEP_LAYOUT if newlines and tabs else sanitize._KEEP_NEWLINE
             if newlines else sanitize._TABLE)
    assert visible(text, keep_newlines=newlines, keep_tabs=tabs) == text.translate(table)
    assert json_visible(text) == text.translate(sanitize._JSON_ESCAPES)
    assert sanitize.has_controls(text) == (text != text.translate(sanitize._KEEP_LAYOUT))

"""`build_app(state)`: the full-screen prompt-toolkit Application around an EditorState."""

from __future__ import annotations

from typing import Any

from prompt_toolkit.application import Application

from annotate.tui.bindings import build_bindings
from annotate.tui.state import EditorState
from annotate.tui.views import Views, style


def build_app(state: EditorState, *, mouse: bool = False, **kwargs: Any) -> Application[None]:
    """The editor application; `kwargs` go to Application (e.g. input/output in tests)."""
    state.quit_requested = False
    views = Views(state)
    bindings = build_bindings(state, views)
    app: Application[None] = Application(
        layout=views.layout,
        key_bindings=bindings.kb,
        style=style(),
        full_screen=True,
        mouse_support=mouse,
        **kwargs,
    )
    # A lone Esc is common here (clear the selection); do not make it wait long.
    app.ttimeoutlen = 0.05
    app.timeoutlen = 0.4
    return app


def screen_text(app: Application[None], width: int = 80, height: int = 24) -> str:
    """The screen the app would draw at width x height, as plain text (tests, benchmark)."""
    from prompt_toolkit.application.current import set_app
    from prompt_toolkit.layout.mouse_handlers import MouseHandlers
    from prompt_toolkit.layout.screen import Screen, WritePosition

    screen = Screen(initial_width=width)
    with set_app(app):
        app.layout.container.write_to_screen(
            screen, MouseHandlers(), WritePosition(0, 0, width, height),
            parent_style="", erase_bg=False, z_index=None,
        )
        screen.draw_all_floats()
    rows = []
    for y in range(height):
        row = screen.data_buffer[y]
        rows.append("".join(row[x].char for x in range(width)).rstrip())
    return "\n".join(rows)

"""`build_app(state)`: the full-screen prompt-toolkit Application around an EditorState."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from prompt_toolkit.application import Application

from annotate.tui.bindings import build_bindings
from annotate.tui.state import EditorState
from annotate.tui.views import Views, style

# How often the editor looks for others' changes and saves a pending note draft: a change
# made elsewhere shows within a second, and a poll costs one `PRAGMA data_version`.
POLL_S = 0.5


def build_app(
    state: EditorState, *, mouse: bool = False, signals: bool = False, **kwargs: Any
) -> Application[None]:
    """The editor application; `kwargs` go to Application (e.g. input/output in tests).

    While it runs, a background task calls `state.tick()` every POLL_S seconds (others'
    changes are drawn without a keypress; drafts are saved). With `signals`, SIGHUP (the
    terminal closed) and SIGTERM save the note draft and end the session."""
    state.quit_requested = False
    views = Views(state)
    if state.mode == "note":  # a restored draft
        views.load_note()
        views.sync_focus()
    bindings = build_bindings(state, views)
    app: Application[None] = Application(
        layout=views.layout,
        key_bindings=bindings.kb,
        style=style(state),
        full_screen=True,
        mouse_support=mouse,
        **kwargs,
    )
    # A lone Esc is common here (clear the selection); do not make it wait long.
    app.ttimeoutlen = 0.05
    app.timeoutlen = 0.4

    async def watch() -> None:
        while True:
            await asyncio.sleep(POLL_S)
            try:
                changed = state.tick()
            except Exception as e:  # as with keys: a message, never a crash
                state.say(f"error: {type(e).__name__}: {e}", error=True)
                changed = True
            if changed:
                app.invalidate()

    def hang_up() -> None:
        # Keep what was being written first: the terminal may be gone already.
        with contextlib.suppress(Exception):
            state.save_draft(force=True)
        state.quit_requested = True
        if not app.is_done:
            with contextlib.suppress(Exception):
                app.exit()

    def start() -> None:
        app.create_background_task(watch())
        if signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGHUP, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, hang_up)

    app.pre_run_callables.append(start)
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

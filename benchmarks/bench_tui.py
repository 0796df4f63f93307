"""Terminal annotator: key-to-screen time on a ~1 MB document with 10,000 annotations.

A key goes through the real key bindings (prompt-toolkit's key processor), then
prompt-toolkit's renderer draws the screen at 100x30 (layout, document pane, theme pane,
status bar, the diff against the previous screen and its escape sequences) into an in-memory
terminal. Median and 95th percentile per kind of key; the goal is well under 50 ms. The
one-off costs of opening a document (segmentation, wrapping) are shown too.

    .venv/bin/python -m benchmarks.bench_tui
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import joined_text, measure, table

N_ANNOTATIONS = int(os.environ.get("BENCH_TUI_N", "10000"))
TARGET_CHARS = 1_000_000
REPEAT = int(os.environ.get("BENCH_TUI_REPEAT", "200"))
WIDTH, HEIGHT = 100, 30


def main() -> None:
    import io

    from prompt_toolkit.application.current import set_app
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.input import DummyInput
    from prompt_toolkit.key_binding.key_processor import KeyPress
    from prompt_toolkit.keys import Keys
    from prompt_toolkit.output.vt100 import Vt100_Output

    from annotate.corpus import read_document
    from annotate.model import Codebook, Theme
    from annotate.store import Store
    from annotate.tui.app import build_app
    from annotate.tui.state import EditorState

    text, source = joined_text(TARGET_CHARS)
    rng = random.Random(5)
    codebook = Codebook("bench", tuple(Theme(f"t{i}", f"Theme {i}") for i in range(10)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        path.write_text(text, encoding="utf-8")
        doc = read_document(path)
        t0 = time.perf_counter()
        sentences = doc.sentences
        _ = doc.tokens
        segment = time.perf_counter() - t0
        with Store.open(Path(tmp) / "store.sqlite") as store:
            t0 = time.perf_counter()
            for i in range(N_ANNOTATIONS):
                s = rng.choice(sentences)
                if i % 3 == 0:  # a few words inside a sentence
                    a = rng.randrange(s.start, max(s.start + 1, s.end - 10))
                    span = (a, min(s.end, a + rng.randrange(5, 60)))
                else:
                    span = (s.start, s.end)
                store.add(doc, *span, themes=rng.sample(codebook.ids, rng.randint(1, 2)),
                          user="bench", status="suggested" if i % 4 == 0 else "accepted")
            fill = time.perf_counter() - t0
            state = EditorState([doc], store, codebook, "bench")
            terminal = io.StringIO()
            output = Vt100_Output(terminal, lambda: Size(rows=HEIGHT, columns=WIDTH),
                                  term="xterm-256color")
            app = build_app(state, input=DummyInput(), output=output)
            app.timeoutlen = None  # type: ignore[assignment]  # no event loop here to run the Esc-prefix timer

            def draw() -> None:
                with set_app(app):
                    app.renderer.render(app, app.layout)
                terminal.seek(0)
                terminal.truncate()

            def key(*keys: str | Keys) -> Callable[[], None]:
                def press() -> None:
                    with set_app(app):
                        for k in keys:
                            app.key_processor.feed(KeyPress(k))
                        app.key_processor.process_keys()
                    draw()

                return press

            _, first, peak = measure(draw, trace=False)
            state.cursor = len(doc.tokens) // 2
            rows: list[list[object]] = [
                ["segment the document (once, on open)", f"{segment * 1000:.0f}", "", ""],
                ["first draw (wrap to the width, once)", f"{first * 1000:.0f}", "", ""],
            ]
            cases: list[tuple[str, Callable[[], None], Callable[[], None] | None]] = [
                ("move word (l)", key("l"), None),
                ("move line (j)", key("j"), None),
                ("move sentence ())", key(")"), None),
                ("page down", key(Keys.PageDown), None),
                ("extend selection (Shift-→)", key(Keys.ShiftRight), None),
                ("toggle theme on selection (3)", key("3"), key(Keys.Escape, "l", "v", "l")),
                ("toggle theme on sentence (4)", key("4"), None),
                ("next annotation (Tab)", key(Keys.Tab), None),
                ("search next (Ctrl-N)", key(Keys.ControlN), None),
                ("next overlapping annotation (c)", key("c"), None),
                ("annotation list: next row (j)", key("j"), key("L")),
                ("annotation list: theme filter (t)", key("t"), None),
                ("annotation list: go there (Enter, L)", key(Keys.ControlM, "L"), None),
            ]
            state.search_query = "the"
            for name, press, before in cases:
                if before is not None:
                    before()
                times = []
                for _ in range(REPEAT):
                    t = time.perf_counter()
                    press()
                    times.append((time.perf_counter() - t) * 1000)
                    if state.error:
                        raise SystemExit(f"{name}: {state.message}")
                times.sort()
                p95 = times[int(len(times) * 0.95) - 1]
                rows.append([name, f"{statistics.median(times):.2f}", f"{p95:.2f}",
                             "yes" if p95 < 50 else "NO"])
            peak = max(peak, measure(lambda: None, trace=False)[2])
    print(f"document: {len(text):,} characters, {len(doc.tokens):,} words, "
          f"{len(sentences):,} sentences ({source})")
    print(f"store: {N_ANNOTATIONS:,} annotations added in {fill:.1f} s; "
          f"screen {WIDTH}x{HEIGHT}; {REPEAT} keys per row; peak RSS {peak:.0f} MB")
    print(table(["key", "median ms", "p95 ms", "p95 < 50 ms"], rows))


if __name__ == "__main__":
    main()

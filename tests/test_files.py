"""The one reader and writer of user files: regular files only, bounded reads, and never a
device, FIFO or symlink turned into a regular file (these tests may run as root)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from annotate.errors import ExportError, InputError
from annotate.files import ENV_MAX_INPUT, read_input, write_atomic

needs_dev = pytest.mark.skipif(
    not (Path("/dev/null").exists() and Path("/dev/full").exists()),
    reason="needs /dev/null and /dev/full",
)


# --- reading -------------------------------------------------------------------------------


def test_reads_a_regular_file(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"hello")
    assert read_input(f) == b"hello"


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        read_input(tmp_path / "nope.txt")
    assert str(e.value) == f"{tmp_path / 'nope.txt'}: no such file"
    with pytest.raises(InputError) as e:
        read_input(tmp_path)
    assert str(e.value) == f"{tmp_path}: is a directory, not a file"


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    with pytest.raises(InputError) as e:
        read_input(fifo)
    assert str(e.value) == f"{fifo}: not a regular file (it is a named pipe)"
    assert time.monotonic() - t0 < 5  # generous: only "did not hang", not a speed claim


@needs_dev
def test_dev_zero_is_refused_not_read_until_memory_runs_out() -> None:
    with pytest.raises(InputError) as e:
        read_input(Path("/dev/zero"))
    assert str(e.value) == "/dev/zero: not a regular file (it is a character device)"


def test_reading_a_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(InputError, match=r"s\.sock: not a regular file \(it is a socket\)"):
            read_input(path)


def test_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "big.txt"
    f.write_bytes(b"x" * 3000)
    assert read_input(f, limit=3000) == b"x" * 3000
    with pytest.raises(InputError) as e:
        read_input(f, limit=2048)
    assert str(e.value) == f"{f}: too large (0.0 MB; the limit is 0.0 MB)"
    monkeypatch.setenv(ENV_MAX_INPUT, "0.001")  # 1048 bytes
    with pytest.raises(InputError) as e:
        read_input(f)
    assert str(e.value).endswith(f"; set {ENV_MAX_INPUT} to raise it)")
    monkeypatch.setenv(ENV_MAX_INPUT, "lots")
    with pytest.raises(InputError, match="not a number of megabytes"):
        read_input(f)


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_bytes(b"data")
    (tmp_path / "link.txt").symlink_to("real.txt")
    assert read_input(tmp_path / "link.txt") == b"data"


# --- writing a regular file ----------------------------------------------------------------


def test_new_file_and_force(tmp_path: Path) -> None:
    f = tmp_path / "sub" / "out.xml"
    write_atomic(f, b"one")
    assert f.read_bytes() == b"one"
    with pytest.raises(ExportError, match="exists; use --force"):
        write_atomic(f, b"two")
    write_atomic(f, b"two", force=True)
    assert f.read_bytes() == b"two"
    assert [p.name for p in f.parent.iterdir()] == ["out.xml"]  # no temporary left


def test_replacing_keeps_the_mode(tmp_path: Path) -> None:
    f = tmp_path / "out.xml"
    f.write_bytes(b"old")
    f.chmod(0o640)
    write_atomic(f, b"new", force=True)
    assert stat.S_IMODE(f.stat().st_mode) == 0o640


def test_a_symlink_is_followed_and_its_target_replaced(tmp_path: Path) -> None:
    target = tmp_path / "real" / "out.xml"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.xml"
    link.symlink_to(target)
    with pytest.raises(ExportError, match="exists"):
        write_atomic(link, b"new")
    write_atomic(link, b"new", force=True)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    # A dangling link gets its target created.
    dangling = tmp_path / "dangling.xml"
    dangling.symlink_to(tmp_path / "real" / "later.xml")
    write_atomic(dangling, b"made")
    assert dangling.is_symlink() and (tmp_path / "real" / "later.xml").read_bytes() == b"made"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is a directory"):
        write_atomic(tmp_path, b"x", force=True)


# --- writing anything else -----------------------------------------------------------------


@needs_dev
def test_dev_null_stays_a_device() -> None:
    write_atomic(Path("/dev/null"), b"discarded")  # nothing to lose: no --force needed
    write_atomic(Path("/dev/null"), b"discarded", force=True)
    st = os.stat("/dev/null")
    assert stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3)


@needs_dev
def test_dev_full_gives_a_clear_error() -> None:
    with pytest.raises(ExportError) as e:
        write_atomic(Path("/dev/full"), b"x" * 100, force=True)
    assert str(e.value) == "cannot write /dev/full: No space left on device"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_fifo_with_no_reader_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ExportError) as e:
        write_atomic(fifo, b"data", force=True)
    assert str(e.value) == f"{fifo} is a FIFO that no process is reading; nothing written"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_with_a_reader_gets_the_data(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    got: list[bytes] = []
    payload = b"x" * 200_000  # more than a pipe holds: the writer must wait for the reader

    def reader() -> None:
        # Until the writer opens the FIFO a read finds end-of-file: keep polling for the data.
        deadline = time.monotonic() + 30
        while sum(map(len, got)) < len(payload) and time.monotonic() < deadline:
            try:
                chunk = os.read(rfd, 65536)
            except BlockingIOError:
                chunk = b""
            if chunk:
                got.append(chunk)
            else:
                time.sleep(0.005)

    t = threading.Thread(target=reader)
    t.start()
    try:
        write_atomic(fifo, payload, force=True)
    finally:
        t.join(timeout=30)
        os.close(rfd)
    assert b"".join(got) == payload
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_writing_to_a_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(ExportError, match="is a socket"):
            write_atomic(path, b"x", force=True)
    assert stat.S_ISSOCK(os.stat(path).st_mode)


def test_a_symlink_to_a_fifo_writes_into_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    with pytest.raises(ExportError, match="no process is reading"):
        write_atomic(link, b"x", force=True)
    assert link.is_symlink() and stat.S_ISFIFO(os.stat(fifo).st_mode)


_WRITE_STDOUT = (
    "import sys; from pathlib import Path; from annotate.files import write_atomic; "
    "write_atomic(Path(sys.argv[1]), b'exported\\n', force=True)"
)


@pytest.mark.skipif(not Path("/dev/stdout").exists(), reason="needs /dev/stdout")
def test_dev_stdout_into_a_pipe_and_into_a_file(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-c", _WRITE_STDOUT, "/dev/stdout"],
                       capture_output=True, check=True)
    assert r.stdout == b"exported\n"
    assert Path("/dev/stdout").is_symlink()
    out = tmp_path / "log.txt"
    out.write_bytes(b"before\n")
    with out.open("ab") as f:  # `>> log.txt`: appended to, not truncated or replaced
        subprocess.run([sys.executable, "-c", _WRITE_STDOUT, "/dev/stdout"], stdout=f,
                       check=True)
    assert out.read_bytes() == b"before\nexported\n"


# --- every reader goes through read_input (through the CLI) --------------------------------


def _cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from annotate.cli import app

    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.output


@needs_dev
def test_codebook_from_dev_zero_or_a_fifo_is_refused(tmp_path: Path) -> None:
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    code, out = _cli("themes", str(seeds), "--codebook", "/dev/zero")
    assert (code, out) == (1, "Error: /dev/zero: not a regular file (it is a character device)\n")
    fifo = tmp_path / "themes.toml"
    os.mkfifo(fifo)
    code, out = _cli("codebook", "check", str(fifo))
    assert (code, out) == (1, f"Error: {fifo}: not a regular file (it is a named pipe)\n")


def test_a_huge_codebook_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "themes.toml"
    with big.open("wb") as f:
        f.truncate(17 * 2**20)  # sparse: costs no disk
    code, out = _cli("codebook", "check", str(big))
    assert (code, out) == (1, f"Error: {big}: too large (17 MB; the limit is 16 MB)\n")


def test_fifos_in_a_corpus_folder_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("One sentence here. Another one there.\n")
    os.mkfifo(tmp_path / "b.txt")
    code, out = _cli("corpus", str(tmp_path))
    assert (code, out) == (
        1, f"Error: {tmp_path / 'b.txt'}: not a regular file (it is a named pipe)\n"
    )
    code, out = _cli("corpus", str(tmp_path), "--skip-bad", "--json")
    assert code == 0 and "Skipped:" in out
    os.unlink(tmp_path / "b.txt")
    os.mkfifo(tmp_path / "corpus.toml")
    code, out = _cli("corpus", str(tmp_path))
    assert (code, out) == (
        1, f"Error: {tmp_path / 'corpus.toml'}: not a regular file (it is a named pipe)\n"
    )


@needs_dev
def test_codebook_export_to_dev_null_keeps_the_device() -> None:
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    code, out = _cli("codebook", "export", "--codebook", str(seeds / "themes.toml"),
                     "--out", "/dev/null", "--force")
    assert code == 0 and out.startswith("Wrote /dev/null ("), out
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# --- deeply nested TOML --------------------------------------------------------------------


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000, "{a=" * 5000 + "1" + "}" * 5000])
def test_deeply_nested_toml_is_one_line_error(tmp_path: Path, nested: str) -> None:
    (tmp_path / "a.txt").write_text("One sentence here.\n")
    (tmp_path / "corpus.toml").write_text(f"x = {nested}\n")
    code, out = _cli("corpus", str(tmp_path))
    assert (code, out) == (
        1, f"Error: {tmp_path / 'corpus.toml'}: arrays or tables nested too deeply\n"
    )
    book = tmp_path / "themes.toml"
    book.write_text(f"x = {nested}\n")
    code, out = _cli("codebook", "check", str(book))
    assert (code, out) == (1, f"Error: {book}: TOML arrays or tables nested too deeply\n")
    (tmp_path / "corpus.toml").unlink()
    code, out = _cli("themes", str(tmp_path / "a.txt"), "--codebook", str(book))
    assert (code, out) == (1, f"Error: {book}: TOML arrays or tables nested too deeply\n")


def test_a_fifo_codebook_beside_the_corpus_is_reported_not_passed_over(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("One sentence here. Another one there.\n")
    os.mkfifo(tmp_path / "themes.toml")
    code, out = _cli("themes", str(tmp_path))
    assert (code, out) == (
        1, f"Error: {tmp_path / 'themes.toml'}: not a regular file (it is a named pipe)\n"
    )


@needs_dev
def test_codebook_import_refuses_dev_zero_and_fifos(tmp_path: Path) -> None:
    code, out = _cli("codebook", "import", "/dev/zero", "--out", str(tmp_path / "t.toml"))
    assert (code, out) == (1, "Error: /dev/zero: not a regular file (it is a character device)\n")
    fifo = tmp_path / "book.qdc"
    os.mkfifo(fifo)
    code, out = _cli("codebook", "import", str(fifo), "--out", str(tmp_path / "t.toml"))
    assert (code, out) == (1, f"Error: {fifo}: not a regular file (it is a named pipe)\n")
    assert not (tmp_path / "t.toml").exists()

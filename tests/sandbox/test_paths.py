"""Path safety of file transfer: ``..``, absolute paths and escaping symlinks are refused."""

import gc
import os
import threading
import time
import warnings
from pathlib import Path

import pytest

from agentgym.core.errors import SandboxError
from agentgym.sandbox.base import resolve_inside, safe_relative_path
from agentgym.sandbox.local import LocalSandbox, check_local_backend
from agentgym.sandbox.unsafe import UnsafeProcessSandbox

REASON = check_local_backend()


@pytest.fixture(params=["local", "unsafe-process"])
def sandbox(request):
    if request.param == "local":
        if REASON is not None:
            pytest.skip(f"local sandbox unavailable: {REASON}")
        sb = LocalSandbox()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sb = UnsafeProcessSandbox()
    with sb:
        yield sb


@pytest.mark.parametrize("bad", ["", "..", "../x", "a/../../x", "/etc/passwd", "/", "a\x00b"])
def test_safe_relative_path_rejects(bad):
    with pytest.raises(SandboxError):
        safe_relative_path(bad)


def test_resolve_inside_follows_links(tmp_path):
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "up").symlink_to("..")
    (tmp_path / "out").symlink_to("/etc")
    assert resolve_inside(tmp_path, "inner/up/inner") == tmp_path / "inner"
    with pytest.raises(SandboxError, match="outside"):
        resolve_inside(tmp_path, "out/passwd")
    with pytest.raises(SandboxError, match="outside"):
        resolve_inside(tmp_path, "inner/up/inner/up/out/passwd")


def test_files_round_trip(sandbox, tmp_path):
    sandbox.write_file("a/b/c.txt", "hello")
    assert sandbox.read_file("a/b/c.txt") == b"hello"
    assert sandbox.exec(["cat", "a/b/c.txt"]).stdout == "hello"
    assert sandbox.exec(["pwd"], cwd="a/b").stdout.strip().endswith("/a/b")
    sandbox.exec("echo made > a/b/d.txt")  # a file the sandbox wrote is readable and writable back
    sandbox.write_file("a/b/d.txt", b"replaced")
    assert sandbox.exec(["cat", "a/b/d.txt"]).stdout == "replaced"
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "mod.py").write_text("x = 1\n")
    (source / "link").symlink_to("pkg/mod.py")
    sandbox.copy_in(source, "proj")
    sandbox.copy_in(source / "pkg" / "mod.py", "proj")  # into an existing folder
    assert sandbox.exec("cat proj/link && ls proj").stdout == "x = 1\nlink\nmod.py\npkg\n"
    sandbox.exec("echo out > proj/pkg/new.txt")
    sandbox.copy_out("proj", tmp_path / "back")
    assert (tmp_path / "back" / "pkg" / "new.txt").read_text() == "out\n"
    assert (tmp_path / "back" / "link").is_symlink()
    sandbox.copy_out("proj/mod.py", tmp_path / "one.py")
    assert (tmp_path / "one.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", ""])
def test_transfers_reject_traversal(sandbox, tmp_path, bad):
    host_file = tmp_path / "f.txt"
    host_file.write_text("data")
    with pytest.raises(SandboxError):
        sandbox.read_file(bad)
    with pytest.raises(SandboxError):
        sandbox.copy_out(bad, tmp_path / "out")
    with pytest.raises(SandboxError):
        sandbox.copy_in(host_file, bad)
    with pytest.raises(SandboxError):
        sandbox.write_file(bad, "x")
    with pytest.raises(SandboxError):
        sandbox.exec(["true"], cwd=bad if bad else "/")
    assert not (tmp_path / "out").exists()


def test_symlinks_made_inside_cannot_leave(sandbox, tmp_path):
    target = tmp_path / "host-target.txt"
    target.write_text("host secret")
    os.chmod(tmp_path, 0o755)  # so the unprivileged sandbox uid could at least name it
    result = sandbox.exec(
        f"ln -s {target} leak && ln -s / rootlink && ln -s .. up && mkdir d && ln -s {target} d/leak"
    )
    assert result.ok, result.stderr
    for path in ("leak", "rootlink/etc/passwd", "up/x", "d/leak"):
        with pytest.raises(SandboxError, match="outside"):
            sandbox.read_file(path)
    for path in ("leak", "d", "rootlink"):
        with pytest.raises(SandboxError):
            sandbox.copy_out(path, tmp_path / "out")
    for path in ("rootlink/tmp/planted", "up/planted", "leak"):
        with pytest.raises(SandboxError):
            sandbox.copy_in(target, path)
        with pytest.raises(SandboxError):
            sandbox.write_file(path, "planted")
    with pytest.raises(SandboxError):
        sandbox.exec(["true"], cwd="rootlink")
    assert target.read_text() == "host secret" and not Path("/tmp/planted").exists()
    assert not (tmp_path / "out").exists()


def test_special_and_large_files_are_refused(sandbox):
    assert sandbox.exec("mkfifo pipe && head -c 2000 /dev/zero > big").ok
    with pytest.raises(SandboxError, match="not a regular file"):
        sandbox.read_file("pipe")  # must not block waiting for a writer
    with pytest.raises(SandboxError, match="max_bytes"):
        sandbox.read_file("big", max_bytes=1000)
    with pytest.raises(SandboxError):
        sandbox.copy_out(".", "/tmp/never-created-by-agentgym-tests")
    assert len(sandbox.read_file("big")) == 2000


def test_closed_sandbox_refuses_everything(sandbox):
    sandbox.close()
    sandbox.close()  # idempotent
    for call in (
        lambda: sandbox.exec(["true"]),
        lambda: sandbox.read_file("x"),
        lambda: sandbox.write_file("x", "y"),
    ):
        with pytest.raises(SandboxError, match="closed"):
            call()


def test_a_forgotten_sandbox_is_removed_when_collected():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb = UnsafeProcessSandbox()
    sb.write_file("x", "y")
    root = sb.root
    del sb
    gc.collect()
    assert not root.exists()


def test_transfers_wait_until_no_command_runs(sandbox):
    thread = threading.Thread(target=lambda: sandbox.exec("sleep 0.5 && echo done > ran.txt"))
    thread.start()
    deadline = time.monotonic() + 10
    while not sandbox._running and time.monotonic() < deadline:
        time.sleep(0.01)
    sandbox.write_file("x", "y")  # a running command could swap a link in under a path check
    assert (sandbox.workdir / "ran.txt").read_text() == "done\n"  # so the write waited for it
    thread.join()

"""The local (bubblewrap) backend against the issue's Done-when list, plus the unsafe backend."""

import json
import os
import socket
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from agentgym.core.errors import ConfigError, SandboxError
from agentgym.sandbox import local as local_mod
from agentgym.sandbox.base import TRUNCATION_MARKER, Limits
from agentgym.sandbox.factory import available_backends, make_sandbox
from agentgym.sandbox.hostdir import CALLER_GRACE
from agentgym.sandbox.local import LocalSandbox, check_local_backend
from agentgym.sandbox.unsafe import UnsafeProcessSandbox, UnsafeSandboxWarning

REASON = check_local_backend()
needs_bwrap = pytest.mark.skipif(REASON is not None, reason=f"local sandbox unavailable: {REASON}")
pytestmark = pytest.mark.timeout(120)  # a sandbox bug must fail here, not hang the suite


@pytest.fixture
def sandbox():
    with LocalSandbox(Limits(cpu_seconds=20, memory_mb=512, processes=64)) as sb:
        yield sb


def py(code: str) -> list[str]:
    return ["python3", "-c", textwrap.dedent(code)]


def host_pids_with(token: str) -> list[int]:
    """Host processes whose command line contains ``token``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def assert_marker_frozen(path: Path) -> None:
    """The file a would-be survivor keeps appending to stops growing."""
    before = path.stat().st_size if path.exists() else 0
    time.sleep(0.4)
    after = path.stat().st_size if path.exists() else 0
    assert after == before


# A process that escapes its session, ignores SIGTERM/SIGHUP and appends to a marker file forever.
SURVIVOR = """
import os, signal, sys, time
token, marker = sys.argv[1], sys.argv[2]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        while True:
            with open(marker, "a") as f:
                f.write(token + "\\n")
            time.sleep(0.05)
    os._exit(0)
os.wait()
"""


@needs_bwrap
def test_runs_a_command_in_the_work_dir(sandbox):
    result = sandbox.exec(["sh", "-c", "pwd; id -u; echo oops >&2; exit 3"])
    assert result.stdout == "/work\n65534\n" and result.stderr == "oops\n"
    assert result.exit_code == 3 and not result.ok and not result.timed_out and not result.oom
    assert sandbox.exec("echo $((6 * 7))").stdout == "42\n"  # a string runs under /bin/sh -c
    assert sandbox.exec(["python3", "-c", "print('py')"]).stdout == "py\n"


@needs_bwrap
@pytest.mark.slow
def test_fork_bomb_is_capped_and_returns():
    counter = """
    import os, time
    n = 0
    try:
        for _ in range(5000):
            if os.fork() == 0:
                time.sleep(5)
                os._exit(0)
            n += 1
    except OSError:
        pass
    print(n)
    """
    with LocalSandbox(Limits(processes=32)) as sb:
        t0 = time.monotonic()
        result = sb.exec(py(counter), timeout=20)
        assert time.monotonic() - t0 < 10  # the sleeping children die with the call
        assert 0 < int(result.stdout) < 32
        bomb = sb.exec(py("import os\nwhile True:\n    try: os.fork()\n    except OSError: pass"), timeout=2)
        assert bomb.timed_out and bomb.duration < 2 + 4


@needs_bwrap
def test_memory_hog_reports_oom():
    with LocalSandbox(Limits(memory_mb=200)) as sb:
        result = sb.exec(py("chunks = []\nwhile True: chunks.append(bytearray(10 << 20))"), timeout=20)
        assert result.oom and not result.timed_out and result.exit_code != 0
        assert "MemoryError" in result.stderr and result.details["reason"] == "memory"
        assert not sb.exec(py("x = bytearray(50 << 20)")).oom


@needs_bwrap
def test_infinite_loop_times_out_at_the_limit(sandbox):
    result = sandbox.exec(py("while True: pass"), timeout=1)
    assert result.timed_out and not result.oom and 1 <= result.duration < 3
    assert result.details["reason"] == "timeout"


@needs_bwrap
@pytest.mark.slow
def test_caller_enforces_the_limit_when_the_inner_timeout_is_stopped(sandbox):
    result = sandbox.exec(["sh", "-c", "kill -STOP $PPID; while :; do :; done"], timeout=1)
    assert result.timed_out and 1 + CALLER_GRACE <= result.duration < 1 + CALLER_GRACE + 3
    killed = sandbox.exec(["sh", "-c", "kill -KILL $PPID; sleep 100"], timeout=10)
    assert killed.exit_code == 137 and not killed.oom and not killed.timed_out and killed.duration < 5


@needs_bwrap
def test_grandchildren_are_killed_at_the_timeout(sandbox):
    token = f"agentgym-grandchild-{os.getpid()}-{time.monotonic_ns()}"
    sandbox.write_file("survivor.py", SURVIVOR)
    script = f"python3 survivor.py {token} /work/marker & sleep 1000"
    result = sandbox.exec(["sh", "-c", script], timeout=1)
    assert result.timed_out and result.duration < 1 + 4
    assert host_pids_with(token) == []
    assert_marker_frozen(sandbox.workdir / "marker")


@needs_bwrap
def test_double_forked_daemon_is_gone_after_the_call_and_close(sandbox):
    token = f"agentgym-daemon-{os.getpid()}-{time.monotonic_ns()}"
    sandbox.write_file("survivor.py", SURVIVOR)
    result = sandbox.exec(["python3", "survivor.py", token, "/work/marker"], timeout=20)
    assert result.exit_code == 0 and result.duration < 5  # the daemon holds no pipe hostage
    assert host_pids_with(token) == []
    assert_marker_frozen(sandbox.workdir / "marker")
    sandbox.close()
    assert host_pids_with(token) == [] and not sandbox.root.exists()


@needs_bwrap
def test_close_ends_a_running_call():
    sb = LocalSandbox()
    results = []
    thread = threading.Thread(target=lambda: results.append(sb.exec(["sleep", "100"], timeout=60)))
    thread.start()
    deadline = time.monotonic() + 10
    while not sb._running and time.monotonic() < deadline:
        time.sleep(0.01)
    sb.close()
    thread.join(10)
    assert not thread.is_alive() and results and results[0].exit_code != 0


@needs_bwrap
@pytest.mark.slow
def test_a_gigabyte_of_output_is_capped_and_drained_from_both_pipes(sandbox):
    half = 512 << 20
    script = f"head -c {half} /dev/zero | tr '\\0' a & head -c {half} /dev/zero >&2; wait"
    result = sandbox.exec(["sh", "-c", script], timeout=60)
    assert result.exit_code == 0 and result.truncated
    dropped = TRUNCATION_MARKER.format(dropped=half - (1 << 20))
    assert result.stdout == "a" * (1 << 20) + dropped
    assert result.details["stdout_bytes"] == half == result.details["stderr_bytes"]
    with LocalSandbox(Limits(output_bytes=10)) as small:
        capped = small.exec("echo 0123456789abcdef")
        assert capped.stdout.startswith("0123456789") and "7 bytes dropped" in capped.stdout


NET_PROBE = """
import json, socket, sys
port = int(sys.argv[1])
def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as exc:
        return type(exc).__name__
def connect(host, port):
    return lambda: socket.create_connection((host, port), timeout=2).close()
print(json.dumps({
    "host_loopback": attempt(connect("127.0.0.1", port)),
    "metadata": attempt(connect("169.254.169.254", 80)),
    "dns": attempt(lambda: socket.getaddrinfo("example.com", 443)),
}))
"""


@needs_bwrap
def test_network_is_unreachable(sandbox):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        result = sandbox.exec([*py(NET_PROBE), str(port)], timeout=20)
        outcome = json.loads(result.stdout)
        assert "ok" not in outcome.values(), outcome
        # Control: with network allowed the same probe reaches the host's loopback server.
        with LocalSandbox(Limits(network=True)) as open_sb:
            allowed = json.loads(open_sb.exec([*py(NET_PROBE), str(port)], timeout=20).stdout)
        assert allowed["host_loopback"] == "ok"
    interfaces = sandbox.exec(["cat", "/proc/net/dev"]).stdout
    assert "lo:" in interfaces and len(interfaces.strip().splitlines()) == 3  # two headers + lo


@needs_bwrap
def test_host_files_are_invisible(sandbox):
    with tempfile.NamedTemporaryFile(dir="/tmp", prefix="agentgym-host-secret-") as secret:
        paths = [
            "/root",
            "/home",
            "/work/main",
            "/etc/shadow",
            "/var",
            "/opt",
            secret.name,
            str(sandbox.root),
        ]
        code = f"import os, json; print(json.dumps([p for p in {paths!r} if os.path.exists(p)]))"
        assert json.loads(sandbox.exec(py(code)).stdout) == []
    assert "root:x:0" in sandbox.exec(["cat", "/etc/passwd"]).stdout  # the sandbox's own passwd
    pids = sandbox.exec(py("import os; print(sum(p.isdigit() for p in os.listdir('/proc')))"))
    assert int(pids.stdout) < 6  # only the sandbox's processes


@needs_bwrap
def test_system_is_read_only_and_tmp_is_private_and_small(sandbox):
    for path in ("/usr/evil", "/evil", "/etc/evil", "/dev/evil"):
        assert sandbox.exec(["touch", path]).exit_code != 0, path
    assert sandbox.exec("echo x > /tmp/ok && cat /tmp/ok").stdout == "x\n"
    with LocalSandbox(Limits(file_size_mb=2)) as small:
        assert small.exec("head -c 3000000 /dev/zero > /tmp/big").exit_code != 0
        assert small.exec("head -c 3000000 /dev/zero > /work/big").exit_code != 0  # RLIMIT_FSIZE


@needs_bwrap
def test_host_environment_is_not_visible(sandbox, monkeypatch):
    monkeypatch.setenv("AGENTGYM_TEST_SECRET", "hunter2")
    result = sandbox.exec(["env"], env={"GIVEN": "yes"})
    assert "hunter2" not in result.stdout and "AGENTGYM_TEST_SECRET" not in result.stdout
    assert "GIVEN=yes" in result.stdout and "HOME=/work" in result.stdout


@needs_bwrap
def test_rlimits_apply_inside(sandbox):
    names = ["NOFILE", "NPROC", "CPU", "AS", "FSIZE", "CORE"]
    code = f"import resource as r; print([r.getrlimit(getattr(r, 'RLIMIT_' + n))[0] for n in {names!r}])"
    values = json.loads(sandbox.exec(py(code)).stdout)
    assert values == [256, 64, 20, 512 << 20, 256 << 20, 0]


@needs_bwrap
def test_two_sandboxes_never_see_each_other(sandbox):
    with LocalSandbox() as other:
        sandbox.write_file("mine.txt", "A's secret")
        assert other.exec(["ls", "-A", "/work"]).stdout == ""
        assert other.exec(["cat", str(sandbox.workdir / "mine.txt")]).exit_code != 0
        with pytest.raises(SandboxError):
            other.read_file("mine.txt")
        other.exec("echo B > theirs.txt")
        assert sandbox.exec(["ls", "/work"]).stdout == "mine.txt\n"


def test_unknown_backend_suggests_a_name():
    with pytest.raises(ConfigError, match="did you mean 'local'"):
        make_sandbox("locl")


def test_missing_bubblewrap_names_the_package(monkeypatch):
    monkeypatch.setattr(local_mod, "bwrap_path", lambda: None)
    with pytest.raises(SandboxError, match=r"bubblewrap.*apt-get install bubblewrap"):
        make_sandbox("local")
    assert "local" not in available_backends()


def test_unsafe_process_backend_runs_and_warns(monkeypatch):
    monkeypatch.setenv("AGENTGYM_TEST_SECRET", "hunter2")
    with pytest.warns(UnsafeSandboxWarning, match="NO isolation"):
        sb = make_sandbox("unsafe-process", Limits(memory_mb=200))
    with sb:
        assert isinstance(sb, UnsafeProcessSandbox) and "unsafe-process" in available_backends()
        result = sb.exec(["sh", "-c", "pwd; env"])
        assert result.ok and result.stdout.startswith(str(sb.workdir))
        assert "hunter2" not in result.stdout and "NO isolation" in result.details["warning"]
        assert sb.exec(py("while True: pass"), timeout=1).timed_out
        assert sb.exec(py("x = bytearray(1 << 30)")).oom
    assert not sb.root.exists()


@needs_bwrap
def test_extra_read_only_binds():
    # Under /tmp itself: as root, bwrap runs as "nobody", which must be able to reach the path.
    with tempfile.TemporaryDirectory(dir="/tmp") as shared:
        os.chmod(shared, 0o755)
        Path(shared, "data.txt").write_text("shared")
        with LocalSandbox(ro_binds={shared: "/opt/data"}) as sb:
            assert sb.exec(["cat", "/opt/data/data.txt"]).stdout == "shared"
            assert sb.exec(["touch", "/opt/data/new"]).exit_code != 0
        with pytest.raises(SandboxError, match="ro_binds"):
            LocalSandbox(ro_binds={shared: "/work/data"})


@needs_bwrap
def test_a_sandbox_that_cannot_start_raises_and_a_command_cannot_fake_it():
    with tempfile.TemporaryDirectory(dir="/tmp") as shared:
        os.chmod(shared, 0o755)
        sb = LocalSandbox(ro_binds={shared: "/opt/data"})
    with sb, pytest.raises(SandboxError, match=r"could not set up the sandbox.*find source path"):
        sb.exec(["true"])
    with LocalSandbox() as sb:
        faked = sb.exec(["sh", "-c", "echo 'bwrap: cannot find source path' >&2; exit 1"])
        assert faked.exit_code == 1  # a result, not an error
        fds = sb.exec(["ls", "/proc/self/fd"]).stdout.split()
        assert fds == ["0", "1", "2", "3"]  # no status or other host pipe leaks in (3: ls's own)

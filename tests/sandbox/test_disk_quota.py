"""The local sandbox's disk quota: sandboxed code cannot fill the host's disk (issue 22).

Each filling test measures the host's free space (statvfs of the folder the sandbox dir lives
in) before and while the sandbox is full, and allows the host to lose at most the quota plus a
small slack; without a quota these tests write several times the quota to the host.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from agentgym.core.errors import SandboxError
from agentgym.sandbox import local as local_mod
from agentgym.sandbox import quota as quota_mod
from agentgym.sandbox.base import Limits, parse_size_mb
from agentgym.sandbox.capture import CappedBuffer, Captured, to_exec_result
from agentgym.sandbox.local import LocalSandbox, check_local_backend

MIB = 1 << 20
QUOTA_MB = 64
SLACK = 40 * MIB  # other processes share the disk; without a quota the tests write >= 400 MiB
REASON = check_local_backend()
needs_bwrap = pytest.mark.skipif(REASON is not None, reason=f"local sandbox unavailable: {REASON}")
NO_LOOP = pytest.mark.skipif(quota_mod.loop_unavailable() is not None, reason="no loop devices")
NO_TMPFS = pytest.mark.skipif(quota_mod.tmpfs_unavailable() is not None, reason="not root")
MODES = [pytest.param("loop", marks=NO_LOOP), pytest.param("tmpfs", marks=NO_TMPFS)]
pytestmark = needs_bwrap


@pytest.fixture
def tmp_path():
    """A host folder the sandbox's unprivileged host uid can traverse (pytest's own is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="agentgym-quota-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def host_free(path: Path) -> int:
    """Bytes free on the host file system holding ``path``."""
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


def mounted_at(path: Path) -> bool:
    """True when something is mounted at ``path`` (per /proc/self/mountinfo)."""
    return any(line.split()[4] == str(path) for line in Path("/proc/self/mountinfo").read_text().splitlines())


def loop_backed_by(root: Path) -> bool:
    """True while a loop device's backing file lies under ``root``."""
    for backing in Path("/sys/block").glob("loop*/loop/backing_file"):
        try:
            if backing.read_text().startswith(str(root) + "/"):
                return True
        except OSError:
            continue
    return False


@pytest.fixture(params=MODES)
def filled(request, tmp_path):
    """Run a filling command in a quota'd sandbox; returns (result, host bytes lost, sandbox)."""
    opened: list[LocalSandbox] = []

    def run(cmd: str | list[str], *, file_size_mb: int = 4096, timeout: float = 60) -> tuple:
        before = host_free(tmp_path)
        sandbox = LocalSandbox(
            Limits(disk_mb=QUOTA_MB, file_size_mb=file_size_mb), tmp_root=tmp_path, disk_quota=request.param
        )
        opened.append(sandbox)
        result = sandbox.exec(cmd, timeout=timeout)
        return result, before - host_free(tmp_path), sandbox

    yield run
    for sandbox in opened:
        sandbox.close()


def test_many_files_stop_at_the_quota(filled):
    result, lost, sandbox = filled("for i in $(seq 10); do head -c 50000000 /dev/zero > f$i; done; exit 1")
    assert result.disk_full and result.exit_code == 1 and result.details["reason"] == "disk_full"
    assert lost < QUOTA_MB * MIB + SLACK
    assert sandbox.exec("du -sm /work | cut -f1").stdout.strip() <= str(QUOTA_MB)


def test_one_big_file_stops_at_the_quota(filled):
    result, lost, _ = filled("head -c 500000000 /dev/zero > big")
    assert result.disk_full and result.exit_code != 0 and "No space left" in result.stderr
    assert lost < QUOTA_MB * MIB + SLACK


def test_a_command_that_ignores_write_errors_still_reports_a_full_disk(filled):
    result, lost, _ = filled("head -c 500000000 /dev/zero > big 2>/dev/null; exit 0")
    assert result.exit_code == 0 and result.disk_full and result.details["reason"] == "disk_full"
    assert lost < QUOTA_MB * MIB + SLACK


INODE_EATER = """
n = 0
try:
    while n < 1_000_000:
        open(f"f{n}", "w").close()
        n += 1
except OSError as exc:
    print(n, exc.errno)
    raise SystemExit(1)
"""


def test_many_small_files_run_out_of_inodes(filled):
    result, lost, _ = filled(["python3", "-c", INODE_EATER])
    assert len(result.stdout.split()) == 2, result
    created, errno = result.stdout.split()
    assert int(created) < 100_000 and int(errno) == 28  # ENOSPC
    assert result.disk_full and lost < QUOTA_MB * MIB + SLACK


def test_a_sparse_file_cannot_be_filled_past_the_quota(filled):
    cmd = "truncate -s 10G sparse && dd if=/dev/zero of=sparse bs=1M count=400 seek=1000 conv=notrunc"
    result, lost, sandbox = filled(cmd, file_size_mb=16384)
    assert result.disk_full and result.exit_code != 0
    assert lost < QUOTA_MB * MIB + SLACK
    assert sandbox.exec("stat -c %s sparse").stdout.strip() == str(10 << 30)  # apparent size only


def test_fallocate_cannot_reserve_past_the_quota(filled):
    result, lost, sandbox = filled("fallocate -l 10G a || fallocate -l 400M b")
    assert result.exit_code != 0 and result.disk_full
    assert lost < QUOTA_MB * MIB + SLACK
    assert sandbox.exec("rm -f a b && fallocate -l 8M small").ok  # below the quota it works


def test_hard_links_and_copies_of_a_big_file(filled):
    cmd = (
        "head -c 40000000 /dev/zero > big && for i in $(seq 50); do ln big l$i; done"
        " && for i in $(seq 10); do cp big c$i || exit 1; done"
    )
    result, lost, sandbox = filled(cmd)
    assert result.disk_full and result.exit_code != 0
    assert sandbox.exec("ls l50").ok  # hard links cost no space
    assert lost < QUOTA_MB * MIB + SLACK


def test_tmp_and_dev_shm_do_not_reach_the_host_disk(filled):
    cmd = "for d in /tmp /dev/shm; do for i in $(seq 8); do head -c 50000000 /dev/zero > $d/f$i; done; done"
    _, lost, sandbox = filled(cmd, file_size_mb=128)
    assert lost < QUOTA_MB * MIB + SLACK  # sized tmpfs (RAM) per call, never the host's disk
    assert sandbox.exec("ls /tmp /dev/shm").stdout.split() == ["/dev/shm:", "/tmp:"]  # private to each call


@pytest.mark.parametrize("mode", MODES)
def test_tmp_on_an_old_bubblewrap_lives_in_the_quota(mode, tmp_path, monkeypatch):
    options = local_mod.bwrap_options(local_mod.bwrap_path())
    monkeypatch.setattr(local_mod, "bwrap_options", lambda bwrap: options - {"--size"})  # bubblewrap < 0.7
    before = host_free(tmp_path)
    with LocalSandbox(Limits(disk_mb=QUOTA_MB), tmp_root=tmp_path, disk_quota=mode) as sandbox:
        result = sandbox.exec("for i in $(seq 8); do head -c 50000000 /dev/zero > /tmp/f$i; done")
        assert result.disk_full and before - host_free(tmp_path) < QUOTA_MB * MIB + SLACK


@pytest.mark.parametrize("mode", MODES)
def test_copy_in_and_write_file_past_the_quota_fail_clearly(mode, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:
        handle.truncate(400 * MIB)  # sparse on the host: reading it yields 400 MiB of zeros
    before = host_free(tmp_path)
    with LocalSandbox(Limits(disk_mb=QUOTA_MB), tmp_root=tmp_path, disk_quota=mode) as sandbox:
        with pytest.raises(SandboxError, match="No space left"):
            sandbox.copy_in(big, "big.bin")
        assert before - host_free(tmp_path) < QUOTA_MB * MIB + SLACK
        sandbox.exec("rm -f big.bin")
        sandbox.write_file("small.txt", "still works")
        assert sandbox.read_file("small.txt") == b"still works"
        with pytest.raises(SandboxError, match="No space left"):
            sandbox.write_file("huge.bin", bytes(100 * MIB))


@pytest.mark.parametrize("mode", MODES)
def test_close_unmounts_and_deletes_the_disk(mode, tmp_path):
    sandbox = LocalSandbox(Limits(disk_mb=QUOTA_MB), tmp_root=tmp_path, disk_quota=mode)
    disk, root = sandbox.root / "disk", sandbox.root
    assert mounted_at(disk) and sandbox.disk is not None and sandbox.disk.mode == mode
    sandbox.exec("head -c 60000000 /dev/zero > f")
    sandbox.close()
    assert not mounted_at(disk) and not root.exists()
    deadline = time.monotonic() + 30  # the loop device is detached (and its image freed) lazily
    while loop_backed_by(root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not loop_backed_by(root)


OWNER = """
import sys, time
from agentgym.sandbox.base import Limits, parse_size_mb
from agentgym.sandbox.capture import CappedBuffer, Captured, to_exec_result
from agentgym.sandbox.local import LocalSandbox
sandbox = LocalSandbox(Limits(disk_mb=32), tmp_root=sys.argv[1], disk_quota=sys.argv[2])
sandbox.exec("head -c 10000000 /dev/zero > f")
print(sandbox.root, flush=True)
sandbox.exec("sleep 600", timeout=600)
"""


@pytest.mark.parametrize("mode", [*MODES, "off"])
def test_a_killed_owner_leaves_no_disk_behind(mode, tmp_path):
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path), mode], stdout=subprocess.PIPE, text=True
    )
    try:
        root = Path(owner.stdout.readline().strip())
        assert root.is_dir() and (mounted_at(root / "disk") or mode == "off")
        time.sleep(0.5)  # let the second exec start: its sandbox holds the mount too
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    finally:
        owner.kill()
        owner.stdout.close()
    deadline = time.monotonic() + 30
    while (
        root.exists() or mounted_at(root / "disk") or loop_backed_by(root)
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not root.exists() and not mounted_at(root / "disk") and not loop_backed_by(root)


def test_quota_mode_choice_without_root(monkeypatch):
    monkeypatch.setattr(quota_mod.os, "geteuid", lambda: 1000)
    assert quota_mod.choose_mode("auto") == ("off", "mounting needs root")
    assert quota_mod.choose_mode("off") == ("off", None)
    for mode in ("loop", "tmpfs"):
        with pytest.raises(SandboxError, match="needs root"):
            quota_mod.choose_mode(mode)
    with pytest.raises(SandboxError, match="disk_quota must be one of"):
        quota_mod.choose_mode("zfs")


def test_no_quota_mode_still_runs(tmp_path):
    with LocalSandbox(Limits(disk_mb=QUOTA_MB), tmp_root=tmp_path, disk_quota="off") as sandbox:
        assert sandbox.disk is not None and not sandbox.disk.mounted
        result = sandbox.exec("echo hi > f && cat f")
        assert result.stdout == "hi\n" and not result.disk_full


@pytest.mark.parametrize(
    ("text", "mib"),
    [("512M", 512), ("1G", 1024), ("1.5GiB", 1536), ("256", 256), ("2048k", 2), ("1k", 1), (64, 64)],
)
def test_parse_size_mb(text, mib):
    assert parse_size_mb(text) == mib


@pytest.mark.parametrize("bad", ["", "lots", "-1G", "0", "1X", "1 G B"])
def test_parse_size_mb_rejects(bad):
    with pytest.raises(SandboxError, match="invalid size"):
        parse_size_mb(bad)


def _captured(code: int, stderr: bytes) -> Captured:
    err = CappedBuffer(1 << 10)
    err.feed(stderr)
    return Captured(code, CappedBuffer(1 << 10), err, killed_at_deadline=False, duration=0.1)


def test_disk_full_is_reported_from_stderr_or_the_backend():
    nospace = _captured(1, b"OSError: [Errno 28] No space left on device\n")
    assert to_exec_result(nospace, 10).disk_full
    assert not to_exec_result(_captured(1, b"boom\n"), 10).disk_full
    assert not to_exec_result(_captured(0, b"No space left on device\n"), 10).disk_full  # handled
    told = to_exec_result(_captured(0, b""), 10, disk_full=True)
    assert told.disk_full and told.ok and told.details["reason"] == "disk_full"
    xfsz = to_exec_result(_captured(128 + signal.SIGXFSZ, b""), 10)
    assert not xfsz.disk_full and xfsz.details["reason"] == "file_size"
    assert Limits().disk_mb == 1024 and "disk_full" in json.loads(told.to_json())


def test_auto_falls_back_to_no_quota_when_mounting_is_refused(tmp_path, monkeypatch, caplog):
    def refuse(argv, what):
        raise SandboxError(f"{what}: mount: permission denied")

    monkeypatch.setattr(quota_mod, "_run", refuse)
    monkeypatch.setattr(quota_mod, "_warned", set())
    disk = quota_mod.mount_quota(tmp_path / "disk", 16, "auto")
    assert disk.mode == "off" and not disk.mounted and (tmp_path / "disk").is_dir()
    assert "no disk quota" in caplog.text
    with pytest.raises(SandboxError, match="permission denied"):
        quota_mod.mount_quota(tmp_path / "disk2", 16, "tmpfs")

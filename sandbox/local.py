"""The ``local`` backend: each command in a fresh bubblewrap sandbox over a private work dir.

Every :meth:`LocalSandbox.exec` starts ``bwrap`` with all namespaces unshared (no network unless
``Limits.network``), read-only binds of the system dirs, a private writable work dir at
``/work``, a size-capped tmpfs ``/tmp`` and a read-only root. Inside, ``prlimit`` sets the rlimits
and ``timeout -k`` enforces the time limit; the caller kills the bwrap process group as well
``CALLER_GRACE`` seconds later. When the command's main process exits, bwrap's PID 1 goes too
(``--die-with-parent``) and the kernel kills everything left in the PID namespace, so daemons and
grandchildren never outlive the call.

Running as root: RLIMIT_NPROC is not enforced for processes of the host's root user (even when
they appear as another uid inside a user namespace), so a root caller starts ``bwrap`` as an
unprivileged host uid (``host_uid``, default 65534 "nobody") and chowns the sandbox dir to it.
The process count is then kept per user namespace, i.e. per call.

OOM heuristic (no cgroups needed, see :func:`agentgym.sandbox.capture.to_exec_result`): a
command that did not time out and exited non-zero is ``oom`` when its stderr ends with an
allocation failure (``MemoryError``, ``Cannot allocate memory``, ``std::bad_alloc``, ...: how
RLIMIT_AS shows), or when it died by SIGKILL while the kernel's OOM-kill counter grew.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import select
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from agentgym.core.errors import SandboxError
from agentgym.sandbox.base import Limits
from agentgym.sandbox.hostdir import WORKDIR, HostDirSandbox, Launch, find_tool, limit_wrapper
from agentgym.sandbox.quota import DiskQuota, QuotaMode, mount_quota, start_watchdog

log = logging.getLogger(__name__)

SANDBOX_UID = 65534  # the uid (and gid) commands run as inside the sandbox
DISK = "disk"  # root/disk: the quota'd file system holding work/ (and tmp/, shm/ on old bwrap)
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
TOP_LEVEL_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC_ALWAYS = (
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "protocols",
    "services",
)
ETC_NETWORK = ("resolv.conf", "hosts", "nsswitch.conf", "gai.conf", "host.conf", "ssl", "ca-certificates")
MISSING_BWRAP = (
    "the local sandbox backend needs bubblewrap, which is not installed: install the Debian/Ubuntu "
    "package `bubblewrap` (apt-get install bubblewrap). For tests only, the `unsafe-process` "
    "backend runs commands without any isolation."
)


def bwrap_path() -> str | None:
    """Where ``bwrap`` is installed, or None."""
    return shutil.which("bwrap") or find_tool("bwrap")


def host_identity(host_uid: int = SANDBOX_UID, host_gid: int | None = None) -> tuple[int, int] | None:
    """The unprivileged (uid, gid) to start bwrap as when running as root; None otherwise."""
    if os.geteuid() != 0:
        return None
    return host_uid, host_gid if host_gid is not None else host_uid


@functools.lru_cache(maxsize=8)
def bwrap_options(bwrap: str) -> frozenset[str]:
    """The options this ``bwrap`` knows, read from its ``--help``.

    ``--size`` and ``--disable-userns`` came with bubblewrap 0.7 and 0.8; :func:`bwrap_argv` does
    without them on older ones.
    """
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(word for word in text.split() if word.startswith("--"))


@functools.lru_cache(maxsize=8)
def _probe(bwrap: str, identity: tuple[int, int] | None) -> str | None:
    """Try one trivial sandbox; None if it works, else why not (cached per process)."""
    argv = [bwrap, "--unshare-user", "--unshare-all", "--die-with-parent"]
    argv += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--ro-bind", "/", "/", "true"]
    kwargs: dict[str, Any] = {}
    if identity is not None:
        kwargs.update(user=identity[0], group=identity[1], extra_groups=[])
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd="/", **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not be started: {exc}"
    if proc.returncode == 0:
        return None
    return (
        f"bubblewrap cannot create a sandbox here ({proc.stderr.strip() or proc.returncode}): "
        "unprivileged user namespaces must be allowed (sysctl kernel.unprivileged_userns_clone=1; "
        "on Ubuntu >= 23.10 also kernel.apparmor_restrict_unprivileged_userns=0; inside Docker, "
        "a seccomp profile that permits unshare)"
    )


def check_local_backend(host_uid: int = SANDBOX_UID) -> str | None:
    """None when the local backend works on this machine, else a one-line explanation."""
    bwrap = bwrap_path()
    if bwrap is None:
        return MISSING_BWRAP
    for tool, package in (("prlimit", "util-linux"), ("timeout", "coreutils")):
        if find_tool(tool) is None:
            return f"the local sandbox backend needs `{tool}` under /usr/bin (Debian package {package})"
    return _probe(bwrap, host_identity(host_uid))


def bwrap_argv(
    bwrap: str,
    root: Path,
    limits: Limits,
    command: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str],
    cwd: str = WORKDIR,
    ro_binds: Mapping[str, str] | None = None,
) -> list[str]:
    """The full ``bwrap`` command line for ``command`` in the sandbox rooted at host dir ``root``."""
    known = bwrap_options(bwrap)
    argv = [bwrap, "--unshare-user", "--unshare-all"]
    if "--disable-userns" in known:  # no nested user namespaces: less kernel to attack
        argv.append("--disable-userns")
    if limits.network:
        argv.append("--share-net")
    argv += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
    argv += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--ro-bind", "/usr", "/usr"]
    for name in TOP_LEVEL_LINKS:
        host = Path("/", name)
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), f"/{name}"]
    for name in ETC_ALWAYS + (ETC_NETWORK if limits.network else ()):
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for python_etc in sorted(Path("/etc").glob("python3*")):
        argv += ["--ro-bind-try", str(python_etc), str(python_etc)]
    for name in ("passwd", "group") + (() if limits.network else ("hosts",)):
        argv += ["--ro-bind", str(root / "etc" / name), f"/etc/{name}"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    for inside, spare in (("/dev/shm", "shm"), ("/tmp", "tmp")):
        if "--size" in known:  # tmpfs is RAM: never unsized
            argv += ["--size", str(limits.file_size_mb << 20), "--tmpfs", inside]
        else:  # bubblewrap < 0.7: a private host dir on disk instead
            argv += ["--bind", str(root / DISK / spare), inside]
        if inside == "/dev/shm":
            argv += ["--remount-ro", "/dev"]
    argv += ["--bind", str(root / DISK / "work"), WORKDIR]
    for host_path, inside in (ro_binds or {}).items():
        argv += ["--ro-bind", str(host_path), inside]
    argv += ["--remount-ro", "/", "--chdir", cwd, "--clearenv"]
    base_env = {"PATH": BASE_PATH, "HOME": WORKDIR, "LANG": "C.UTF-8", "TMPDIR": "/tmp", "USER": "sandbox"}
    for key, value in {**base_env, **env}.items():
        argv += ["--setenv", key, value]
    return [*argv, "--", *limit_wrapper(limits, timeout), *command]


class LocalSandbox(HostDirSandbox):
    """Commands in bubblewrap sandboxes sharing one private work dir (``/work`` inside).

    Options: ``host_uid`` / ``host_gid`` (the unprivileged host identity bwrap runs as when the
    caller is root; default 65534), ``tmp_root`` (host folder for the sandbox dirs), ``ro_binds``
    (extra host paths bound read-only, ``{host_path: path_inside}``; when the caller is root the
    host paths must be reachable by ``host_uid``, or bwrap fails with "Permission denied"),
    ``disk_quota`` (how ``Limits.disk_mb`` is enforced: ``auto``, ``loop``, ``tmpfs`` or ``off``;
    see :mod:`agentgym.sandbox.quota`). The work dir is a file system of its own, so sandboxed
    code cannot fill the host's disk; a cleanup watchdog deletes it even if the owner is killed.
    """

    backend = "local"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        host_uid: int = SANDBOX_UID,
        host_gid: int | None = None,
        tmp_root: str | Path | None = None,
        ro_binds: Mapping[str, str] | None = None,
        disk_quota: QuotaMode = "auto",
    ) -> None:
        reason = check_local_backend(host_uid)
        if reason is not None:
            raise SandboxError(reason)
        self._bwrap = bwrap_path() or "bwrap"
        self._ro_binds = dict(ro_binds or {})
        for host_path, inside in self._ro_binds.items():
            where = PurePosixPath(inside)
            if not Path(host_path).exists() or not where.is_absolute() or where.parts[:2] == ("/", "work"):
                raise SandboxError(
                    f"ro_binds: {host_path!r} must exist, {inside!r} be absolute, not in /work"
                )
        self._disk_mode = disk_quota
        self.disk: DiskQuota | None = None
        super().__init__(limits, owner=host_identity(host_uid, host_gid), tmp_root=tmp_root)
        self._write_etc()

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when bubblewrap works here, else why not (names the Debian package if missing)."""
        return check_local_backend()

    def _make_workdir(self) -> Path:
        """Mount the quota'd disk at ``root/disk`` (watchdog first), with work/, tmp/ and shm/ in it."""
        disk = self.root / DISK
        watchdog = start_watchdog(disk, self.root)
        self._release_hooks.append(watchdog.stop)
        self.disk = mount_quota(disk, self.limits.disk_mb, self._disk_mode)
        self._release_hooks.insert(0, self.disk.release)
        for name in ("work", "tmp", "shm"):  # tmp, shm: /tmp and /dev/shm where bwrap cannot size a tmpfs
            (disk / name).mkdir(mode=0o755 if name == "work" else 0o700)
            self._give(disk / name)
        return disk / "work"

    def _disk_full(self) -> bool | None:
        """Whether the quota'd disk is full now (None without a quota)."""
        return self.disk.is_full() if self.disk is not None and self.disk.mounted else None

    def _write_etc(self) -> None:
        """The sandbox's own passwd, group and hosts (the host's are not shown)."""
        etc = self.root / "etc"
        etc.mkdir(mode=0o755)
        uid = SANDBOX_UID
        files = {
            "passwd": (
                f"root:x:0:0::/nonexistent:/usr/sbin/nologin\nsandbox:x:{uid}:{uid}::{WORKDIR}:/bin/sh\n"
            ),
            "group": f"root:x:0:\nsandbox:x:{uid}:\n",
            "hosts": "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n",
        }
        for name, text in files.items():
            (etc / name).write_text(text)
            (etc / name).chmod(0o644)

    def _command(self, argv: list[str], timeout: float, env: Mapping[str, str], cwd: PurePosixPath) -> Launch:
        """Bwrap around ``prlimit -- timeout -k 1 T argv``, run as the unprivileged host uid.

        bwrap reports on a status pipe its PID 1 and, once the command has ended, its exit code.
        The call then waits for that PID 1 to be gone, which the kernel allows only after every
        process of the sandbox; no exit code means bwrap itself failed (a bind, a namespace).
        """
        inside_cwd = str(PurePosixPath(WORKDIR, cwd))
        full = bwrap_argv(
            self._bwrap,
            self.root,
            self.limits,
            argv,
            timeout=timeout,
            env=env,
            cwd=inside_cwd,
            ro_binds=self._ro_binds,
        )
        status_read, status_write = os.pipe()
        full[1:1] = ["--json-status-fd", str(status_write)]
        popen: dict[str, Any] = {"cwd": str(self.root), "pass_fds": (status_write,)}
        if self.owner is not None:
            popen.update(user=self.owner[0], group=self.owner[1], extra_groups=[])

        def finished(proc: subprocess.Popen[bytes] | None) -> str | None:
            try:
                status = read_status(status_read)
            finally:
                os.close(status_read)
            if isinstance(status.get("child-pid"), int):
                wait_for_exit(status["child-pid"])
            if proc is not None and proc.returncode == 1 and "exit-code" not in status:
                return "bubblewrap could not set up the sandbox"
            return None

        return Launch(full, popen, started=lambda: os.close(status_write), finished=finished)


def read_status(fd: int) -> dict[str, Any]:
    """The JSON records bwrap wrote on its ``--json-status-fd`` (one per line), merged."""
    os.set_blocking(fd, False)
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 1 << 16):
            data += chunk
    status: dict[str, Any] = {}
    for line in data.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                status.update(record)
    return status


def wait_for_exit(pid: int, timeout: float = 10.0) -> None:
    """Wait until process ``pid`` (the sandbox's PID 1, so every process in it) has exited."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return  # already gone (or no pidfd here: the pipes' end of file was the best we had)
    try:
        if not select.select([pidfd], [], [], timeout)[0]:
            log.warning("sandbox PID 1 (pid %d) still runs %.0f s after the command ended", pid, timeout)
    finally:
        os.close(pidfd)

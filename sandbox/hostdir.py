"""What the process backends share: a private host dir, confined file transfer, exec plumbing.

:class:`HostDirSandbox` keeps the work dir at ``root/work`` on the host, validates exec arguments,
runs the command line a subclass builds with output drained and capped
(:mod:`agentgym.sandbox.capture`), kills the process tree at the deadline, and confines every
file transfer to the work dir. :func:`limit_wrapper` is the ``prlimit ... -- timeout -k`` prefix
that applies the rlimits and the time limit inside the sandbox.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import weakref
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from agentgym.core.errors import SandboxError
from agentgym.sandbox.base import DEFAULT_OUTPUT_CAP, ExecResult, Limits, Sandbox, resolve_inside
from agentgym.sandbox.capture import drain_process, oom_kill_count, to_exec_result

log = logging.getLogger(__name__)

WORKDIR = "/work"  # the work dir as commands see it (the local backend binds it there)
CALLER_GRACE = 2.0  # seconds past the timeout before the caller kills the process group
KILL_AFTER = 1.0  # seconds between SIGTERM and SIGKILL of the in-sandbox ``timeout``
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def find_tool(name: str) -> str | None:
    """The absolute path of a system tool that is also visible inside the sandbox (under /usr)."""
    for folder in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        path = Path(folder, name)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None


def limit_wrapper(limits: Limits, timeout: float) -> list[str]:
    """``prlimit ... -- timeout -k 1 T``: the rlimits and the time limit, applied inside."""
    mib = 1 << 20
    cpu = limits.cpu_seconds
    return [
        find_tool("prlimit") or "prlimit",
        f"--cpu={cpu}:{cpu + 1}",
        f"--as={limits.memory_mb * mib}",
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_size_mb * mib}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
        find_tool("timeout") or "timeout",
        "-k",
        f"{KILL_AFTER:g}",
        f"{max(timeout, 0.001):.3f}",  # "0.000" would mean no limit at all
    ]


@dataclass
class Launch:
    """How to start one command: the host argv, extra ``Popen`` arguments, and two hooks."""

    argv: list[str]
    popen: dict[str, Any] = field(default_factory=dict)
    started: Callable[[], None] = lambda: None  # in the caller, right after the start (or its failure)
    # Once the command has ended (with None when it could not be started); returns why the
    # sandbox itself failed to start the command, if it did (the call then raises SandboxError).
    finished: Callable[[subprocess.Popen[bytes] | None], str | None] = lambda proc: None


class HostDirSandbox(Sandbox):
    """Shared machinery of the process backends: a private host dir, file transfer, exec plumbing.

    The work dir is ``root/work`` on the host. Subclasses build the command line (:meth:`_command`);
    this class validates arguments, runs it with output drained and capped, kills the tree at the
    deadline, and confines every file transfer to the work dir. File transfers wait until no
    command runs, so no sandboxed process can swap a link in between a path check and its use.
    """

    workdir_inside: str = WORKDIR  # the work dir's path as commands see it

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        owner: tuple[int, int] | None = None,
        tmp_root: str | Path | None = None,
    ) -> None:
        super().__init__(limits)
        self.owner = owner
        self.root = Path(tempfile.mkdtemp(prefix=f"agentgym-{self.backend}-", dir=tmp_root)).resolve()
        self._give(self.root)
        # Run in order before the host dir is deleted (unmount, stop a watchdog); they must not
        # hold a reference to ``self``, or the finalizer would never run.
        self._release_hooks: list[Callable[[], None]] = []
        self._cleanup = weakref.finalize(self, remove_tree, self.root, self._release_hooks)
        try:
            self.workdir = self._make_workdir()
        except BaseException:
            self._cleanup()
            raise
        self._idle = threading.Condition()  # notified whenever a command ends
        self._running: set[subprocess.Popen[bytes]] = set()

    def _make_workdir(self) -> Path:
        """Create the work dir on the host (``root/work``; backends may mount a quota there)."""
        workdir = self.root / "work"
        workdir.mkdir(mode=0o755)
        self._give(workdir)
        return workdir

    def _disk_full(self) -> bool | None:
        """Whether the work dir's file system is full now (None: the backend cannot tell)."""
        return None

    def _give(self, *paths: Path) -> None:
        """Hand ``paths`` to the sandbox's host identity (when running as root)."""
        if self.owner is not None:
            for path in paths:
                os.lchown(path, *self.owner)

    def _give_tree(self, top: Path) -> None:
        """:meth:`_give` for ``top`` and everything below it."""
        self._give(top)
        if top.is_dir() and not top.is_symlink():
            for folder, dirs, files in os.walk(top):
                self._give(*(Path(folder, name) for name in dirs + files))

    @abstractmethod
    def _command(self, argv: list[str], timeout: float, env: Mapping[str, str], cwd: PurePosixPath) -> Launch:
        """How to run ``argv`` in the sandbox (``cwd`` is relative to the work dir)."""

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Hold off new commands, once none runs: for file transfers."""
        with self._idle:
            self._idle.wait_for(lambda: not self._running)
            self._check_open()
            yield

    def exec(
        self,
        cmd: Sequence[str] | str,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> ExecResult:
        """Run ``cmd`` in the work dir (or ``cwd``, relative to it) under the sandbox's limits."""
        self._check_open()
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else [str(part) for part in cmd]
        if not argv or any("\x00" in part for part in argv):
            raise SandboxError(f"invalid command {cmd!r}")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout < 1e6:
            raise SandboxError(f"timeout must be a positive number of seconds, got {timeout!r}")
        env = dict(env or {})
        for key, value in env.items():
            if not ENV_NAME.match(key) or "\x00" in str(value):
                raise SandboxError(f"invalid environment variable {key!r}")
        with self._idle:
            self._check_open()
            launch = self._command(argv, float(timeout), env, self._inside_cwd(cwd))
            oom_kills = oom_kill_count()
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    launch.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                    **launch.popen,
                )
            except OSError as exc:
                launch.started()
                launch.finished(None)
                raise SandboxError(f"could not start {launch.argv[0]!r}: {exc}") from exc
            launch.started()
            self._running.add(proc)
        try:
            captured = drain_process(
                proc,
                cap=self.limits.output_bytes,
                timeout=timeout + CALLER_GRACE,
                kill=functools.partial(kill_group, proc),
                started=started,
            )
            failure = launch.finished(proc)
        finally:
            with self._idle:
                self._running.discard(proc)
                self._idle.notify_all()
        if failure is not None:
            raise SandboxError(f"{failure}: {captured.stderr.text().strip()[:2000]}")
        after = oom_kill_count() if oom_kills is not None else None
        oom_killed = None if after is None or oom_kills is None else after > oom_kills
        full = self._disk_full()
        return to_exec_result(
            captured, float(timeout), kernel_oom_kill=oom_killed, backend=self.backend, disk_full=full
        )

    def _inside_cwd(self, cwd: str | None) -> PurePosixPath:
        """``cwd`` as an existing folder relative to the work dir (absolute only under it)."""
        if cwd is None:
            return PurePosixPath(".")
        if cwd.startswith("/"):
            inside, top = PurePosixPath(cwd), PurePosixPath(self.workdir_inside)
            if inside != top and top not in inside.parents:
                raise SandboxError(f"cwd must be inside {top}, got {cwd!r}")
            cwd = str(inside.relative_to(top))
        target = resolve_inside(self.workdir, cwd)
        if not target.is_dir():
            raise SandboxError(f"cwd {cwd!r} is not a folder of the work dir")
        return PurePosixPath(target.relative_to(self.workdir).as_posix())

    def write_file(self, path: str, data: bytes | str) -> None:
        """Create or replace ``path`` (relative to the work dir); parent folders are created."""
        with self._quiet(), _transfer_errors("write_file", path):
            target = resolve_inside(self.workdir, path)
            self._make_parents(target)
            target.write_bytes(data.encode("utf-8") if isinstance(data, str) else bytes(data))
            self._give(target)

    def read_file(self, path: str, max_bytes: int = DEFAULT_OUTPUT_CAP) -> bytes:
        """The bytes of a regular file of the work dir, at most ``max_bytes``."""
        with self._quiet(), _transfer_errors("read_file", path):
            target = resolve_inside(self.workdir, path)
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a FIFO must not block
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise SandboxError(f"{path!r} is not a regular file")
                if info.st_size > max_bytes:
                    raise SandboxError(f"{path!r} has {info.st_size} bytes, more than max_bytes={max_bytes}")
                return handle.read(max_bytes + 1)[:max_bytes]

    def copy_in(self, src: str | Path, dest: str) -> None:
        """Copy the host file or folder ``src`` to ``dest`` in the work dir (into it if a folder)."""
        with self._quiet(), _transfer_errors("copy_in", dest):
            source = Path(src)
            if not source.exists():
                raise SandboxError(f"copy_in: {str(source)!r} does not exist")
            target = resolve_inside(self.workdir, dest)
            self._make_parents(target)
            if source.is_dir():
                shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
            else:
                if target.is_dir():
                    target = resolve_inside(self.workdir, PurePosixPath(dest, source.name))
                shutil.copy2(source, target)
            self._give_tree(target)

    def copy_out(self, src: str, dest: str | Path) -> None:
        """Copy a file or folder of the work dir to the host path ``dest``.

        Links that leave the work dir and special files (FIFOs, sockets) are refused.
        """
        with self._quiet(), _transfer_errors("copy_out", src):
            source = resolve_inside(self.workdir, src)
            if source.is_dir():
                for folder, dirs, files in os.walk(source):
                    for name in dirs + files:
                        entry = Path(folder, name)
                        relative = entry.relative_to(self.workdir).as_posix()
                        if entry.is_symlink():
                            resolve_inside(self.workdir, relative)
                        elif not (entry.is_dir() or entry.is_file()):
                            raise SandboxError(f"copy_out: {relative!r} is not a regular file or folder")
                shutil.copytree(source, dest, symlinks=True, dirs_exist_ok=True)
            elif source.is_file():
                shutil.copy2(source, dest)
            else:
                raise SandboxError(f"copy_out: {src!r} is missing or not a regular file or folder")

    def _make_parents(self, target: Path) -> None:
        """Create the missing folders above ``target`` (already checked to be inside)."""
        missing = [p for p in target.parents if self.workdir in p.parents and not p.exists()]
        for folder in reversed(missing):
            folder.mkdir()
            self._give(folder)

    def _check_open(self) -> None:
        """Raise SandboxError once the sandbox is closed."""
        if self._closed:
            raise SandboxError("the sandbox is closed")

    def close(self) -> None:
        """Kill whatever still runs and delete the sandbox's host dir (idempotent)."""
        if self._closed:
            return
        with self._idle:
            self._closed = True
            for proc in self._running:
                kill_group(proc)
            self._idle.wait_for(lambda: not self._running, timeout=CALLER_GRACE + 5)
        self._cleanup()


@contextlib.contextmanager
def _transfer_errors(what: str, path: str) -> Iterator[None]:
    """Turn OS errors of a file transfer into SandboxError naming the call and the path."""
    try:
        yield
    except (OSError, shutil.Error) as exc:
        raise SandboxError(f"{what} {path!r}: {exc}") from exc


def kill_group(proc: subprocess.Popen[bytes], *, even_if_reaped: bool = False) -> None:
    """SIGKILL ``proc``'s process group (it leads one: started with ``start_new_session``).

    Once ``proc`` is reaped its pid could in principle be reused, so a reaped leader's group is
    only killed when asked (the unsafe backend, right after the leader exits).
    """
    if proc.returncode is None or even_if_reaped:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def remove_tree(root: Path, release_hooks: Sequence[Callable[[], None]] = ()) -> None:
    """Run ``release_hooks``, then delete ``root`` even where sandboxed code removed permissions."""
    for hook in release_hooks:
        try:
            hook()
        except Exception:  # one failed release must not keep the others from running
            log.exception("releasing the sandbox dir %s failed", root)
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            path = Path(folder, name)
            if not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.chmod(0o700)
    shutil.rmtree(root, ignore_errors=True)
    if root.exists():
        log.warning("could not delete the sandbox dir %s", root)

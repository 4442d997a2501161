"""The ``unsafe-process`` backend: plain subprocesses in a temp dir. FOR TESTS ONLY.

It isolates NOTHING: commands see the host's files, network and processes, run as the caller's
user, and a daemon that calls ``setsid`` survives the call. What it does share with the real
backends: a private work dir (as the current directory, not a chroot), a clean environment, the
rlimits and the time limit applied through ``prlimit ... -- timeout -k`` (so RLIMIT_NPROC is
ignored when the caller is root), output capping, the process group killed at the end of every
call, and confined file transfer. Creating one warns (:class:`UnsafeSandboxWarning`) and logs an
error-level message, and every :class:`ExecResult` says so in ``details["warning"]``.
"""

from __future__ import annotations

import logging
import subprocess
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from agentgym.core.errors import SandboxError
from agentgym.sandbox.base import ExecResult, Limits
from agentgym.sandbox.hostdir import HostDirSandbox, Launch, find_tool, kill_group, limit_wrapper

log = logging.getLogger(__name__)

UNSAFE_MESSAGE = (
    "the unsafe-process sandbox backend provides NO isolation (host files, network and processes "
    "are all reachable); it exists for tests only. Use the local (bubblewrap) or docker backend "
    "for untrusted code."
)
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


class UnsafeSandboxWarning(UserWarning):
    """Warned whenever an ``unsafe-process`` sandbox is created."""


class UnsafeProcessSandbox(HostDirSandbox):
    """Plain subprocesses in a private temp dir, with rlimits and timeouts but NO isolation.

    For tests only. Options: ``tmp_root`` (host folder for the sandbox dirs).
    """

    backend = "unsafe-process"

    def __init__(self, limits: Limits | None = None, *, tmp_root: str | Path | None = None) -> None:
        reason = self.unavailable_reason()
        if reason is not None:
            raise SandboxError(reason)
        warnings.warn(UNSAFE_MESSAGE, UnsafeSandboxWarning, stacklevel=2)
        log.error("%s", UNSAFE_MESSAGE)
        super().__init__(limits, tmp_root=tmp_root)
        self.workdir_inside = str(self.workdir)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when ``prlimit`` and ``timeout`` are installed, else which package is missing."""
        for tool, package in (("prlimit", "util-linux"), ("timeout", "coreutils")):
            if find_tool(tool) is None:
                return f"the unsafe-process backend needs `{tool}` (Debian package {package})"
        return None

    def _command(self, argv: list[str], timeout: float, env: Mapping[str, str], cwd: PurePosixPath) -> Launch:
        """``prlimit ... -- timeout -k 1 T argv`` in the work dir, with a clean environment.

        Once the command has ended, what is left of its process group is killed (daemons that
        called ``setsid`` escape this: there is no PID namespace here).
        """
        base_env = {"PATH": BASE_PATH, "HOME": str(self.workdir), "LANG": "C.UTF-8", "TMPDIR": "/tmp"}
        popen = {"cwd": str(self.workdir / cwd), "env": {**base_env, **env}}
        return Launch([*limit_wrapper(self.limits, timeout), *argv], popen, finished=_kill_leftovers)

    def exec(
        self,
        cmd: Sequence[str] | str,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> ExecResult:
        """Run ``cmd`` as a plain subprocess (NO isolation); the result carries a warning."""
        result = super().exec(cmd, timeout=timeout, env=env, cwd=cwd)
        return replace(result, details={**result.details, "warning": UNSAFE_MESSAGE})


def _kill_leftovers(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL what is left of a finished command's process group (never a sandbox failure)."""
    if proc is not None:
        kill_group(proc, even_if_reaped=True)
    return None

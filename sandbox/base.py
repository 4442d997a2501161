"""The sandbox contract: run untrusted commands with no network, hard limits and a private work dir.

``with make_sandbox("local") as sb: result = sb.exec(["python3", "-c", "print(1)"], timeout=10)``.
Backends: ``local`` (bubblewrap, the default), ``docker`` (a Docker engine), ``unsafe-process``
(plain subprocess, tests only; it isolates nothing and says so). Every backend caps output,
enforces the time limit inside the sandbox as well as from the caller, kills the whole process
tree at the end of a call and on close, and confines file transfer to the work dir.
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from agentgym.core.errors import SandboxError

DEFAULT_OUTPUT_CAP = 1 << 20  # bytes per stream
TRUNCATION_MARKER = "\n[... output truncated by the sandbox: {dropped} bytes dropped ...]\n"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox (applied to every command in it)."""

    cpu_seconds: int = 60
    memory_mb: int = 1024
    processes: int = 256
    file_size_mb: int = 256
    disk_mb: int = 1024  # the work dir's quota (local: loop-mounted ext4 or tmpfs; docker: tmpfs)
    open_files: int = 256
    output_bytes: int = DEFAULT_OUTPUT_CAP
    network: bool = False

    def validate(self) -> None:
        """Raise SandboxError naming the first invalid field."""
        for name, value in asdict(self).items():
            if name != "network" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise SandboxError(f"Limits.{name} must be a positive int, got {value!r}")


@dataclass(frozen=True)
class ExecResult:
    """The outcome of one command: exit code, captured (capped) output, and why it ended."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    oom: bool = False
    duration: float = 0.0
    truncated: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    disk_full: bool = False  # a write failed for want of space, or the work dir was full at the end

    @property
    def ok(self) -> bool:
        """True when the command exited 0 within its time and memory limits.

        ``disk_full`` does not change it: the disk may have filled up (and stayed full) without
        the command failing; callers that care read the field.
        """
        return self.exit_code == 0 and not self.timed_out and not self.oom

    def to_json(self) -> str:
        """The result as a JSON object (what ``agentgym sandbox exec`` prints)."""
        return json.dumps(asdict(self), ensure_ascii=False)


SIZE_PATTERN = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*\Z", re.IGNORECASE)
SIZE_SHIFT = {"k": 10, "": 20, "m": 20, "g": 30, "t": 40}


def parse_size_mb(text: str | int) -> int:
    """A size such as ``512M``, ``1G``, ``1.5GiB`` or ``256`` (MiB) in whole MiB, rounded up."""
    if isinstance(text, int) and not isinstance(text, bool):
        mib = text
    else:
        match = SIZE_PATTERN.match(str(text))
        if match is None:
            raise SandboxError(f"invalid size {text!r}: expected a number with K, M, G or T (e.g. 512M, 1G)")
        number, unit = float(match.group(1)), match.group(2).lower()
        mib = math.ceil(number * (1 << SIZE_SHIFT[unit]) / (1 << 20))
    if mib < 1:
        raise SandboxError(f"invalid size {text!r}: must be at least 1 MiB")
    return mib


def safe_relative_path(path: str | PurePosixPath) -> PurePosixPath:
    """Validate a path inside the work dir: relative, no ``..``, no empty or NUL parts.

    Symlinks are checked by the backends against the real file system (a relative path can still
    point outside through a link).
    """
    text = str(path)
    if not text or "\x00" in text:
        raise SandboxError(f"invalid sandbox path {text!r}")
    pure = PurePosixPath(text)
    if pure.is_absolute():
        raise SandboxError(f"sandbox paths must be relative to the work dir, got {text!r}")
    if any(part == ".." for part in pure.parts):
        raise SandboxError(f"sandbox paths must not contain '..', got {text!r}")
    return pure


def resolve_inside(root: Path, path: str | PurePosixPath) -> Path:
    """``root / path`` after resolving symlinks; raise SandboxError if it leaves ``root``."""
    rel = safe_relative_path(path)
    root = root.resolve()
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        raise SandboxError(f"{str(rel)!r} resolves outside the work dir (a symlink?)")
    return target


class Sandbox(ABC):
    """One isolated environment with a private work dir; a context manager.

    Subclasses implement :meth:`exec`, the file transfer methods and :meth:`close`.
    """

    backend: str = "abstract"

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.limits.validate()
        self._closed = False

    @abstractmethod
    def exec(
        self,
        cmd: Sequence[str] | str,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> ExecResult:
        """Run ``cmd`` (argv list, or a string run by ``/bin/sh -c``) in the work dir (or ``cwd`` in it)."""

    @abstractmethod
    def write_file(self, path: str, data: bytes | str) -> None:
        """Create or replace a file in the work dir."""

    @abstractmethod
    def read_file(self, path: str, max_bytes: int = DEFAULT_OUTPUT_CAP) -> bytes:
        """Read a file of the work dir (at most ``max_bytes``; larger files raise SandboxError)."""

    @abstractmethod
    def copy_in(self, src: str | Path, dest: str) -> None:
        """Copy a host file or folder into the work dir at ``dest``."""

    @abstractmethod
    def copy_out(self, src: str, dest: str | Path) -> None:
        """Copy a file or folder of the work dir to the host path ``dest``."""

    @abstractmethod
    def close(self) -> None:
        """Kill everything still running and delete the work dir (idempotent)."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def cap_text(data: bytes, cap: int) -> tuple[str, bool]:
    """Decode captured bytes (replacing invalid UTF-8), cutting at ``cap`` with a truncation marker."""
    if len(data) <= cap:
        return data.decode("utf-8", errors="replace"), False
    kept = data[:cap].decode("utf-8", errors="replace")
    return kept + TRUNCATION_MARKER.format(dropped=len(data) - cap), True

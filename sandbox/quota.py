"""A size-capped file system for a sandbox's writable dirs, and a watchdog that removes it.

A bind of a plain host folder lets sandboxed code fill the host's disk (RLIMIT_FSIZE caps one
file, not their number). :func:`mount_quota` mounts, at a host folder, a file system that cannot
grow past ``size_mb``:

- ``loop`` (root, the default where it works): a sparse image file, ``mkfs.ext4``, mounted
  through a loop device (``-o loop,discard``), the image unlinked right after the mount. The host
  disk holds at most ``size_mb`` (what is deleted inside is given back through ``discard``), and
  the space is freed by the kernel once the mount is gone. Inodes are capped by ext4 itself.
- ``tmpfs`` (root, where loop devices or ``mkfs.ext4`` are missing, e.g. inside a container):
  a tmpfs with ``size=`` and ``nr_inodes=`` set. It costs RAM (or swap), not disk: size it so.
- ``off`` (no root, or root without CAP_SYS_ADMIN as in an unprivileged container: nothing can
  be mounted): a plain folder, no quota; only RLIMIT_FSIZE caps each file. ``auto`` falls back
  to it with a warning, once per process; ``ExecResult.disk_full`` then comes from stderr only.

Every sandbox dir gets a watchdog (:func:`start_watchdog`): a ``sh`` in its own session that
waits for the end of a pipe whose write end only the owner holds. When the owner ends, however
it ends (SIGKILL included), the pipe closes and the watchdog unmounts and deletes the dir.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agentgym.core.errors import SandboxError

log = logging.getLogger(__name__)

QuotaMode = Literal["auto", "loop", "tmpfs", "off"]
QUOTA_MODES: tuple[str, ...] = ("auto", "loop", "tmpfs", "off")
BYTES_PER_INODE = 16384  # ext4's default ratio; the tmpfs inode cap follows it
FULL_MARGIN = 1 << 20  # less free space than this (or no free inode) is a full disk
WATCHDOG_SCRIPT = 'cat >/dev/null; umount -l -- "$1" 2>/dev/null; rm -rf --one-file-system -- "$2"'
NO_QUOTA_WARNING = (
    "the local sandbox's work dir has no disk quota here (mounting one needs root); sandboxed "
    "code can fill this disk, up to Limits.file_size_mb per file. Run as root, or use the docker "
    "backend, for a capped work dir."
)
_warned: set[str] = set()


def _tool(name: str) -> str | None:
    """The path of a system tool (sbin included), or None."""
    for folder in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        path = Path(folder, name)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None


def loop_unavailable() -> str | None:
    """None when a loop-mounted ext4 can be made here, else why not."""
    if os.geteuid() != 0:
        return "mounting needs root"
    for tool in ("mkfs.ext4", "mount", "umount"):
        if _tool(tool) is None:
            return f"`{tool}` is not installed"
    if not Path("/dev/loop-control").exists() and not Path("/dev/loop0").exists():
        return "no loop devices (/dev/loop-control)"
    return None


def tmpfs_unavailable() -> str | None:
    """None when a sized tmpfs can be mounted here, else why not."""
    if os.geteuid() != 0:
        return "mounting needs root"
    if _tool("mount") is None or _tool("umount") is None:
        return "`mount` is not installed"
    return None


@dataclass
class DiskQuota:
    """The file system mounted (or the plain folder made) at ``path`` for one sandbox."""

    mode: str  # loop | tmpfs | off
    path: Path
    size_bytes: int
    mounted: bool = False
    released: bool = field(default=False, repr=False)

    def is_full(self) -> bool:
        """True when (almost) no space or no inode is left; always False without a quota."""
        if not self.mounted or self.released:
            return False
        try:
            info = os.statvfs(self.path)
        except OSError:
            return False
        free = info.f_bavail * info.f_frsize
        return free < min(FULL_MARGIN, self.size_bytes // 64) or (info.f_files > 0 and info.f_favail == 0)

    def release(self) -> None:
        """Unmount (lazily if something still holds it); idempotent."""
        if self.released:
            return
        self.released = True
        if self.mounted:
            umount(self.path)


def umount(path: Path) -> None:
    """Unmount ``path``; lazily when busy. Logs instead of raising."""
    umount_bin = _tool("umount") or "umount"
    for argv in ([umount_bin, "--", str(path)], [umount_bin, "-l", "--", str(path)]):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return
    log.warning("could not unmount the sandbox disk at %s: %s", path, proc.stderr.strip())


def _run(argv: list[str], what: str) -> None:
    """Run a setup tool; SandboxError with its stderr when it fails."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxError(f"{what}: {exc}") from exc
    if proc.returncode != 0:
        raise SandboxError(f"{what}: {(proc.stderr or proc.stdout).strip()[:500]}")


def _mount_loop(path: Path, size_bytes: int) -> None:
    """A sparse ext4 image next to ``path``, loop-mounted at it, then unlinked."""
    image = path.with_name(path.name + ".img")
    try:
        with open(image, "wb") as handle:
            handle.truncate(size_bytes)
        mkfs = [_tool("mkfs.ext4") or "mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal"]
        _run([*mkfs, "-E", "nodiscard", str(image)], "mkfs.ext4 for the sandbox disk failed")
        options = "loop,discard,nosuid,nodev"
        mount = [_tool("mount") or "mount", "-o", options, str(image), str(path)]
        _run(mount, "mounting the sandbox disk failed")
    finally:
        with contextlib.suppress(OSError):
            image.unlink()  # the loop device keeps it open; the space goes with the mount
    with contextlib.suppress(OSError):
        (path / "lost+found").rmdir()


def _mount_tmpfs(path: Path, size_bytes: int) -> None:
    """A tmpfs capped in bytes and in inodes (each inode costs RAM outside ``size``)."""
    inodes = max(1024, size_bytes // BYTES_PER_INODE)
    options = f"size={size_bytes},nr_inodes={inodes},mode=0755,nosuid,nodev"
    mount = [_tool("mount") or "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)]
    _run(mount, "mounting a tmpfs failed")


def choose_mode(mode: str) -> tuple[str, str | None]:
    """The mode to use for ``mode`` (``auto`` resolved) and, for ``off`` by fallback, why."""
    if mode not in QUOTA_MODES:
        raise SandboxError(f"disk_quota must be one of {', '.join(QUOTA_MODES)}, got {mode!r}")
    if mode == "loop":
        reason = loop_unavailable()
        if reason is not None:
            raise SandboxError(f"disk_quota='loop' is not possible here: {reason}")
    elif mode == "tmpfs":
        reason = tmpfs_unavailable()
        if reason is not None:
            raise SandboxError(f"disk_quota='tmpfs' is not possible here: {reason}")
    elif mode == "auto":
        loop_reason = loop_unavailable()
        if loop_reason is None:
            return "loop", None
        tmpfs_reason = tmpfs_unavailable()
        return ("tmpfs", None) if tmpfs_reason is None else ("off", tmpfs_reason)
    return mode, None


def mount_quota(path: Path, size_mb: int, mode: str = "auto") -> DiskQuota:
    """Create ``path`` and mount a file system of ``size_mb`` MiB there (see the module doc).

    ``auto`` tries loop, then tmpfs, then falls back to ``off`` with a warning (once per
    process); an explicit ``loop`` or ``tmpfs`` raises SandboxError when it cannot be done.
    """
    chosen, why = choose_mode(mode)
    size_bytes = size_mb << 20
    path.mkdir(mode=0o755)
    quota = DiskQuota(chosen, path, size_bytes)
    if chosen == "off":
        if mode == "auto" and "off" not in _warned:
            _warned.add("off")
            log.warning("%s (%s)", NO_QUOTA_WARNING, why)
        return quota
    if chosen == "loop":
        try:
            _mount_loop(path, size_bytes)
        except SandboxError as exc:
            if mode == "loop":
                raise
            log.warning("loop-mounted sandbox disk failed, using a tmpfs: %s", exc)
            quota.mode = chosen = "tmpfs"
    if chosen == "tmpfs":
        try:
            _mount_tmpfs(path, size_bytes)
        except SandboxError as exc:
            if mode != "auto":
                raise
            quota.mode = "off"  # root without CAP_SYS_ADMIN, e.g. in an unprivileged container
            if "off" not in _warned:
                _warned.add("off")
                log.warning("%s (%s)", NO_QUOTA_WARNING, exc)
            return quota
    quota.mounted = True
    return quota


@dataclass
class Watchdog:
    """A process that unmounts ``mountpoint`` and deletes ``root`` once the owner's pipe closes."""

    proc: subprocess.Popen[bytes]
    lifeline: int  # the pipe's write end, held only by the owner

    def stop(self, timeout: float = 10.0) -> None:
        """Close the lifeline (the watchdog then cleans up and exits) and wait for it."""
        if self.lifeline >= 0:
            with contextlib.suppress(OSError):
                os.close(self.lifeline)
            self.lifeline = -1
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("the sandbox disk watchdog (pid %d) did not exit", self.proc.pid)


def start_watchdog(mountpoint: Path, root: Path) -> Watchdog:
    """Start the cleanup watchdog of one sandbox dir (own session: a group kill spares it)."""
    read_end, write_end = os.pipe()  # both close-on-exec; stdin gets a dup of the read end
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", WATCHDOG_SCRIPT, "agentgym-sandbox-watchdog", str(mountpoint), str(root)],
            stdin=read_end,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )
    except OSError as exc:
        os.close(write_end)
        raise SandboxError(f"cannot start the sandbox cleanup watchdog: {exc}") from exc
    finally:
        os.close(read_end)
    return Watchdog(proc, write_end)


def release_all(quota: DiskQuota | None, watchdog: Watchdog | None, root: Path) -> None:
    """Unmount, stop the watchdog (it deletes ``root``), and delete what is left (for finalizers)."""
    if quota is not None:
        quota.release()
    if watchdog is not None:
        watchdog.stop()
    if root.exists():
        shutil.rmtree(root, ignore_errors=True)

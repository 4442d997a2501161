"""File transfer for the docker backend: tar archives through ``put_archive`` / ``get_archive``.

Paths are checked inside the container first (:data:`RESOLVE`, run as the sandbox user after it
killed every other process of that user, so nothing can swap a link in between): the path after symlinks
must stay in ``/work``. Archives from the container are extracted on the host with tarfile's
``data`` filter (no absolute names, no ``..``, no links leaving the destination, no devices).
Archives go through temporary files, never whole into memory.
"""

from __future__ import annotations

import io
import posixpath
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from agentgym.core.errors import SandboxError
from agentgym.sandbox.images import SANDBOX_UID

WORK_DIR = "/work"
CHUNK = 1 << 16
# $1: 1 if the path must exist; $2: the path. Prints the resolved path, then its type and size.
RESOLVE = r"""
kill -9 -1 2>/dev/null
if [ "$1" = 1 ]; then p=$(realpath -e -- "$2" 2>/dev/null) || exit 3
else p=$(realpath -m -- "$2" 2>/dev/null) || exit 3; fi
case "$p" in /work|/work/*) ;; *) printf '%s\n' "$p"; exit 4;; esac
if [ "$1" = 0 ]; then [ "$p" != /work ] || exit 6; mkdir -p -- "$(dirname -- "$p")" || exit 5; fi
printf '%s\n' "$p"
if [ -e "$p" ]; then stat -c '%F' -- "$p"; stat -c '%s' -- "$p"; fi
"""


class Resolved:
    """A container path inside ``/work`` after symlinks, with its type and size when it exists."""

    def __init__(self, path: str, kind: str, size: int) -> None:
        self.path, self.kind, self.size = path, kind, size

    @property
    def is_dir(self) -> bool:
        """True for a directory."""
        return self.kind == "directory"


def check_resolved(rel: str, code: int, stdout: str, stderr: str) -> Resolved:
    """Turn the RESOLVE script's result into a Resolved path or a SandboxError naming the problem."""
    lines = stdout.splitlines()
    if code == 0 and lines:
        kind = lines[1] if len(lines) > 1 else ""
        size = int(lines[2]) if len(lines) > 2 and lines[2].isdigit() else 0
        return Resolved(lines[0], kind, size)
    reasons = {
        3: "does not exist in the work dir (or a symlink in it loops)",
        4: "resolves outside the work dir (a symlink?)",
        5: "cannot be created (a parent is not a directory?)",
        6: "is the work dir itself, not a file in it",
    }
    raise SandboxError(f"sandbox path {rel!r} {reasons.get(code, f'could not be checked: {stderr.strip()}')}")


def _own(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Give an archive member to the sandbox user; drop devices, FIFOs and other special files."""
    if not (info.isreg() or info.isdir() or info.issym()):
        return None
    info.uid = info.gid = SANDBOX_UID
    info.uname, info.gname = "nobody", "nogroup"
    return info


def _put(api: Any, container_id: str, folder: str, archive: IO[bytes]) -> None:
    """Extract ``archive`` into ``folder`` of the container; engine errors become SandboxError."""
    import docker

    archive.seek(0)
    try:
        api.put_archive(container_id, folder, archive)
    except docker.errors.APIError as exc:
        raise SandboxError(f"could not copy into the sandbox: {exc.explanation or exc}") from exc


def put_bytes(api: Any, container_id: str, target: Resolved, payload: bytes) -> None:
    """Write ``payload`` as the file ``target.path`` (parents exist already)."""
    if target.is_dir:
        raise SandboxError(f"{target.path} is a directory")
    info = tarfile.TarInfo(posixpath.basename(target.path))
    info.size, info.mode, info.mtime = len(payload), 0o644, int(time.time())
    with tempfile.TemporaryFile() as archive:
        with tarfile.open(fileobj=archive, mode="w") as tar:
            tar.addfile(_own(info) or info, io.BytesIO(payload))
        _put(api, container_id, posixpath.dirname(target.path), archive)


def put_path(api: Any, container_id: str, src: Path, target: Resolved) -> None:
    """Copy the host file or folder ``src`` to ``target.path`` (parents exist already)."""
    if not src.exists() and not src.is_symlink():
        raise SandboxError(f"copy_in source {str(src)!r} does not exist")
    with tempfile.TemporaryFile() as archive:
        with tarfile.open(fileobj=archive, mode="w") as tar:
            tar.add(str(src), arcname=posixpath.basename(target.path), recursive=True, filter=_own)
        _put(api, container_id, posixpath.dirname(target.path), archive)


def _fetch(api: Any, container_id: str, path: str, archive: IO[bytes], limit: int) -> None:
    """Stream the container's tar of ``path`` into ``archive``; SandboxError past ``limit`` bytes."""
    import docker

    try:
        stream, _ = api.get_archive(container_id, path, chunk_size=CHUNK)
        received = 0
        for chunk in stream:
            received += len(chunk)
            if received > limit:
                raise SandboxError(f"{path} is larger than {limit} bytes")
            archive.write(chunk)
    except docker.errors.APIError as exc:
        raise SandboxError(f"could not copy out of the sandbox: {exc.explanation or exc}") from exc
    archive.seek(0)


def get_bytes(api: Any, container_id: str, target: Resolved, max_bytes: int) -> bytes:
    """The content of the regular file ``target.path`` (SandboxError if larger than ``max_bytes``)."""
    if target.kind not in ("regular file", "regular empty file"):
        raise SandboxError(f"{target.path} is not a regular file ({target.kind})")
    if target.size > max_bytes:
        raise SandboxError(f"{target.path} has {target.size} bytes, more than max_bytes={max_bytes}")
    with tempfile.TemporaryFile() as archive:
        _fetch(api, container_id, target.path, archive, limit=max_bytes + (64 << 10))
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            member = tar.next()
            handle = tar.extractfile(member) if member is not None else None
            if handle is None:
                raise SandboxError(f"{target.path} came back as no regular file")
            return handle.read(max_bytes + 1)[:max_bytes]


def get_path(api: Any, container_id: str, target: Resolved, dest: Path, limit: int = 1 << 34) -> None:
    """Copy ``target.path`` to the host: a file like ``shutil.copy2``, a folder like ``copytree``."""
    dest = dest.expanduser()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as archive, tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        _fetch(api, container_id, target.path, archive, limit)
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            try:
                tar.extractall(tmp, filter=_data_filter)
            except tarfile.TarError as exc:  # FilterError and friends: an unsafe member
                raise SandboxError(f"refusing to copy out {target.path}: {exc}") from exc
        extracted = Path(tmp) / posixpath.basename(target.path)
        if extracted.is_dir() and not extracted.is_symlink():
            shutil.copytree(extracted, dest, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(extracted, dest, follow_symlinks=False)


def _data_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """The ``data`` extraction filter of tarfile (Python >= 3.10.12), else a minimal equivalent."""
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is not None:
        return data_filter(member, dest)
    name = posixpath.normpath(member.name)
    link = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
    escapes = (member.issym() or member.islnk()) and link.startswith(("/", ".."))
    if name.startswith(("/", "..")) or escapes:
        raise tarfile.TarError(f"unsafe archive member {member.name!r}")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        return None
    return member

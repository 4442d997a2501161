"""Where the SWE family caches what it builds on the host: ``$AGENTGYM_CACHE/swe``.

The root is resolved at call time, like the search and webshop caches: ``$AGENTGYM_CACHE/swe``,
or ``~/.cache/agentgym/swe`` when the variable is unset. Cached trees are built in a staging folder
next to their final place and renamed into it, so a half-built tree is never seen and two
processes building the same one at once are harmless. Files are made world-readable (the sandbox
user reads them).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from agentgym.core.cache import cache_root as project_cache_root


def cache_root() -> Path:
    """``$AGENTGYM_CACHE/swe`` (default ``~/.cache/agentgym/swe``), created if missing."""
    root = project_cache_root("swe")
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    return root


def reachable_by_others(path: Path) -> bool:
    """True when every folder from ``/`` down to ``path`` lets other users in (``o+x``).

    The local sandbox, started by root, runs bubblewrap as an unprivileged uid that must reach the
    host folders it binds; a cache under a private home (``/root`` is usually 0700) is out of reach.
    """
    path = path.resolve()
    return all(os.stat(folder).st_mode & stat.S_IXOTH for folder in (path, *path.parents))


def cached_tree(name: str, build: Callable[[Path], None], root: Path | None = None) -> Path:
    """``root/name`` (default root: :func:`cache_root`), built by ``build(staging_dir)`` when missing."""
    root = root if root is not None else cache_root()
    target = root / name
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        build(staging)
        for folder, dirs, files in os.walk(staging):
            for entry in dirs:
                os.chmod(os.path.join(folder, entry), 0o755)
            for entry in files:
                if not os.path.islink(os.path.join(folder, entry)):
                    os.chmod(os.path.join(folder, entry), 0o644)
        staging.chmod(0o755)
        try:
            staging.rename(target)
        except OSError:  # built meanwhile by another process
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target

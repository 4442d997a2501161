"""The project's cache root: ``$AGENTGYM_CACHE``, or ``~/.cache/agentgym`` when it is unset.

Every family keeps what it builds (converted model weights, catalogs, search indexes, SWE trees)
in a folder of its own below this root. The variable is read at call time, so a process (or a
test) that sets it after import still gets its own cache.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(*parts: str) -> Path:
    """``$AGENTGYM_CACHE/<parts...>`` (default root ``~/.cache/agentgym``); not created here."""
    env = os.environ.get("AGENTGYM_CACHE")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "agentgym"
    return root.joinpath(*parts)

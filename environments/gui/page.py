"""Plain records of the GUI envs: what a page's checker reports, one observation, start URL rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from agentgym.core.errors import EnvError

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class PageOutcome:
    """What :meth:`BrowserEnv.evaluate` reads from the page: reward, whether it ended, details."""

    reward: float = 0.0
    done: bool = False
    passed: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snapshot:
    """One observation of the page."""

    png: bytes | None
    dom: str
    boxes: dict[str, list[int]]
    url: str


def check_start_url(url: str) -> str:
    """Accept http(s) URLs on the local machine, file:// pages and about:blank; raise otherwise."""
    parsed = urlparse(url)
    if parsed.scheme == "file" or url == "about:blank":
        return url
    if parsed.scheme in ("http", "https") and parsed.hostname in _LOCAL_HOSTS:
        return url
    raise EnvError(
        f"start_url must be a file:// page or an http URL on 127.0.0.1/localhost, got {url!r:.120}"
    )

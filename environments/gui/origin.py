"""What a task's browser context may load: its own origin only (a page can link anywhere).

An :class:`Origin` names what a context may load: one http(s) origin exactly (scheme, host and port:
the shop's server), or file:// pages under one folder (MiniWoB's pages), or nothing (an ``about:blank``
page). An :class:`OriginGuard` enforces it on one context, in two places:

- a local forward proxy (the context's ``proxy``; Playwright proxies loopback too) sees every http(s)
  and WebSocket request, redirect hops included (which Playwright's routes never see): requests to the
  allowed origin are forwarded, anything else is answered ``204 No Content`` (a navigation answered so
  is cancelled: the page stays as it was) or refused (``CONNECT``);
- a route for every other URL outside the origin (file:// pages elsewhere on disk...): navigations are
  answered 204, other requests aborted. Allowed files are not routed, so they cost nothing.

Service workers are blocked by the context options. Every refused attempt is recorded; the env shows
it in the next observation as ``blocked: navigation to URL is outside this task's origin (...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit
from weakref import WeakKeyDictionary

from agentgym.core.errors import EnvError

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_HTTP_LIKE = {"ws": "http", "wss": "https"}
MAX_HEAD = 64 * 1024
HEAD_TIMEOUT_S = 30.0
MAX_BLOCKED = 50  # kept per context between two observations
_DROPPED_HEADERS = ("proxy-connection", "proxy-authorization", "connection", "keep-alive")
_NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_GUARDS: WeakKeyDictionary[Any, OriginGuard] = WeakKeyDictionary()


@dataclass(frozen=True)
class Origin:
    """One http(s) origin (``scheme``, ``host``, ``port``) or a file:// folder (``folder``), or neither."""

    scheme: str = ""
    host: str = ""
    port: int = 0
    folder: str = ""  # an absolute path ending in "/"

    @classmethod
    def of_url(cls, url: str) -> Origin:
        """The origin of a start URL: its http(s) origin, the folder of a file:// page, else nothing."""
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
            return cls(parts.scheme, (parts.hostname or "").lower(), port)
        if parts.scheme == "file":
            return cls.of_folder(posixpath.dirname(unquote(parts.path)))
        return cls()

    @classmethod
    def of_folder(cls, folder: str) -> Origin:
        """file:// pages under ``folder`` (an absolute path)."""
        if not folder.startswith("/"):
            raise EnvError(f"an origin folder must be an absolute path, got {folder!r:.120}")
        return cls(folder=posixpath.normpath(folder).rstrip("/") + "/")

    def allows(self, url: str) -> bool:
        """True when ``url`` is inside this origin (ws/wss count as http/https)."""
        try:
            parts = urlsplit(url)
            scheme = _HTTP_LIKE.get(parts.scheme, parts.scheme)
            if scheme in ("http", "https"):
                port = parts.port or _DEFAULT_PORTS[scheme]
                return bool(self.scheme) and (scheme, (parts.hostname or "").lower(), port) == (
                    self.scheme,
                    self.host,
                    self.port,
                )
        except ValueError:  # a bad port
            return False
        if scheme == "file" and self.folder and parts.netloc in ("", "localhost"):
            return posixpath.normpath(unquote(parts.path)).startswith(self.folder)
        return url in ("about:blank", "about:srcdoc")

    def allows_endpoint(self, host: str, port: int) -> bool:
        """True when a tunnel (``CONNECT host:port``: https, WebSockets) reaches this origin's server."""
        return bool(self.scheme) and (host.lower().strip("[]"), port) == (self.host.strip("[]"), self.port)

    def describe(self) -> str:
        """The origin as shown to the agent."""
        if self.scheme:
            return f"{self.scheme}://{self.host}:{self.port}"
        if self.folder:
            return f"file://{self.folder}"
        return "no network"

    def route_pattern(self) -> re.Pattern[str]:
        """What the guard's route sees: every URL but http(s) (the proxy's) and the allowed files."""
        allowed = ["https?:", "wss?:"]
        if self.folder:
            # Chromium percent-encodes paths the way Path.as_uri does for ordinary names
            from pathlib import PurePosixPath

            allowed.append(re.escape(PurePosixPath(self.folder).as_uri() + "/"))
        return re.compile("^(?!" + "|".join(allowed) + ")")


@dataclass(frozen=True)
class Blocked:
    """One refused attempt: what kind of load (navigation, frame, image, request...) and where to."""

    kind: str
    url: str

    def message(self, origin: Origin) -> str:
        """The line shown to the agent."""
        return f"blocked: {self.kind} to {self.url[:200]} is outside this task's origin ({origin.describe()})"


class OriginGuard:
    """Keeps one browser context inside an :class:`Origin` (see the module doc); runs on the host loop."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.blocked: list[Blocked] = []
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> dict[str, Any]:
        """Start the proxy; returns the options to create the guarded context with."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return {"proxy": {"server": f"http://127.0.0.1:{port}"}, "service_workers": "block"}

    async def attach(self, context: Any) -> None:
        """Route the context's non-http loads through the guard; stop the proxy when it closes."""
        _GUARDS[context] = self
        await context.route(self.origin.route_pattern(), self._route)
        context.on("close", lambda _context: self.stop())

    def stop(self) -> None:
        """Stop the proxy (idempotent); connections in flight are cut."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()

    def take(self) -> list[Blocked]:
        """The attempts refused since the last call (and forget them)."""
        out, self.blocked = self.blocked, []
        return out

    def _record(self, kind: str, url: str) -> None:
        if len(self.blocked) < MAX_BLOCKED:
            self.blocked.append(Blocked(kind, url))

    async def _route(self, route: Any) -> None:
        request = route.request
        if self.origin.allows(request.url):
            await route.continue_()
            return
        navigation = request.is_navigation_request()
        frame = navigation and request.frame.parent_frame is not None
        self._record("frame" if frame else "navigation" if navigation else request.resource_type, request.url)
        with contextlib.suppress(Exception):  # the page may be gone already
            if navigation:
                await route.fulfill(status=204)  # the navigation is cancelled; the document stays
            else:
                await route.abort("blockedbyclient")

    # ----- the proxy -------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._proxy(reader, writer)
        except (OSError, ValueError, EOFError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            pass  # a broken or refused connection: Chromium sees it closed
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        if len(head) > MAX_HEAD:
            return
        request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        headers = [line.split(":", 1) for line in header_lines if ":" in line]
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            if not port.isdigit() or not self.origin.allows_endpoint(host, int(port)):
                self._record("connection", target)
                writer.write(_FORBIDDEN)
                return
            upstream = await asyncio.open_connection(host.strip("[]"), int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await _pipe(reader, writer, *upstream, head=False)
            return
        if not self.origin.allows(target):
            self._record(_kind(dict((k.strip().lower(), v.strip()) for k, v in headers)), target)
            writer.write(_NO_CONTENT)
            return
        parts = urlsplit(target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kept = [f"{k}:{v}" for k, v in headers if k.strip().lower() not in _DROPPED_HEADERS]
        out = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""])
        up_reader, up_writer = await asyncio.open_connection(self.origin.host.strip("[]"), self.origin.port)
        up_writer.write(out.encode("latin-1"))
        await _pipe(reader, writer, up_reader, up_writer)


async def _answer_head(up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Pass the server's answer head on, saying ``Connection: close``.

    Chromium then never sends a second request (perhaps for another origin) down a connection piped
    to this origin's server.
    """
    head = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
    status, *lines = head[:-4].decode("latin-1").split("\r\n")
    kept = [line for line in lines if line.split(":", 1)[0].strip().lower() not in _DROPPED_HEADERS]
    writer.write("\r\n".join([status, *kept, "Connection: close", "", ""]).encode("latin-1"))


def _kind(headers: dict[str, str]) -> str:
    """What a proxied request was for, from Chromium's Sec-Fetch-* headers."""
    dest = headers.get("sec-fetch-dest", "")
    if dest in ("iframe", "frame"):
        return "frame"
    if headers.get("sec-fetch-mode") == "navigate" or dest == "document":
        return "navigation"
    return dest if dest and dest != "empty" else "request"


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    head: bool = True,
) -> None:
    """Copy bytes both ways until the server side ends (``head``: rewrite the answer's head first)."""

    async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while chunk := await src.read(65536):
                dst.write(chunk)
                await dst.drain()

    upload = asyncio.ensure_future(copy(reader, up_writer))  # a request body (a form post) first
    try:
        if head:
            await _answer_head(up_reader, writer)
        await copy(up_reader, writer)
    finally:
        upload.cancel()
        up_writer.close()


def guard_of(context: Any) -> OriginGuard | None:
    """The guard of a browser context (None when it has none)."""
    return _GUARDS.get(context) if context is not None else None


def blocked_lines(context: Any) -> list[str]:
    """What the context's guard refused since the last call, as lines for the agent (and forget it)."""
    guard = guard_of(context)
    if guard is None:
        return []
    return list(dict.fromkeys(b.message(guard.origin) for b in guard.take()))  # once each, in order

"""A small HTTP/1.1 keep-alive client (sync and asyncio) for the env server's JSON calls.

Env sessions are sequential, so each call takes an idle connection from a LIFO pool (or opens one)
and puts it back when the answer is read: no per-request scan of the pool, which is what makes
general-purpose clients slow with hundreds of concurrent sessions. Idle connections expire after
``keepalive_s`` (below the server's keep-alive timeout), so a reused connection is not one the
server is closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import sys
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

#: Largest response body read (bytes).
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
_MAX_HEADER_LINES = 100


class HttpError(OSError):
    """The call failed at the connection level; ``sent`` says whether the request may have arrived."""

    def __init__(self, message: str, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port of a base URL (plus its path prefix)."""

    scheme: str
    host: str
    port: int
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Origin:
        """Parse ``http://host:port[/prefix]`` (or https)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    def head(self, method: str, path: str, length: int) -> bytes:
        """The request line and headers."""
        host = self.host if self.port in (80, 443) else f"{self.host}:{self.port}"
        return (
            f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        ).encode("latin-1")


@dataclass
class Response:
    """Status, lower-cased headers and body of one answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        """False when the server said it closes the connection."""
        return self.headers.get("connection", "").lower() != "close"


def _parse_head(lines: list[bytes]) -> tuple[int, dict[str, str]]:
    try:
        status = int(lines[0].split(None, 2)[1])
    except (IndexError, ValueError):
        raise HttpError(f"malformed status line {lines[0][:100]!r}", sent=True) from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    return status, headers


def _length(headers: dict[str, str]) -> int:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return -1
    length = int(headers.get("content-length", "0"))
    if length > MAX_RESPONSE_BYTES:
        raise HttpError(f"response of {length} bytes exceeds the limit", sent=True)
    return length


#: A read the answer parser asks its driver for: a line (at most ``n`` bytes) or exactly ``n`` bytes.
_LINE, _EXACT = 0, 1
_Reads = Generator[tuple[int, int], bytes, tuple[int, dict[str, str], bytes]]


def _read_answer() -> _Reads:
    """Parse one answer (status, headers, body) from the reads it yields, sync or asyncio alike.

    Each ``(kind, n)`` it yields is answered (``send``) with the bytes read; the answer is the
    generator's return value. A short ``_EXACT`` read must raise in the driver.
    """
    line = yield _LINE, 65536
    if not line:
        raise ConnectionResetError("the server closed the connection")
    lines = [line.rstrip(b"\r\n")]
    while len(lines) < _MAX_HEADER_LINES:
        line = (yield _LINE, 65536).rstrip(b"\r\n")
        if not line:
            break
        lines.append(line)
    status, headers = _parse_head(lines)
    length = _length(headers)
    if length >= 0:
        return status, headers, ((yield _EXACT, length) if length else b"")
    chunks = []
    while True:
        size = int((yield _LINE, 1024).split(b";")[0], 16)
        if size == 0:
            yield _LINE, 1024
            return status, headers, b"".join(chunks)
        chunks.append((yield _EXACT, size))
        yield _LINE, 1024


def _failure(origin: Origin, exc: BaseException) -> HttpError:
    """The error a failed exchange raises: an HttpError as it is, anything else wrapped in one."""
    if isinstance(exc, HttpError):
        return exc
    error = HttpError(f"connection to {origin.host}:{origin.port} failed: {exc!r}", sent=True)
    error.__cause__ = exc
    return error


# ----- asyncio -----------------------------------------------------------------------------------
async def _within(coro: Any, seconds: float) -> Any:
    """Await with a time limit (without a new task on Python >= 3.11)."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await coro
    return await asyncio.wait_for(coro, seconds)  # pragma: no cover - Python 3.10


@dataclass
class _AsyncConn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    used: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class AsyncPool:
    """Keep-alive connections to one origin, for one event loop."""

    def __init__(self, origin: Origin, keepalive_s: float = 3.0, connect_timeout_s: float = 10.0) -> None:
        self.origin, self.keepalive_s, self.connect_timeout_s = origin, keepalive_s, connect_timeout_s
        self._idle: list[_AsyncConn] = []

    async def _acquire(self) -> tuple[_AsyncConn, bool]:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.used < self.keepalive_s and not conn.reader.at_eof():
                return conn, True
            conn.close()
        ctx = ssl.create_default_context() if self.origin.scheme == "https" else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.origin.host, self.origin.port, ssl=ctx, limit=2**20),
                self.connect_timeout_s,
            )
        except (OSError, asyncio.TimeoutError) as exc:
            raise HttpError(
                f"cannot connect to {self.origin.host}:{self.origin.port}: {exc}", sent=False
            ) from exc
        return _AsyncConn(reader, writer), False

    async def request(
        self, method: str, path: str, body: bytes, timeout: float, retry_reused: bool
    ) -> Response:
        """Send one request and read its answer (a dead reused connection is retried once if allowed)."""
        for attempt in range(2):
            conn, reused = await self._acquire()
            got = [False]
            try:
                conn.writer.write(self.origin.head(method, path, len(body)) + body)
                status, headers, data = await _within(self._exchange(conn.reader, got), timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
                conn.close()
                if reused and not got[0] and attempt == 0 and retry_reused:
                    continue
                if isinstance(exc, asyncio.TimeoutError):
                    raise HttpError(f"no answer within {timeout:g}s", sent=True) from exc
                raise _failure(self.origin, exc)  # noqa: B904  # _failure sets the cause
            except BaseException:  # cancelled mid-call: the connection is in an unknown state
                conn.close()
                raise
            response = Response(status, headers, data)
            if response.keep_alive:
                conn.used = time.monotonic()
                self._idle.append(conn)
            else:
                conn.close()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    async def _exchange(reader: asyncio.StreamReader, got: list[bool]) -> tuple[int, dict[str, str], bytes]:
        steps = _read_answer()
        kind, n = next(steps)
        while True:
            data = await (reader.readline() if kind == _LINE else reader.readexactly(n))
            got[0] = got[0] or bool(data)
            try:
                kind, n = steps.send(data)
            except StopIteration as done:
                return done.value

    def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()


# ----- blocking ----------------------------------------------------------------------------------
@dataclass
class _SyncConn:
    sock: socket.socket
    file: Any
    used: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.file.close()
        with contextlib.suppress(Exception):
            self.sock.close()


class SyncPool:
    """Blocking keep-alive connections to one origin (thread-safe)."""

    def __init__(self, origin: Origin, keepalive_s: float = 3.0, connect_timeout_s: float = 10.0) -> None:
        self.origin, self.keepalive_s, self.connect_timeout_s = origin, keepalive_s, connect_timeout_s
        self._idle: list[_SyncConn] = []
        self._lock = threading.Lock()

    def _acquire(self) -> tuple[_SyncConn, bool]:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if now - conn.used < self.keepalive_s:
                    return conn, True
                conn.close()
        try:
            sock = socket.create_connection((self.origin.host, self.origin.port), self.connect_timeout_s)
        except OSError as exc:
            raise HttpError(
                f"cannot connect to {self.origin.host}:{self.origin.port}: {exc}", sent=False
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.origin.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.origin.host)
        return _SyncConn(sock, sock.makefile("rb")), False

    def request(self, method: str, path: str, body: bytes, timeout: float, retry_reused: bool) -> Response:
        """Send one request and read its answer (a dead reused connection is retried once if allowed)."""
        for attempt in range(2):
            conn, reused = self._acquire()
            got = [False]
            try:
                conn.sock.settimeout(timeout)
                conn.sock.sendall(self.origin.head(method, path, len(body)) + body)
                status, headers, data = self._exchange(conn.file, got)
            except (OSError, ValueError) as exc:
                conn.close()
                if reused and not got[0] and attempt == 0 and retry_reused:
                    continue
                raise _failure(self.origin, exc)  # noqa: B904  # _failure sets the cause
            except BaseException:  # interrupted mid-call: the connection is in an unknown state
                conn.close()
                raise
            response = Response(status, headers, data)
            if response.keep_alive:
                conn.used = time.monotonic()
                with self._lock:
                    self._idle.append(conn)
            else:
                conn.close()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _exchange(file: Any, got: list[bool]) -> tuple[int, dict[str, str], bytes]:
        steps = _read_answer()
        kind, n = next(steps)
        while True:
            data = file.readline(n) if kind == _LINE else file.read(n)
            if kind == _EXACT and len(data) != n:
                raise ConnectionResetError("the answer was cut short")
            got[0] = got[0] or bool(data)
            try:
                kind, n = steps.send(data)
            except StopIteration as done:
                return done.value

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            while self._idle:
                self._idle.pop().close()

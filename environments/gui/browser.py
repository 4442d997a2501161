"""One headless Chromium per process, driven by Playwright's async API on a dedicated thread.

:class:`BrowserHost` owns a private asyncio loop on a daemon thread, the Playwright driver and one
Chromium browser. Envs (in any thread, sync or async) submit coroutines to it with :meth:`call`
(blocking, with a timeout) or :meth:`acall` (awaitable, never blocks the caller's event loop), so
concurrent episodes interleave on the one browser.

Lifetime: envs :meth:`acquire` the host and :meth:`release` it on ``close()``; when the last user
releases it, the browser, the driver and the thread are shut down after ``linger_s`` seconds
(so back-to-back envs reuse one browser; ``0`` shuts down at once). A crashed or disconnected
browser is relaunched on the next :meth:`new_page`. After ``fork()`` the child gets its own host.
Pages: :meth:`new_page` gives a fresh browser context, prepared ahead of time (``spare=True``: the
next context is built in the background while the current episode runs); :meth:`reuse_page` gives a
pooled page, reloaded, which costs about a third of the CPU (a new context means a new renderer).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from agentgym.core.errors import EnvError
from agentgym.environments.gui.origin import Origin, OriginGuard

T = TypeVar("T")

CHROMIUM = os.environ.get("AGENTGYM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--font-render-hinting=none",
    "--force-color-profile=srgb",
    "--hide-scrollbars",
    # Re-raster whole tiles, never just the damaged rect: with partial raster, anti-aliased edges
    # (rounded corners) depend on which intermediate frames were painted, i.e. on timing under load.
    "--disable-partial-raster",
    *os.environ.get("AGENTGYM_CHROMIUM_EXTRA_ARGS", "").split(),
)
DEFAULT_LINGER_S = float(os.environ.get("AGENTGYM_BROWSER_LINGER_S", "3"))
LAUNCH_TIMEOUT_S = 60.0
MAX_SPARES = 3
MAX_IDLE = 8  # pooled pages per key (isolation="page")

#: Prepares a fresh page (context options were already applied): install clocks, navigate...
PagePreparer = Callable[[Any], Awaitable[None]]


class BrowserCrashed(EnvError):
    """The browser or the page died, or a browser call timed out."""


@dataclass(frozen=True)
class PageKey:
    """What makes two prepared pages interchangeable: context options and the preparer's key.

    With an ``origin`` the context loads nothing outside it (see :mod:`.origin`).
    """

    width: int
    height: int
    prepare_key: str
    origin: Origin | None = None


class BrowserHost:
    """The process's browser: a loop thread, the Playwright driver and one Chromium (lazy)."""

    _instance: BrowserHost | None = None
    _instance_lock = threading.Lock()

    def __init__(self, executable: str = CHROMIUM, linger_s: float = DEFAULT_LINGER_S) -> None:
        self.executable = executable
        self.linger_s = linger_s
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._users = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._launch_lock: asyncio.Lock | None = None
        self._spares: OrderedDict[PageKey, asyncio.Task[tuple[Any, Any]]] = OrderedDict()
        self._idle: dict[PageKey, list[tuple[Any, Any]]] = {}
        self._shutdown_timer: threading.Timer | None = None
        self.launches = 0

    # ----- the process singleton ---------------------------------------------------------------
    @classmethod
    def get(cls) -> BrowserHost:
        """The host of this process (a new one in a forked child)."""
        with cls._instance_lock:
            if cls._instance is None or cls._instance.pid != os.getpid():
                cls._instance = BrowserHost()
            return cls._instance

    # ----- users -------------------------------------------------------------------------------
    def acquire(self) -> None:
        """Register a user (an env); cancels a pending shutdown."""
        with self._lock:
            self._users += 1
            if self._shutdown_timer is not None:
                self._shutdown_timer.cancel()
                self._shutdown_timer = None

    def release(self) -> None:
        """Unregister a user; the last one shuts the browser down after ``linger_s`` seconds."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users or self._loop is None:
                return
            if self.linger_s <= 0:
                timer = None
            else:
                timer = threading.Timer(self.linger_s, self._shutdown_if_unused)
                timer.daemon = True
                self._shutdown_timer = timer
        if timer is None:
            self.shutdown()
        else:
            timer.start()

    def _shutdown_if_unused(self) -> None:
        with self._lock:
            if self._users:
                return
        self.shutdown()

    @property
    def users(self) -> int:
        """How many envs hold the host."""
        return self._users

    # ----- running coroutines on the host loop -------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is not None:
                return self._loop
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            self._thread = threading.Thread(target=run, name="agentgym-browser", daemon=True)
            self._thread.start()
            ready.wait()
            self._loop = loop
            return loop

    def submit(self, coro: Coroutine[Any, Any, T], timeout: float) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the host loop with a deadline (BrowserCrashed when it passes)."""
        loop = self._ensure_loop()
        return asyncio.run_coroutine_threadsafe(_deadline(coro, timeout), loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the host loop and wait for its result (from a thread without a loop)."""
        return self.submit(coro, timeout).result()

    async def acall(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Await ``coro`` run on the host loop, without blocking the caller's loop."""
        return await asyncio.wrap_future(self.submit(coro, timeout))

    # ----- browser and pages (run on the host loop) --------------------------------------------
    async def browser(self) -> Any:
        """The live browser, launched (or relaunched after a crash) when needed."""
        if self._launch_lock is None:
            self._launch_lock = asyncio.Lock()
        async with self._launch_lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            await self._drop_browser()
            if self._playwright is None:
                from playwright.async_api import async_playwright

                self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.executable,
                args=list(CHROMIUM_ARGS),
                timeout=LAUNCH_TIMEOUT_S * 1000,
            )
            self.launches += 1
            return self._browser

    async def new_page(self, key: PageKey, prepare: PagePreparer, spare: bool = True) -> tuple[Any, Any]:
        """A fresh ``(context, page)`` prepared by ``prepare``; with ``spare`` the next is made ahead."""
        pair = None
        pending = self._spares.pop(key, None)
        if pending is not None and (self._browser is None or not self._browser.is_connected()):
            pending.cancel()  # made on a browser that died: it may never finish
            pending = None
        if pending is not None:
            try:
                pair = await pending
                if pair[1].is_closed() or not pair[0].browser.is_connected():
                    pair = None
            except Exception:
                pair = None
        if pair is None:
            pair = await self._make_page(key, prepare)
        if spare:
            ahead = asyncio.ensure_future(self._make_page(key, prepare))
            ahead.add_done_callback(_retrieve)  # a failed spare is dropped when taken; never logged
            self._spares[key] = ahead
            while len(self._spares) > MAX_SPARES:
                _, old = self._spares.popitem(last=False)
                old.add_done_callback(_close_pair_later)
        return pair

    async def reuse_page(self, key: PageKey, prepare: PagePreparer, reload: PagePreparer) -> tuple[Any, Any]:
        """A pooled ``(context, page)`` reloaded by ``reload``, or a new one made by ``prepare``."""
        pool = self._idle.setdefault(key, [])
        while pool:
            context, page = pool.pop()
            if page.is_closed() or not context.browser.is_connected():
                continue
            try:
                await reload(page)
                return context, page
            except Exception:
                close_in_background(context)
        return await self._make_page(key, prepare)

    def recycle(self, key: PageKey, pair: tuple[Any, Any]) -> None:
        """Give a page back to the pool of ``reuse_page`` (call on the host loop)."""
        pool = self._idle.setdefault(key, [])
        pool.append(pair)
        if len(pool) > MAX_IDLE:
            close_in_background(pool.pop(0)[0])

    async def _make_page(self, key: PageKey, prepare: PagePreparer) -> tuple[Any, Any]:
        browser = await self.browser()
        guard = OriginGuard(key.origin) if key.origin is not None else None
        guarded = await guard.start() if guard is not None else {}
        try:
            context = await browser.new_context(
                viewport={"width": key.width, "height": key.height},
                device_scale_factor=1,
                reduced_motion="reduce",
                locale="en-US",
                timezone_id="UTC",
                color_scheme="light",
                **guarded,
            )
        except BaseException:
            if guard is not None:
                guard.stop()
            raise
        try:
            if guard is not None:
                await guard.attach(context)
            page = await context.new_page()
            if guard is not None:  # popups: never seen by the agent, they would pile up in pooled contexts
                page.on("popup", close_in_background)
            await prepare(page)
        except BaseException:
            await _quiet_close(context)
            raise
        return context, page

    def browser_pid(self) -> int | None:
        """The PID of the Chromium browser process of this host (None when none runs)."""
        pids = chromium_pids()
        return min(pids) if pids else None

    async def _drop_browser(self) -> None:
        for task in self._spares.values():
            task.cancel()
        self._spares.clear()
        self._idle.clear()  # their contexts close with the browser
        if self._browser is not None:
            await _quiet_close(self._browser)
            self._browser = None

    async def _stop(self) -> None:
        await self._drop_browser()
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._playwright.stop(), 20)
            self._playwright = None

    def shutdown(self) -> None:
        """Close the browser and the driver and stop the loop thread (idempotent)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            if self._shutdown_timer is not None:
                self._shutdown_timer.cancel()
                self._shutdown_timer = None
        if loop is None or os.getpid() != self.pid:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)
        self._launch_lock = None


async def _deadline(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    try:
        return await asyncio.wait_for(coro, timeout)
    except asyncio.TimeoutError:
        raise BrowserCrashed(f"browser call timed out after {timeout:g}s") from None


async def _quiet_close(thing: Any) -> None:
    """Close a context or browser, ignoring errors (it may be dead already)."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(thing.close(), 10)


_BACKGROUND: set[asyncio.Future[Any]] = set()


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def close_in_background(thing: Any) -> None:
    """Close a context or page without waiting (call on the host loop)."""
    closing = asyncio.ensure_future(_quiet_close(thing))
    _BACKGROUND.add(closing)
    closing.add_done_callback(_BACKGROUND.discard)


def _close_pair_later(task: asyncio.Future[tuple[Any, Any]]) -> None:
    if task.cancelled() or task.exception() is not None:
        return
    close_in_background(task.result()[0])


def _parents() -> dict[int, tuple[int, str]]:
    table: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":  # zombies are dead already
            table[int(entry)] = (int(fields[1]), comm)
    return table


def chromium_pids(root: int | None = None) -> list[int]:
    """Live Chromium processes descending from ``root`` (default: this process), via /proc (Linux)."""
    root = os.getpid() if root is None else root
    table = _parents()
    found = []
    for pid, (_, comm) in table.items():
        if "chrom" not in comm:
            continue
        cur, seen = pid, 0
        while cur in table and cur != root and seen < 64:
            cur, seen = table[cur][0], seen + 1
        if cur == root:
            found.append(pid)
    return sorted(found)


def _shutdown_at_exit() -> None:
    host = BrowserHost._instance
    if host is not None and host.pid == os.getpid():
        host.shutdown()


atexit.register(_shutdown_at_exit)

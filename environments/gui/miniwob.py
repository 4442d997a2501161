"""MiniWoB++ tasks (the HTML shipped in the ``miniwob`` package) as :class:`BrowserEnv` episodes.

An episode loads ``miniwob/html/miniwob/<task>.html`` in a fresh context, seeds the page's RNG
(``Math.seedrandom(seed)``, the seed drawn from the env's RNG or given as ``options["task"]``),
and starts it with ``core.startEpisodeReal()``. The reward is the page's own
(``WOB_RAW_REWARD_GLOBAL``, in [-1, 1]; ``reward_mode="time"`` gives the time-discounted
``WOB_REWARD_GLOBAL`` instead, on the virtual clock) once ``WOB_DONE_GLOBAL`` is set. The page's
episode timer (``core.EPISODE_MAX_TIME``, 10 s) runs on the fake clock too: each action advances it by
``step_ms`` (100 ms), ``wait`` by one more second, so a page times out (reward -1) after ~100 actions.
The instruction (``core.getUtterance()``) is in every observation. MiniWoB envs default to
``isolation="page"``: a pooled page, on which the next episode restarts in place (no reload) for the
pages audited restart-safe and while nothing of the last episode is pending, else is reloaded (see
:mod:`.restart`; ``reset_mode="reload"`` always reloads); pass ``isolation="context"`` for a new browser
context per episode.
"""

from __future__ import annotations

import base64
import os
import re
import weakref
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

from agentgym.core.errors import EnvError, UnknownIdError
from agentgym.core.task import Task
from agentgym.environments.gui.dom import SIMPLIFIED_DOM
from agentgym.environments.gui.env import FIXED_EPOCH_S, BrowserEnv, PageOutcome, Snapshot
from agentgym.environments.gui.origin import Origin
from agentgym.environments.gui.restart import RESTART_IN_PAGE, TIMER_TRACKER, restart_in_page_allowed

TASK_WIDTH, TASK_HEIGHT = 160, 210
READY_POLLS = 20
REWARD_MODES = ("raw", "time")
RESET_MODES = ("auto", "in-page", "reload")
_READY = "typeof WOB_TASK_READY === 'undefined' || WOB_TASK_READY"
_START = "(seed) => { Math.seedrandom(seed); core.startEpisodeReal(); return " + _READY + "; }"
_STATE = "[WOB_DONE_GLOBAL, WOB_RAW_REWARD_GLOBAL, WOB_REWARD_GLOBAL, WOB_REWARD_REASON]"
#: The reward panel and click canvas sit right of the task: hidden, the document is no wider than the
#: task, so a widget that takes the focus (a dialog's close button) cannot scroll the view sideways.
#: The caret is hidden for good (as Playwright's screenshots hide it), so a plain capture can be used.
_PAGE_STYLE = (
    "#reward-display, #click-canvas { display: none !important; } * { caret-color: transparent !important; }"
)
_CDP_SESSIONS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
#: Everything done after an action in one call: run the fake clock by ``runMs``, then read the state,
#: the utterance, the simplified DOM and whether CSS animations run (then the screenshot goes through
#: Playwright, which finishes them).
_RUN_CLOCK = "globalThis.__pwClock.controller.runFor"
_READ = (
    "async (opts) => { if (opts.runMs) await "
    + _RUN_CLOCK
    + "(opts.runMs); return {state: "
    + _STATE
    + ", utterance: core.getUtterance(), dom: ("
    + SIMPLIFIED_DOM
    + ")(opts),"
    " animations: document.getAnimations().length}; }"
)


async def _capture(page: Any) -> bytes:
    """The viewport as PNG through the page's own CDP session (Page.captureScreenshot)."""
    session = _CDP_SESSIONS.get(page)
    if session is None:
        session = _CDP_SESSIONS[page] = await page.context.new_cdp_session(page)
    shot = await session.send("Page.captureScreenshot", {"format": "png"})
    return base64.b64decode(shot["data"])


@lru_cache(maxsize=1)
def miniwob_html_dir() -> Path:
    """The folder of MiniWoB++ task pages in the installed ``miniwob`` package."""
    try:
        import miniwob
    except ImportError as exc:
        raise EnvError("MiniWoB envs need the 'miniwob' package: pip install 'agentgym[gui]'") from exc
    return Path(os.path.dirname(miniwob.__file__)) / "html" / "miniwob"


def available_tasks() -> list[str]:
    """Names of all MiniWoB++ task pages installed."""
    return sorted(p.stem for p in miniwob_html_dir().glob("*.html"))


_TASK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")


def task_page(task: str) -> Path:
    """The page of MiniWoB++ task ``task``: a known task name only (never a path; ConfigError else)."""
    if not isinstance(task, str) or not _TASK_NAME.match(task) or task not in available_tasks():
        name = task if isinstance(task, str) else repr(task)
        raise UnknownIdError("MiniWoB++ task", name[:100], available_tasks())
    return miniwob_html_dir() / f"{task}.html"


_LINK = re.compile(r"""<link[^>]+href=["']([^"']+\.css)["']""", re.I)
_URL = re.compile(r"""url\(["']?([^"')]+)["']?\)""")


@lru_cache(maxsize=256)
def stylesheet_images(page: Path) -> tuple[str, ...]:
    """File URLs of the images named by the page's local stylesheets (preloaded: see BrowserEnv)."""
    urls: list[str] = []
    for href in _LINK.findall(page.read_text(encoding="utf-8", errors="replace")):
        css = (page.parent / unquote(href)).resolve()
        if not css.is_file():
            continue
        for ref in _URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            ref = unquote(ref).strip("\"'")
            image = (css.parent / ref).resolve()
            if not ref.startswith("data:") and image.is_file() and image.as_uri() not in urls:
                urls.append(image.as_uri())
    return tuple(urls)


class MiniWoBEnv(BrowserEnv):
    """One MiniWoB++ task (``gui/miniwob-<task>-v0``): a 160x210 page, the page's own reward."""

    system_prompt: ClassVar[str] = (
        "You operate a small web page (160x210 pixels) to complete the instruction shown with it."
    )
    extra_init_script: ClassVar[str] = TIMER_TRACKER

    def __init__(
        self,
        task: str,
        observation: str = "both",
        reward_mode: str = "raw",
        step_ms: int = 100,
        timeout_s: float = 20.0,
        isolation: str = "page",
        reset_mode: str = "auto",
        render_mode: str | None = None,
    ) -> None:
        if reward_mode not in REWARD_MODES:
            raise EnvError(f"reward_mode must be one of {REWARD_MODES}, got {reward_mode!r}")
        if reset_mode not in RESET_MODES:
            raise EnvError(f"reset_mode must be one of {RESET_MODES}, got {reset_mode!r}")
        path = task_page(task)
        super().__init__(
            path.as_uri(),
            observation=observation,
            viewport=(TASK_WIDTH, TASK_HEIGHT),
            step_ms=step_ms,
            timeout_s=timeout_s,
            isolation=isolation,
            render_mode=render_mode,
        )
        self.task_name = task
        self.reward_mode = reward_mode
        #: "auto": restart in place when audited safe (see .restart); "in-page": whenever the page is
        #: quiet, audited or not (for audits); "reload": always a fresh document.
        self.reset_mode = reset_mode
        #: How the last reset got its page: "new" (a new context), "reload" or "in-page".
        self.last_reset = ""
        self._read: dict[str, Any] | None = None
        self._clock_due = 0  # ms the fake clock still has to run (see advance_clock)
        self.skip_element_ids = ("query", "reward-display", "sync-task-cover", "click-canvas")
        self.preload_images = stylesheet_images(path)

    def page_origin(self) -> Origin:
        """The package's MiniWoB++ pages and their shared scripts (``html/``), nothing else."""
        return Origin.of_folder(str(miniwob_html_dir().parent))

    async def load_page(self, page: Any) -> None:
        """Load the page with the reward panel and click canvas hidden (they sit right of the task)."""
        await super().load_page(page)
        await page.add_style_tag(content=_PAGE_STYLE)
        if not await page.evaluate("() => !!(globalThis.__pwClock && globalThis.__pwClock.controller)"):
            # the clock is run and reset inside page calls through Playwright's injected controller
            raise EnvError(
                f"playwright {metadata.version('playwright')} has no page clock controller "
                "(globalThis.__pwClock); the MiniWoB envs need playwright >= 1.45 (tested with 1.65)"
            )
        await page.evaluate("window.__agTimers ? window.__agTimers.mark() : -1")

    async def reload_page(self, page: Any) -> None:
        """Restart the episode in the loaded page when that is known to equal a fresh load, else reload."""
        if self.reset_mode == "in-page" or (
            self.reset_mode == "auto" and restart_in_page_allowed(self.task_name)
        ):
            await page.mouse.move(0, 0)
            if await page.evaluate(RESTART_IN_PAGE, FIXED_EPOCH_S * 1000):  # the clock stays paused
                self.last_reset = "in-page"
                return
        self.last_reset = "reload"
        await super().reload_page(page)

    async def advance_clock(self, page: Any, ms: int) -> None:
        """Run the page's fake clock: deferred to the :meth:`evaluate` that always follows, same call.

        Playwright's ``clock.run_for`` would cost a call of its own, and it also adds an init script to
        the context every time; they pile up over a pooled page's life and replay in every document.
        """
        self._clock_due += ms

    async def _screenshot(self, page: Any) -> bytes:  # type: ignore[override]
        """The viewport as PNG; a plain CDP capture (same bytes, less work) unless CSS animations run."""
        if await page.evaluate("document.getAnimations().length"):
            return await BrowserEnv._screenshot(page)  # finishes the animations first
        return await _capture(page)

    async def _observe(self) -> Snapshot:
        read, self._read = self._read, None  # what evaluate() just read of the page, DOM included
        if read is None:
            return await super()._observe()
        page = self._page
        png = None
        if self.observation_mode != "dom":
            png = await (BrowserEnv._screenshot(page) if read["animations"] else _capture(page))
        return Snapshot(png, read["dom"]["text"], read["dom"]["boxes"], page.url)

    def _reset(self, options: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        self.last_reset = "new"  # reload_page says otherwise when it runs
        self._clock_due, self._read = 0, None  # nothing carried over from an episode that failed
        return super()._reset(options)

    async def begin_episode(self, page: Any, seed: int) -> None:
        """Seed the page's RNG and start the task; wait (on the fake clock) until it is ready."""
        if await page.evaluate(_START, seed):
            return
        for _ in range(READY_POLLS):
            if await page.evaluate("async () => { await " + _RUN_CLOCK + "(50); return " + _READY + "; }"):
                return
        raise EnvError(f"MiniWoB task {self.task_name} did not become ready")

    async def read_instruction(self, page: Any) -> str:
        """The page's utterance (``core.getUtterance()``)."""
        if self._read is not None:
            return str(self._read["utterance"])
        return str(await page.evaluate("core.getUtterance()"))

    async def evaluate(self, page: Any) -> PageOutcome:
        """The page's done flag and reward (read in one call with the utterance and the observation)."""
        opts = {"skipIds": list(self.skip_element_ids), "maxNodes": self.max_dom_nodes}
        opts["runMs"], self._clock_due = self._clock_due, 0
        self._read = read = await page.evaluate(_READ, opts)
        done, raw, timed, reason = read["state"]
        if not done:
            return PageOutcome()
        reward = float(raw if self.reward_mode == "raw" else timed)
        details = {"raw_reward": float(raw), "reason": None if reason is None else str(reason)[:200]}
        return PageOutcome(reward, True, passed=float(raw) > 0, details=details)

    def make_task(self, seed: int) -> Task:
        """The task record: the MiniWoB page and the page seed."""
        return Task(family="gui", spec={"miniwob": self.task_name, "seed": seed}, meta={"source": "miniwob"})

    def oracle_action(self) -> Any:
        """The scripted solver's next action (tasks in ``oracles.ORACLES``)."""
        from agentgym.environments.gui.oracles import oracle_action

        if self.page is None:
            raise EnvError("call reset() before asking the oracle")
        return oracle_action(self)

    @property
    def has_oracle(self) -> bool:
        """True for the tasks with a scripted solver."""
        from agentgym.environments.gui.oracles import ORACLES

        return self.task_name in ORACLES

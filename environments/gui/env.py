"""``BrowserEnv``: a real page in headless Chromium, seen as a screenshot and/or simplified DOM.

Use it directly for any local page::

    env = BrowserEnv("http://127.0.0.1:8000/", instruction="Buy a red mug", observation="both")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("click(3)")

or subclass it to give a page its task. The hooks are coroutines run on the browser thread's event
loop with the Playwright (async API) ``page`` of the episode; keep them quick and non-blocking:

- :meth:`load_page` (every episode, before it starts): navigation to ``start_url`` and image
  preloading; override to add per-load setup (styles). :meth:`prepare_page` (once per new context,
  possibly ahead of time) installs the fake clock and init script, then calls it. Override
  :meth:`page_key` too if loading depends on more than the URL.
- :meth:`begin_episode` ``(page, seed)``: start the episode on the loaded page (seed it, open a
  session URL...).
- :meth:`read_instruction` ``(page) -> str``: the instruction shown to the agent (default: the
  ``instruction`` argument).
- :meth:`evaluate` ``(page) -> PageOutcome``: reward and termination after every action (default:
  the ``reward_fn`` argument, an async callable ``(page) -> PageOutcome``, else reward 0, never
  done). :meth:`evaluate_done` is called instead when the agent says ``done`` (the episode ends).
- :meth:`make_task` ``(seed) -> Task``: the episode's :class:`Task` (its id is ``info["task_id"]``).
- :meth:`advance_clock` ``(page, ms)``: runs the fake clock after the episode's start and each action
  (default: Playwright's ``clock.run_for``); :attr:`extra_init_script` adds a page script.

Time is virtual: each context gets Playwright's fake clock, paused at a fixed date; the episode's
start and every action advance it by ``step_ms`` (``wait`` by one more second), so timers,
animations and time-dependent rewards are the same on every run. Screenshots hide the caret
and finish CSS animations.
``isolation="context"`` (default) gives each episode a new browser context, the next one prepared in
the background; ``isolation="page"`` reuses pooled pages, reloaded with cookies, storage, pointer and
clock reset (about a third of the CPU: no new renderer process per episode). Every browser call has a
timeout; a crash or timeout ends the episode (truncated, unscored verdict) and the next reset
relaunches what died. A context loads only :meth:`page_origin` (see :mod:`.origin`); what a page tried
to load elsewhere is refused and named in the next observation (``blocked: ...``, ``info["blocked"]``).
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar
from urllib.parse import urlparse

import numpy as np

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.environments.gui.actions import ACTION_HELP, GUI_TOOLS, ActionError, GuiAction, parse_action
from agentgym.environments.gui.browser import BrowserCrashed, BrowserHost, PageKey, close_in_background
from agentgym.environments.gui.dom import INIT_SCRIPT, PRELOAD_IMAGES
from agentgym.environments.gui.observation import answer, error_reply, take_snapshot, user_message
from agentgym.environments.gui.origin import Origin, blocked_lines
from agentgym.environments.gui.page import PageOutcome, Snapshot, check_start_url
from agentgym.environments.gui.perform import WAIT_MS, perform

__all__ = ["WAIT_MS", "BrowserEnv", "PageOutcome", "Snapshot", "check_start_url"]

OBSERVATION_MODES = ("screenshot", "dom", "both")
ISOLATIONS = ("context", "page")
FIXED_EPOCH_S = 1_700_000_000  # pages start at this fake time: 2023-11-14T22:13:20Z
OPEN_TIMEOUT_FACTOR = 3  # opening an episode may wait for a browser launch and a context


class BrowserEnv(Env):
    """A page in headless Chromium driven by the unified GUI action space (see the module doc)."""

    family: ClassVar[str] = "gui"
    tools = GUI_TOOLS
    step_in_thread = True  # sync calls wait on the browser thread; areset/astep run them in a worker thread
    #: Extra screenshots taken until two in a row match: pages with their own timers or late layout
    #: (not MiniWoB's, whose clock is frozen) settle before the agent sees them; 0 takes one shot.
    stable_screenshot_tries: int = 0
    system_prompt: ClassVar[str] = "You operate a web page in a browser to complete the task you are given."
    #: Page script run after INIT_SCRIPT in every document of the env's contexts (subclasses add to it).
    extra_init_script: ClassVar[str] = ""

    def __init__(
        self,
        start_url: str = "about:blank",
        *,
        html: str | None = None,
        instruction: str = "",
        observation: str = "both",
        viewport: tuple[int, int] = (800, 600),
        step_ms: int = 100,
        timeout_s: float = 20.0,
        max_dom_nodes: int = 300,
        reward_fn: Any = None,
        isolation: str = "context",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode=render_mode)
        if isolation not in ISOLATIONS:
            raise EnvError(f"isolation must be one of {ISOLATIONS}, got {isolation!r}")
        if observation not in OBSERVATION_MODES:
            raise EnvError(f"observation must be one of {OBSERVATION_MODES}, got {observation!r}")
        width, height = viewport
        if not (16 <= int(width) <= 4096 and 16 <= int(height) <= 4096):
            raise EnvError(f"viewport must be within 16..4096 pixels, got {viewport!r}")
        if not 0 <= step_ms <= 60_000 or not 0 < timeout_s <= 600:
            raise EnvError("step_ms must be in [0, 60000] and timeout_s in (0, 600]")
        self.start_url = check_start_url(start_url)
        self.html = html
        self.instruction = instruction
        self.observation_mode = observation
        self.viewport = (int(width), int(height))
        self.step_ms = int(step_ms)
        self.timeout_s = float(timeout_s)
        self.max_dom_nodes = int(max_dom_nodes)
        self.reward_fn = reward_fn
        self.isolation = isolation
        self.skip_element_ids: tuple[str, ...] = ()
        self.preload_images: tuple[str, ...] = ()
        self._host: BrowserHost | None = None
        self._context: Any = None
        self._page: Any = None
        self._snapshot: Snapshot | None = None
        self._outcome = PageOutcome()
        self._pointer = (0.0, 0.0)
        self.page_seed = 0
        self.current_instruction = ""
        self.crashes = 0

    # ----- hooks (coroutines on the browser loop) --------------------------------------------------
    def page_key(self) -> str:
        """Pages prepared with equal keys are interchangeable (used to prepare the next one early)."""
        return f"{type(self).__name__}|{self.start_url}|{hash(self.html)}"

    def page_origin(self) -> Origin:
        """What the episode's contexts may load (see :mod:`.origin`): the start URL's origin only."""
        return Origin.of_url(self.start_url)

    async def prepare_page(self, page: Any) -> None:
        """New context's page: paused fake clock, init script (seeded RNG, frames), :meth:`load_page`."""
        page.set_default_timeout(self.timeout_s * 1000)
        await page.clock.install(time=FIXED_EPOCH_S - 60)
        await page.clock.pause_at(FIXED_EPOCH_S)  # a minute ahead: no page is loaded yet, nothing fires
        await page.add_init_script(INIT_SCRIPT + self.extra_init_script)  # after the clock's own script
        await self.load_page(page)

    async def reload_page(self, page: Any) -> None:
        """A pooled page made like new (``isolation="page"``): pointer, storage, clock reset; reload."""
        await page.mouse.move(0, 0)
        await page.context.clear_cookies()
        origin = urlparse(page.url)
        if origin.scheme in ("http", "https", "file"):
            session = await page.context.new_cdp_session(page)
            try:
                where = "file://" if origin.scheme == "file" else f"{origin.scheme}://{origin.netloc}"
                await session.send("Storage.clearDataForOrigin", {"origin": where, "storageTypes": "all"})
            finally:
                await session.detach()
        await page.goto("about:blank")
        await page.clock.set_system_time(FIXED_EPOCH_S)  # stays paused: the new document starts at the epoch
        await self.load_page(page)

    async def load_page(self, page: Any) -> None:
        """Navigate to ``start_url`` (or set ``html``) and preload the images the page names."""
        if self.html is not None:
            await page.set_content(self.html, wait_until="load")
        elif self.start_url != "about:blank":
            await page.goto(self.start_url, wait_until="load")
        await page.evaluate(PRELOAD_IMAGES, list(self.preload_images))

    async def begin_episode(self, page: Any, seed: int) -> None:
        """Start the episode on the prepared page (default: nothing to do)."""

    async def advance_clock(self, page: Any, ms: int) -> None:
        """Advance the page's paused fake clock by ``ms``, firing the timers that fall due."""
        await page.clock.run_for(ms)

    async def read_instruction(self, page: Any) -> str:
        """The task instruction shown to the agent."""
        return self.instruction

    async def evaluate(self, page: Any) -> PageOutcome:
        """Reward and termination after an action (default: ``reward_fn`` or nothing)."""
        if self.reward_fn is not None:
            return await self.reward_fn(page)
        return PageOutcome()

    async def evaluate_done(self, page: Any) -> PageOutcome:
        """The outcome when the agent declares ``done`` (the episode then ends)."""
        outcome = await self.evaluate(page)
        outcome.done = True
        return outcome

    def make_task(self, seed: int) -> Task:
        """The episode's task record."""
        spec = {"url": self.start_url, "seed": seed, "instruction": self.instruction}
        return Task(family="gui", spec=spec, meta={"env": type(self).__name__})

    # ----- the browser ---------------------------------------------------------------------------
    @property
    def page(self) -> Any:
        """The Playwright page of the current episode (None between episodes)."""
        return self._page

    def run(self, coro: Any, timeout_s: float | None = None) -> Any:
        """Run a coroutine on the browser loop and return its result (BrowserCrashed on timeout)."""
        if self._host is None:
            self._host = BrowserHost.get()
            self._host.acquire()
        return self._host.call(coro, timeout_s or self.timeout_s)

    def _key(self) -> PageKey:
        return PageKey(self.viewport[0], self.viewport[1], self.page_key(), self.page_origin())

    async def _open(self, seed: int) -> tuple[str, Snapshot, list[str]]:
        assert self._host is not None
        self._release_page()
        if self.isolation == "page":
            pair = await self._host.reuse_page(self._key(), self.prepare_page, self._reload)
        else:
            pair = await self._host.new_page(self._key(), self.prepare_page)
        self._context, self._page = pair
        self._pointer = (0.0, 0.0)
        await self.begin_episode(self._page, seed)
        if self.step_ms:  # let zero-delay timers (widget layout, focus) run before the first look
            await self.advance_clock(self._page, self.step_ms)
        self._outcome = await self.evaluate(self._page)
        instruction = await self.read_instruction(self._page)
        snapshot = await self._observe()
        return instruction, snapshot, blocked_lines(self._context)

    async def _reload(self, page: Any) -> None:
        blocked_lines(page.context)  # what the page's last episode tried is not this one's
        await self.reload_page(page)

    def _release_page(self, reusable: bool = True) -> None:
        """Pool the page (``isolation="page"``) or close its context in the background."""
        context, page, self._context, self._page = self._context, self._page, None, None
        if context is None:
            return
        if reusable and self.isolation == "page" and self._host is not None and not page.is_closed():
            self._host.recycle(self._key(), (context, page))
        else:
            close_in_background(context)

    async def _close_page(self, reusable: bool = False) -> None:
        self._release_page(reusable)

    async def _observe(self) -> Snapshot:
        return await take_snapshot(
            self._page,
            mode=self.observation_mode,
            shoot=self._screenshot,
            skip_ids=self.skip_element_ids,
            max_nodes=self.max_dom_nodes,
            stable_tries=self.stable_screenshot_tries,
        )

    @staticmethod
    async def _screenshot(page: Any) -> bytes:
        return await page.screenshot(type="png", animations="disabled", caret="hide", scale="css")

    # ----- Env hooks -------------------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = options.get("task")
        if task is not None:
            if not isinstance(task, Task) or "seed" not in task.spec:
                raise EnvError("options['task'] must be a Task with a 'seed' in its spec")
            self.page_seed = int(task.spec["seed"])
        else:
            self.page_seed = int(self.np_random.integers(2**31 - 1))
        self.task = task if task is not None else self.make_task(self.page_seed)
        for attempt in range(2):  # a dead browser is relaunched once
            try:
                self.current_instruction, self._snapshot, blocked = self.run(
                    self._open(self.page_seed), OPEN_TIMEOUT_FACTOR * self.timeout_s
                )
                break
            except Exception as exc:
                if attempt or not _is_browser_failure(exc):
                    raise EnvError(f"{type(self).__name__}: could not open the page: {exc}") from exc
                self.crashes += 1
        system = Message("system", f"{self.system_prompt}\n{ACTION_HELP}")
        obs = [system, self._user_message("\n".join(["The page is open.", *blocked]))]
        info = {"seed": self.page_seed, "url": self._snapshot.url}  # type: ignore[union-attr]
        return obs, {**info, "blocked": blocked} if blocked else info

    def _step(self, action: Message) -> StepResult:
        try:
            parsed = parse_action(action)
        except ActionError as exc:
            return self._reply_error(str(exc), action)
        try:
            problem, outcome, snapshot, blocked = self.run(self._apply(parsed))
        except Exception as exc:
            if not _is_browser_failure(exc):
                raise
            return self._crashed(exc)
        if problem:
            return self._reply_error(problem, action)
        self._outcome, self._snapshot = outcome, snapshot
        done = outcome.done or parsed.kind == "done"
        status = f"Done: {parsed.to_text()}." + (" The episode is over." if done else "")
        obs = self._answer(action, "\n".join([status, *blocked]))
        verdict = self._make_verdict() if done else None
        info = {"action": parsed.to_dict(), **({"outcome": outcome.details} if outcome.details else {})}
        if blocked:
            info["blocked"] = blocked
        return StepResult(
            obs, reward=outcome.reward if done else 0.0, terminated=done, info=info, verdict=verdict
        )

    async def _apply(self, act: GuiAction) -> tuple[str, PageOutcome, Snapshot | None, list[str]]:
        page = self._page
        if page is None:
            raise BrowserCrashed("no page is open")
        done = await perform(page, act, self.viewport, self._pointer)
        if done.problem:
            return done.problem, self._outcome, None, []
        self._pointer = done.pointer
        if self.step_ms + done.extra_ms:
            await self.advance_clock(page, self.step_ms + done.extra_ms)
        outcome = await (self.evaluate_done(page) if act.kind == "done" else self.evaluate(page))
        return "", outcome, await self._observe(), blocked_lines(page.context)

    # ----- observations ----------------------------------------------------------------------------
    def _user_message(self, status: str) -> Message:
        assert self._snapshot is not None
        mode, viewport = self.observation_mode, self.viewport
        return user_message(self._snapshot, status, self.current_instruction, mode, viewport)

    def _answer(self, action: Message, status: str) -> list[Message]:
        return answer(action, status, self._user_message(status))

    def _reply_error(self, problem: str, action: Message) -> StepResult:
        return error_reply(problem, action, self.format_penalty)

    def _crashed(self, exc: BaseException) -> StepResult:
        self.crashes += 1
        try:
            self.run(self._close_page())
        except Exception:
            self._context = self._page = None
        problem = f"the browser failed ({type(exc).__name__}: {str(exc)[:200]})"
        self._verdict = Verdict(0.0, False, kind="gui", details={"reason": problem}, error=problem)
        text = f"The page crashed or stopped responding; the episode ends. ({problem})"
        return StepResult(
            [Message("user", text)], truncated=True, info={"env_error": problem}, verdict=self._verdict
        )

    # ----- judgement, scripted policies, lifetime -----------------------------------------------------
    def _make_verdict(self) -> Verdict:
        o = self._outcome
        passed = o.passed if o.passed is not None else o.reward > 0
        return Verdict(max(0.0, min(1.0, float(o.reward))), bool(passed), kind="gui", details=dict(o.details))

    def verdict(self) -> Verdict:
        """The page's outcome so far (reward clipped to [0, 1]; passed when the page says so)."""
        if self._verdict is not None:
            return self._verdict
        if self.task is None:
            return super().verdict()
        return self._make_verdict()

    @property
    def element_boxes(self) -> dict[int, list[int]]:
        """Boxes ``[x, y, w, h]`` of the elements in the last observation, by element id."""
        return {int(k): v for k, v in (self._snapshot.boxes if self._snapshot else {}).items()}

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random action: mostly clicks on elements or points, sometimes typing, keys or done."""
        u = float(rng.random())
        ids = sorted(self.element_boxes)
        if u < 0.45 and ids:
            return f"click({ids[int(rng.integers(len(ids)))]})"
        if u < 0.7:
            return f"click({int(rng.integers(self.viewport[0]))}, {int(rng.integers(self.viewport[1]))})"
        if u < 0.8:
            return f'type("{"".join(chr(97 + int(c)) for c in rng.integers(0, 26, 3))}")'
        if u < 0.87:
            return f'press("{["Enter", "Tab", "Backspace", "ArrowDown"][int(rng.integers(4))]}")'
        if u < 0.93:
            return f"scroll(0, {int(rng.integers(-100, 101))})"
        return "wait" if u < 0.97 else "done"

    def close(self) -> None:
        """Close the episode's context and release the shared browser."""
        if self._host is not None:
            with contextlib.suppress(Exception):
                self.run(self._close_page(reusable=True))
            self._host.release()
            self._host = None
        super().close()


def _is_browser_failure(exc: BaseException) -> bool:
    if isinstance(exc, BrowserCrashed):
        return True
    module = type(exc).__module__ or ""
    return module.startswith("playwright")

"""MiniWoB++ tasks (the HTML shipped in the ``miniwob`` package) as :class:`BrowserEnv` episodes.

An episode loads ``miniwob/html/miniwob/<task>.html`` in a fresh context, seeds the page's RNG
(``Math.seedrandom(seed)``, the seed drawn from the env's RNG or given as ``options["task"]``),
and starts it with ``core.startEpisodeReal()``. The reward is the page's own
(``WOB_RAW_REWARD_GLOBAL``, in [-1, 1]; ``reward_mode="time"`` gives the time-discounted
``WOB_REWARD_GLOBAL`` instead, on the virtual clock) once ``WOB_DONE_GLOBAL`` is set. The page's
episode timer (``core.EPISODE_MAX_TIME``, 10 s) runs on the fake clock too: each action advances it by
``step_ms`` (100 ms), ``wait`` by one more second, so a page times out (reward -1) after ~100 actions.
The instruction (``core.getUtterance()``) is in every observation. MiniWoB envs default to
``isolation="page"`` (a pooled page reloaded per episode: see :class:`BrowserEnv`); pass
``isolation="context"`` for a new browser context per episode.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

from agentgym.core.errors import EnvError
from agentgym.core.task import Task
from agentgym.environments.gui.env import BrowserEnv, PageOutcome

TASK_WIDTH, TASK_HEIGHT = 160, 210
READY_POLLS = 20
REWARD_MODES = ("raw", "time")
_STATE = "[WOB_DONE_GLOBAL, WOB_RAW_REWARD_GLOBAL, WOB_REWARD_GLOBAL, WOB_REWARD_REASON]"


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

    def __init__(
        self,
        task: str,
        observation: str = "both",
        reward_mode: str = "raw",
        step_ms: int = 100,
        timeout_s: float = 20.0,
        isolation: str = "page",
        render_mode: str | None = None,
    ) -> None:
        if reward_mode not in REWARD_MODES:
            raise EnvError(f"reward_mode must be one of {REWARD_MODES}, got {reward_mode!r}")
        path = miniwob_html_dir() / f"{task}.html"
        if not path.is_file():
            raise EnvError(f"no MiniWoB++ task {task!r} in {miniwob_html_dir()}")
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
        self.skip_element_ids = ("query", "reward-display", "sync-task-cover", "click-canvas")
        self.preload_images = stylesheet_images(path)

    async def load_page(self, page: Any) -> None:
        """Load the page with the reward panel and click canvas hidden (they sit right of the task)."""
        await super().load_page(page)
        # Without them the document is no wider than the 160 px task: a widget that takes the
        # focus (a dialog's close button) cannot scroll the view sideways off the task.
        await page.add_style_tag(content="#reward-display, #click-canvas { display: none !important; }")

    async def begin_episode(self, page: Any, seed: int) -> None:
        """Seed the page's RNG and start the task; wait (on the fake clock) until it is ready."""
        await page.evaluate("(seed) => { Math.seedrandom(seed); core.startEpisodeReal(); }", seed)
        for _ in range(READY_POLLS):
            if await page.evaluate("typeof WOB_TASK_READY === 'undefined' || WOB_TASK_READY"):
                return
            await page.clock.run_for(50)
        raise EnvError(f"MiniWoB task {self.task_name} did not become ready")

    async def read_instruction(self, page: Any) -> str:
        """The page's utterance (``core.getUtterance()``)."""
        return str(await page.evaluate("core.getUtterance()"))

    async def evaluate(self, page: Any) -> PageOutcome:
        """The page's done flag and reward."""
        done, raw, timed, reason = await page.evaluate(_STATE)
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

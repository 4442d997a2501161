"""``webshop/shop-browser-v0``: the same shop driven through a real browser (screenshots, clicks).

The shop server runs in a background thread on 127.0.0.1 (one per catalog and process); each
episode opens a session for its instruction and the browser joins it (``/start/<sid>``). The GUI
env of :mod:`agentgym.environments.gui` does the browsing: screenshots and/or the simplified DOM,
``click`` / ``type`` / ``press`` / ``scroll`` actions. Buying ends the episode with WebShop's reward
from the engine; ``done`` without buying ends it with 0.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, ClassVar

import numpy as np

from agentgym.core.errors import EnvError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.environments.gui.env import BrowserEnv, PageOutcome
from agentgym.environments.webshop import oracle
from agentgym.environments.webshop.app import ShopServer, location_of
from agentgym.environments.webshop.background import RunningShop, start_shop
from agentgym.environments.webshop.engine import BACK_TO_SEARCH, BUY, NEXT, PREV, RESULTS, SEARCH, TABS
from agentgym.tasks.splits import SPLITS, draw_task, given_task, split_of

_shops: dict[tuple[int, int], RunningShop] = {}
_shops_lock = threading.Lock()

# Page-side lookup of the element a text action names: its agent id (data-agid) or centre, and the
# search box's state.
_FIND = """
([sel]) => {
  const el = sel ? document.querySelector(sel) : null;
  const box = document.querySelector('#search-input');
  const out = {found: false, focused: box !== null && document.activeElement === box,
               value: box ? box.value : null, box: box && box.dataset.agid ? box.dataset.agid : null};
  if (!el) return out;
  const r = el.getBoundingClientRect();
  return {...out, found: true, agid: el.dataset.agid || null,
          x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2)};
}
"""


def running_shop(catalog_size: int, catalog_seed: int) -> RunningShop:
    """The process's shop server for a catalog, started on first use."""
    key = (catalog_size, catalog_seed)
    with _shops_lock:
        if key not in _shops:
            _shops[key] = start_shop(ShopServer(catalog_size=catalog_size, catalog_seed=catalog_seed))
        return _shops[key]


def _selector(label: str) -> str:
    label = label.strip().lower()
    fixed = {BACK_TO_SEARCH: "#back-to-search", PREV: "#prev", NEXT: "#next", BUY: "#buy-now"}
    if label in fixed:
        return fixed[label]
    if label in TABS:
        return f"#tab-{label}"
    if label.startswith("b0") and len(label) == 10:
        return f'.product-link[data-asin="{label.upper()}"]'
    return f'.option[data-value="{label}"]'


class ShopBrowserEnv(BrowserEnv):
    """Shop for an instruction in a real browser (catalog of ``catalog_size`` products)."""

    stable_screenshot_tries = 2  # shop pages lay out as they load: shoot until two shots match

    family: ClassVar[str] = "webshop"
    system_prompt: ClassVar[str] = (
        "You are shopping in a web shop, in a browser, for the product the instruction describes: "
        "search, open products, choose their options, then click Buy Now (buying ends the episode)."
    )

    def __init__(
        self,
        catalog_size: int = 1000,
        catalog_seed: int = 0,
        difficulty: dict[str, Any] | None = None,
        split: str = "train",
        observation: str = "both",
        viewport: tuple[int, int] = (1000, 800),
        **browser: Any,
    ) -> None:
        if split not in SPLITS:
            raise EnvError(f"split must be one of {SPLITS}, got {split!r}")
        self.shop = running_shop(catalog_size, catalog_seed)
        super().__init__(f"{self.shop.url}/healthz", observation=observation, viewport=viewport, **browser)
        self.generator = self.shop.shop.generator
        if difficulty:
            from agentgym.tasks.webshop.instructions import InstructionGenerator

            try:
                self.generator = InstructionGenerator(
                    catalog_size=catalog_size,
                    catalog_seed=catalog_seed,
                    product_lookup=self.shop.shop.engine.data.product,
                    **difficulty,
                )
            except (TypeError, ValueError) as exc:
                raise EnvError(str(exc)) from exc
        self.split = split
        self.sid = ""
        self._given: Task | None = None
        self.searched: list[str] = []

    # ----- tasks and episodes ---------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        self._given = given_task(options, self.generator)
        options.pop("task", None)
        self.searched = []
        obs, info = super()._reset(options)
        return obs, {**info, "split": split_of(self.task)} if self.task is not None else info

    def make_task(self, seed: int) -> Task:
        """The given task, else the first instruction of this env's split drawn from ``seed``."""
        if self._given is not None:
            return self._given
        return draw_task(self.generator, np.random.default_rng(seed), self.split)

    async def begin_episode(self, page: Any, seed: int) -> None:
        """Open a shop session for the episode's task and join it in the browser."""
        assert self.task is not None
        self.sid = self.shop.shop.open_session(self.task)
        await page.goto(f"{self.shop.url}/start/{self.sid}", wait_until="load")

    async def read_instruction(self, page: Any) -> str:
        """The task's instruction (also shown on every shop page)."""
        return self.task.spec["instruction"] if self.task is not None else ""

    async def settle(self, page: Any) -> None:
        """Wait until a navigation the last action started has loaded the next page."""
        deadline = time.monotonic() + self.timeout_s / 2
        while time.monotonic() < deadline:
            try:
                leaving = await page.evaluate("() => window.__shopLeaving === true")
            except Exception:  # the old document went away mid-call: the next one is committing
                leaving = True
            if not leaving:
                await page.wait_for_load_state("load")
                return
            await asyncio.sleep(0.02)

    async def evaluate(self, page: Any) -> PageOutcome:
        """WebShop's reward once the session bought something (the engine's verdict)."""
        await self.settle(page)
        session = self.shop.shop.sessions.get(self.sid)
        if session is None or session.verdict is None:
            return PageOutcome()
        v = session.verdict
        return PageOutcome(reward=v.score, done=True, passed=v.passed, details=dict(v.details))

    def _make_verdict(self) -> Verdict:
        session = self.shop.shop.sessions.get(self.sid)
        if session is not None and session.verdict is not None:
            return session.verdict
        return Verdict(0.0, False, kind="webshop", details={"reason": "nothing bought"})

    # ----- scripted shopper ---------------------------------------------------------------------
    def oracle_action(self) -> str:
        """The text oracle's next move, acted out with GUI actions (click an element, type, Enter)."""
        if self.task is None or self._snapshot is None:
            raise EnvError("call reset() before asking the oracle")
        loc = location_of(self._snapshot.url)
        if loc.kind == RESULTS and loc.query not in self.searched:
            self.searched.append(loc.query)
        engine = self.shop.shop.engine
        goal = oracle.parse_instruction(self.task.spec["instruction"])
        move = oracle.next_action(engine, engine.view(loc), goal, self.searched)
        kind, arg = move.split("[", 1)
        arg = arg[:-1]
        if kind == "search" and loc.kind == SEARCH:
            state = self.run(self.page.evaluate(_FIND, [None]))
            if state["value"] == arg:
                return 'press("Enter")'
            if not state["focused"]:
                return f"click({state['box']})" if state["box"] else "click(400, 150)"
            return 'press("Control+a")' if state["value"] else f"type({json.dumps(arg)})"
        state = self.run(self.page.evaluate(_FIND, [_selector(arg)]))
        if not state["found"]:
            return "scroll(0, 400)"
        if state.get("agid"):
            return f"click({state['agid']})"
        x, y = state["x"], state["y"]
        if 0 <= x < self.viewport[0] and 0 <= y < self.viewport[1]:
            return f"click({x}, {y})"
        return f"scroll(0, {400 if y >= self.viewport[1] else -400})"

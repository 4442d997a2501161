"""``webshop/shop-text-v0``: WebShop's text mode over the generated shop.

Actions are WebShop's ``search[query]`` (on the search page) and ``click[element]`` (any element
the page lists), written in the reply (the last one counts) or as the ``search`` / ``click`` tools.
Observations are the page as text with its clickable elements. Buying ends the episode with
WebShop's reward; the Verdict holds its breakdown (type, attributes, options, price).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message, tool_result
from agentgym.core.tools import ToolCallError, ToolSpec, object_schema, parse_tool_calls
from agentgym.core.verdict import Verdict
from agentgym.environments.webshop import oracle
from agentgym.environments.webshop.engine import DONE, SEARCH, Location, ShopActionError, ShopEngine
from agentgym.environments.webshop.reward import purchase_verdict
from agentgym.environments.webshop.store import open_shop_data
from agentgym.environments.webshop.text import render_text
from agentgym.tasks.splits import SPLITS, pose_task, split_of
from agentgym.tasks.webshop.instructions import InstructionGenerator

SEARCH_TOOL = ToolSpec(
    "search",
    "Search the shop (only on the search page).",
    object_schema({"query": {"type": "string", "maxLength": 500}}),
)
CLICK_TOOL = ToolSpec(
    "click",
    "Click an element the page lists (a product id, an option value, 'buy now', 'next >', ...).",
    object_schema({"element": {"type": "string", "maxLength": 500}}),
)
_TEXT_ACTION = re.compile(r"\b(search|click)\[([^\[\]\n]{0,500})\]", re.IGNORECASE)
INSTRUCTIONS = (
    "You are shopping in a web shop for the product the instruction describes. Each turn, give one "
    "action: search[query] on the search page, or click[element] with an element the page lists "
    "(a product id to open it, an option value to select it, description / features / reviews, "
    "< prev, next >, back to search, or buy now). Choose the product's options before you click "
    "buy now; buying ends the episode. Write the action in your reply (the last one counts) or call "
    "the search / click tool."
)


class ShopTextEnv(Env):
    """Shop for an instruction in WebShop's text mode (catalog of ``catalog_size`` products)."""

    family = "webshop"
    tools = (SEARCH_TOOL, CLICK_TOOL)
    supports_fork = True
    supports_pickle = True
    step_in_thread = True  # a search over 1M products takes ~20 ms of CPU: keep it off the event loop

    def __init__(
        self,
        catalog_size: int = 1000,
        catalog_seed: int = 0,
        difficulty: dict[str, Any] | None = None,
        split: str = "train",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode=render_mode)
        if split not in SPLITS:
            raise EnvError(f"split must be one of {SPLITS}, got {split!r}")
        self.catalog_size, self.catalog_seed, self.split = catalog_size, catalog_seed, split
        self.difficulty = dict(difficulty or {})
        try:
            InstructionGenerator(catalog_size=catalog_size, catalog_seed=catalog_seed, **self.difficulty)
        except (TypeError, ValueError) as exc:
            raise EnvError(str(exc)) from exc
        self._open()
        self.location = Location()
        self.searched: list[str] = []
        self.format_errors = 0

    # ----- pickling: the catalog is reopened (from the process cache or disk), not copied ---------
    def _open(self) -> None:
        data = open_shop_data(self.catalog_size, self.catalog_seed)
        self.engine = ShopEngine(data)
        self.generator = InstructionGenerator(
            catalog_size=self.catalog_size,
            catalog_seed=self.catalog_seed,
            product_lookup=data.product,
            **self.difficulty,
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("engine", None)
        state.pop("generator", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._open()

    # ----- episode ---------------------------------------------------------------------------------
    @property
    def instruction(self) -> str:
        """The current task's instruction text."""
        return self.task.spec["instruction"] if self.task is not None else ""

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = pose_task(options, self.generator, self.np_random, self.split)
        if task.spec["catalog"] != {"size": self.catalog_size, "seed": self.catalog_seed}:
            raise EnvError(f"the task is for catalog {task.spec['catalog']}, this env serves another")
        self.task = task
        self.location = Location()
        self.searched = []
        self.format_errors = 0
        obs = [Message("system", INSTRUCTIONS), Message("user", self.page_text())]
        return obs, {"split": split_of(task), "difficulty": dict(task.difficulty)}

    def page_text(self) -> str:
        """The current page as text."""
        return render_text(self.engine.view(self.location), self.instruction)

    def _step(self, action: Message) -> StepResult:
        try:
            calls = parse_tool_calls(action, self.tools)
        except ToolCallError as exc:
            return self._reply(action, f"Invalid action: bad tool call: {exc}", error=str(exc))
        if calls:
            call = calls[-1]
            kind, arg = call.name, str(call.arguments.get("query", call.arguments.get("element", "")))
        else:
            found = _TEXT_ACTION.findall(action.text)
            if not found:
                problem = "no action found; write search[query] or click[element]"
                return self._reply(action, f"Invalid action: {problem}.\n\n{self.page_text()}", error=problem)
            kind, arg = found[-1][0].lower(), found[-1][1]
        try:
            if kind == "search":
                self.location = self.engine.search(self.location, arg)
                self.searched.append(self.location.query)
            else:
                self.location = self.engine.click(self.location, arg)
        except ShopActionError as exc:
            return self._reply(action, f"Invalid action: {exc}.\n\n{self.page_text()}", error=str(exc))
        if self.location.kind == DONE:
            product, chosen = self.engine.purchase(self.location)
            verdict = purchase_verdict(product, self.task.spec["goal"], chosen)  # type: ignore[union-attr]
            text = render_text(self.engine.view(self.location), self.instruction)
            text += f"\nYour score (min 0.0, max 1.0): {verdict.score:.4f}"
            return self._reply(action, text, reward=verdict.score, verdict=verdict)
        return self._reply(action, self.page_text())

    def _reply(
        self,
        action: Message,
        text: str,
        reward: float = 0.0,
        verdict: Verdict | None = None,
        error: str | None = None,
    ) -> StepResult:
        if error is not None:
            self.format_errors += 1
            reward = self.format_penalty
        native = bool(action.tool_calls) and all(c.id for c in action.tool_calls)
        obs = [tool_result(c.id, text) for c in action.tool_calls] if native else [Message("user", text)]
        info = {"page": self.location.kind} | ({"action_error": error} if error else {})
        return StepResult(obs, reward=reward, terminated=verdict is not None, verdict=verdict, info=info)

    # ----- judgement and scripted policies -----------------------------------------------------------
    def verdict(self) -> Verdict:
        """The purchase's verdict, or a 0 verdict when the episode ended without buying."""
        if self._verdict is not None:
            return self._verdict
        return Verdict(
            0.0, False, kind="webshop", details={"reason": "nothing bought", "page": self.location.kind}
        )

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random action: a search built from catalog words on the search page, else a random click."""
        view = self.engine.view(self.location)
        if self.location.kind == SEARCH:
            words = self.instruction.split() or ["shop"]
            picks = rng.choice(len(words), size=min(3, len(words)), replace=False)
            return f"search[{' '.join(words[int(i)] for i in sorted(picks))}]"
        return f"click[{view.clickables[int(rng.integers(len(view.clickables)))].label}]"

    def oracle_action(self) -> Action:
        """The scripted shopper's next action (see :mod:`agentgym.environments.webshop.oracle`)."""
        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        goal = oracle.parse_instruction(self.instruction)
        return oracle.next_action(self.engine, self.engine.view(self.location), goal, self.searched)

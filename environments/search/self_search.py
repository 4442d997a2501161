"""``search/self-search-v0``: SSRL self-search, where a model answers the search tool, not the corpus.

Two modes:

- ``simulator="self"`` (default): the policy is its own search engine. Each reply may hold
  ``<search>query</search>`` followed by ``<information>...</information>`` that the policy writes
  itself (SSRL's format), and ends with ``<answer>...</answer>``. A search without its information
  block gets a reminder; an answer ends the episode.
- ``simulator=<agent>`` (an :class:`~agentgym.core.agent.Agent` or a ``make_agent`` spec such as
  ``"bundled"``, ``"hf:/path"``, ``"openai:model"``): ``search(query)`` calls (native, text form or
  ``<search>query</search>``) are answered by that model, prompted to write the documents a search
  engine would return.

Reward as in ``search/qa-v0`` (exact or F1 against the gold answer and aliases); the verdict also
counts the searches and whether every search had its information (``format_ok``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from agentgym.core.env import Action, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message, tool_result
from agentgym.core.tools import ParsedCall, ToolCallError, parse_tool_calls
from agentgym.environments.search.qa import SearchQAEnv, _call
from agentgym.environments.search.tools import ANSWER, SEARCH
from agentgym.tasks.search.scoring import gold_answers
from agentgym.verifiers.rule.answer import last_answer_block

_SEARCH = re.compile(r"<search>(.*?)</search>", re.DOTALL | re.IGNORECASE)
_INFO = re.compile(r"<search>(.*?)</search>\s*<information>(.*?)</information>", re.DOTALL | re.IGNORECASE)
MAX_SIM_CHARS = 4000
SELF_PROMPT = (
    "Answer the question about {what}. You have no search engine: simulate one. For each search, "
    "write <search>your query</search> immediately followed by <information>the documents a search "
    "engine would return</information>. When you know the answer, write it as <answer>...</answer> "
    "(just the name, year or number)."
)
AGENT_PROMPT = (
    "Answer the question about {what}. Search with the search tool (or write <search>query</search>); "
    "give the final answer with the answer tool or as <answer>...</answer> (just the name, year or "
    "number). You have at most {budget} searches."
)
SIMULATOR_PROMPT = (
    "You are a search engine over {what}. For the query, write {k} short documents a search engine "
    "would return, each as 'Title: ...' then 'Text: ...'. Write only the documents."
)


class SelfSearchEnv(SearchQAEnv):
    """Search QA where the search results are written by a model (see the module docstring)."""

    def __init__(self, simulator: Any = "self", **kwargs: Any) -> None:
        self.simulator_spec = simulator
        self._simulator: Any = None
        super().__init__(**kwargs)
        if simulator == "self":
            self.tools = (ANSWER,)
        else:
            self.tools = (SEARCH, ANSWER)
            self.supports_pickle = self.supports_fork = False  # type: ignore[misc]  # the model is not copied

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_simulator"] = None
        return state

    def _system_prompt(self) -> str:
        what = (
            "a fictional encyclopedia" if self.task is not None and "world" in self.task.spec else "the world"
        )
        if self.simulator_spec == "self":
            return SELF_PROMPT.format(what=what)
        return AGENT_PROMPT.format(what=what, budget=self.max_calls)

    def simulator(self) -> Any:
        """The agent answering searches (built on first use from a ``make_agent`` spec)."""
        if self._simulator is None:
            if isinstance(self.simulator_spec, str):
                from agentgym.agents import make_agent

                self._simulator = make_agent(self.simulator_spec)
            else:
                self._simulator = self.simulator_spec
        return self._simulator

    def simulate(self, query: str) -> str:
        """The simulator model's results for ``query``."""
        from agentgym.core.agent import run_sync

        what = "an encyclopedia" if self.task is not None and "world" in self.task.spec else "the web"
        messages = [
            Message("system", SIMULATOR_PROMPT.format(what=what, k=self.k)),
            Message("user", f"Query: {query}"),
        ]
        reply = run_sync(self.simulator().act(messages))
        return reply.message.text.strip()[:MAX_SIM_CHARS] or "(no results)"

    def _step(self, action: Message) -> StepResult:
        if self.simulator_spec == "self":
            return self._self_step(action)
        text_searches = _SEARCH.findall(action.text) if not action.tool_calls else []
        if text_searches and last_answer_block(action.text) is None:
            texts = []
            for query in text_searches[: self.max_calls - self.calls]:
                self.calls += 1
                self.queries.append(query.strip())
                texts.append(f"<information>\n{self.simulate(query.strip())}\n</information>")
            return self._after_calls(texts, action)
        return super()._step(action)

    def _run_tool(self, call: ParsedCall, retrieved: list[str]) -> str:
        query = str(call.arguments["query"])
        self.queries.append(query)
        return self.simulate(query)

    def _after_calls(self, texts: list[str], action: Message) -> StepResult:
        truncated = self.calls >= self.max_calls
        if truncated:
            texts.append(f"You used all {self.max_calls} searches without answering.")
        obs = [Message("user", "\n\n".join(texts) or "No searches were run.")]
        verdict = self.verdict() if truncated else None
        return StepResult(obs, truncated=truncated, verdict=verdict, info={"calls": self.calls})

    def _self_step(self, action: Message) -> StepResult:
        try:
            calls = parse_tool_calls(action, self.tools)
        except ToolCallError as exc:
            return self._error(f"bad tool call: {exc}", action)
        pairs = _INFO.findall(action.text)
        searches = _SEARCH.findall(action.text)
        self.queries.extend(q.strip() for q, _ in pairs)
        self.calls += len(searches)
        self.self_search_missing += len(searches) - len(pairs)
        block = str(calls[-1].arguments["text"]) if calls else last_answer_block(action.text)
        if block is not None:
            verdict = self._judge(block.strip())
            text = "Answer received."
            obs = [tool_result(c.id, text, name=c.name) for c in action.tool_calls] or [Message("user", text)]
            return StepResult(obs, reward=verdict.score, terminated=True, verdict=verdict)
        if not searches:
            return self._error("no <search>, <information> or <answer> found", action)
        text = "Continue: search again (<search>...</search><information>...</information>) or answer."
        if len(pairs) < len(searches):
            text = "Each <search> must be followed by the <information> you write for it. " + text
        truncated = self.calls >= self.max_calls
        verdict = self.verdict() if truncated else None
        return StepResult(
            [Message("user", text)], truncated=truncated, verdict=verdict, info={"calls": self.calls}
        )

    def _new_episode(self) -> None:
        super()._new_episode()
        self.self_search_missing = 0

    def _stats(self) -> dict[str, Any]:
        stats = super()._stats()
        stats["format_ok"] = self.self_search_missing == 0 and self.format_errors == 0
        stats["simulator"] = (
            self.simulator_spec
            if isinstance(self.simulator_spec, str)
            else type(self.simulator_spec).__name__
        )
        return stats

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random self-search (a word of the question with made-up information) or answer."""
        words = str(self.task.spec["question"]).split() if self.task is not None else ["x"]
        word = words[int(rng.integers(len(words)))]
        if rng.random() < 0.6:
            if self.simulator_spec == "self":
                return f"<search>{word}</search><information>{word} is unknown.</information>"
            return f"<search>{word}</search>"
        return f"<answer>{word}</answer>"

    def oracle_action(self) -> Action:
        """Search each gold-path title (self mode: writing the true article as information), then answer."""
        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        path = list(self.task.spec.get("path") or [])
        if len(self.queries) < len(path):
            doc = self.engine.open(path[len(self.queries)])
            if doc is not None:
                if self.simulator_spec == "self":
                    return f"<search>{doc.title}</search>\n<information>\n{doc.text}\n</information>"
                return _call(SEARCH.name, {"query": doc.title})
        return f"<answer>{gold_answers(self.task)[0]}</answer>"

"""A single-turn env around any task generator: pose the task, read the final answer, verify it.

The agent answers inside ``<answer></answer>`` tags or through the ``submit_answer`` tool. A
readable answer ends the episode with the verifier's score; an unreadable one gets an error
observation and another try (up to the registered ``max_turns``). The generator's ``verify`` runs
under the verifier contract (:class:`~agentgym.verifiers.wrapped.GeneratorVerifier`: size cap, time
limit, unscored on error). Tasks drawn on ``reset`` come from the env's ``split`` (``train`` by
default), so training never sees a held-out task.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message, tool_result
from agentgym.core.tools import ToolCallError, ToolSpec, object_schema, parse_tool_calls
from agentgym.tasks.base import TaskGenerator
from agentgym.tasks.registry import make_generator
from agentgym.tasks.splits import SPLITS, pose_task, split_of
from agentgym.verifiers.wrapped import DEFAULT_TIMEOUT_S, GeneratorVerifier

SUBMIT = ToolSpec(
    "submit_answer",
    "Submit your final answer (the text that would go inside <answer></answer>).",
    object_schema({"answer": {"type": "string", "maxLength": 200_000}}),
)


class GeneratedTaskEnv(Env):
    """Poses tasks of one generator (``generator="puzzles/sudoku"``) with ``difficulty`` overrides."""

    family = "puzzles"
    tools = (SUBMIT,)
    supports_fork = True
    supports_pickle = True
    step_in_thread = False  # generation and rule checks are in-process CPU work

    def __init__(
        self,
        generator: str,
        difficulty: dict[str, Any] | None = None,
        split: str = "train",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode=render_mode)
        if split not in SPLITS:
            raise EnvError(f"split must be one of {SPLITS}, got {split!r}")
        self.generator: TaskGenerator = make_generator(generator, **(difficulty or {}))
        self.verifier = GeneratorVerifier(self.generator, timeout_s=self.verify_timeout_s())
        self.split = split

    def verify_timeout_s(self) -> float:
        """The time limit of one ``verify`` call (subclasses with slow scorers raise it)."""
        return DEFAULT_TIMEOUT_S

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self.task = pose_task(options, self.generator, self.np_random, self.split)
        system = f"{self.generator.instructions}\n\n{self.generator.answer_format}"
        obs = [Message("system", system), Message("user", self.generator.prompt(task))]
        return obs, {"difficulty": dict(task.difficulty), "split": split_of(task)}

    def _step(self, action: Message) -> StepResult:
        if self.task is None:  # the base class only steps after reset
            raise EnvError("stepped without a task")
        try:
            calls = parse_tool_calls(action, self.tools)
        except ToolCallError as exc:
            return self._retry(f"bad tool call: {exc}", None)
        call_id = calls[-1].id if calls and action.tool_calls else None
        response = f"<answer>{calls[-1].arguments['answer']}</answer>" if calls else action.text
        verdict = self.verifier.verify(self.task, response)
        problem = verdict.details.get("format_error")
        if problem and not verdict.unscored:
            return self._retry(str(problem), call_id)
        if verdict.unscored:
            text = f"Your answer could not be scored: {verdict.error}"
        elif verdict.passed:
            text = "Correct."
        else:
            text = f"Wrong. {verdict.details.get('feedback', '')}".strip()
        return StepResult([_reply(text, call_id)], reward=verdict.score, terminated=True, verdict=verdict)

    def _retry(self, problem: str, call_id: str | None) -> StepResult:
        text = f"Your answer could not be read: {problem}. {self.generator.answer_format}"
        return StepResult([_reply(text, call_id)], reward=self.format_penalty, info={"action_error": problem})

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A well-formed random answer."""
        if self.task is None:
            return "<answer></answer>"
        return self.generator.random_response(self.task, rng)

    def oracle_action(self) -> Action:
        """The generator's solver's answer."""
        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        return self.generator.oracle_response(self.task)


def _reply(text: str, call_id: str | None) -> Message:
    return tool_result(call_id, text, name=SUBMIT.name) if call_id else Message("user", text)

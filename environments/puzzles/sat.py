"""``puzzles/sat-v0``: answer a satisfying assignment of a generated k-SAT formula.

The agent sees the clauses and replies with ``<answer>1 0 1 ...</answer>`` (or calls the
``submit_assignment`` tool). A parsable answer ends the episode with reward 1.0 when it satisfies
every clause, else 0.0; an unparsable one gets an error observation and another try (up to the
registered ``max_turns``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from agentgym.tasks.puzzles.sat import SatConfig, generate_sat
from agentgym.verifiers.rule.sat import AnswerFormatError, parse_assignment, verify_sat

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message, ToolCall, tool_result
from agentgym.core.task import Task
from agentgym.core.tools import ToolCallError, ToolSpec, parse_tool_calls

SUBMIT = ToolSpec(
    name="submit_assignment",
    description="Submit your final assignment of x1..xn as space-separated 0/1 values.",
    parameters={
        "type": "object",
        "properties": {"assignment": {"type": "string", "maxLength": 200_000}},
        "required": ["assignment"],
        "additionalProperties": False,
    },
)

SYSTEM_PROMPT = (
    "You solve Boolean satisfiability (SAT) problems. A formula is a conjunction of clauses; a clause "
    "is a disjunction of literals, where xi means variable i is true and ~xi means it is false. Find "
    "values for all variables that make every clause true. Think briefly, then give your final answer "
    "as the values of x1..xn in order inside answer tags, e.g. <answer>1 0 1</answer> for x1=true, "
    "x2=false, x3=true."
)


def format_clause(clause: list[int]) -> str:
    """Render a clause of signed 1-based literals, e.g. ``(x1 | ~x3 | x4)``."""
    return "(" + " | ".join(f"x{lit}" if lit > 0 else f"~x{-lit}" for lit in clause) + ")"


class SatEnv(Env):
    """k-SAT with difficulty ``{"n_vars", "k", "n_clauses"}``; exact rule verification."""

    family = "puzzles"
    tools = (SUBMIT,)
    supports_fork = True
    supports_pickle = True
    step_in_thread = False  # pure in-process CPU work of microseconds: no thread hop

    def __init__(self, difficulty: dict[str, Any] | None = None, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        self.config = SatConfig.from_overrides(difficulty)

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = options.get("task")
        if task is None:
            task = generate_sat(self.config, seed=int(self.np_random.integers(2**63)), index=0)
        elif not isinstance(task, Task) or task.spec.get("kind") != "sat":
            raise EnvError("options['task'] must be a SAT Task")
        self.task = task
        clauses = "\n".join(format_clause(c) for c in task.spec["clauses"])
        n = task.spec["n_vars"]
        prompt = f"Variables: x1..x{n}. Clauses ({len(task.spec['clauses'])}):\n{clauses}"
        # The tools (env.tools) are presented by the agent: natively, or as text for models without.
        return [Message("system", SYSTEM_PROMPT), Message("user", prompt)], {
            "difficulty": dict(task.difficulty)
        }

    def _step(self, action: Message) -> StepResult:
        if self.task is None:  # the base class only steps after reset, so this is a bug if reached
            raise EnvError("SatEnv stepped without a task")
        try:
            calls = parse_tool_calls(action, self.tools)
        except ToolCallError as exc:
            return self._retry(f"bad tool call: {exc}", None)
        call_id = calls[-1].id if calls else None
        response = f"<answer>{calls[-1].arguments['assignment']}</answer>" if calls else action.text
        try:
            parse_assignment(response, int(self.task.spec["n_vars"]))
        except AnswerFormatError as exc:
            return self._retry(str(exc), call_id if action.tool_calls else None)
        verdict = verify_sat(self.task, response)
        feedback = (
            "Correct: every clause is satisfied."
            if verdict.passed
            else (f"Wrong: {verdict.details['satisfied']} of {verdict.details['clauses']} clauses satisfied.")
        )
        obs = [self._reply(feedback, call_id if action.tool_calls else None)]
        return StepResult(obs, reward=verdict.score, terminated=True, verdict=verdict)

    def _retry(self, problem: str, call_id: str | None) -> StepResult:
        text = f"Your answer could not be read: {problem}. Reply with <answer>v1 v2 ... vn</answer>."
        return StepResult(
            [self._reply(text, call_id)], reward=self.format_penalty, info={"action_error": problem}
        )

    @staticmethod
    def _reply(text: str, call_id: str | None) -> Message:
        return tool_result(call_id, text, name=SUBMIT.name) if call_id else Message("user", text)

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A uniformly random assignment in the answer format."""
        n = self.task.spec["n_vars"] if self.task else self.config.n_vars
        return "<answer>" + " ".join(str(int(v)) for v in rng.integers(0, 2, size=n)) + "</answer>"

    def oracle_action(self) -> Action:
        """Solve the formula with a CDCL SAT solver (python-sat's CaDiCaL) and answer the model."""
        from pysat.solvers import Solver

        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        with Solver(name="cadical153", bootstrap_with=self.task.spec["clauses"]) as solver:
            if not solver.solve():
                raise EnvError("the formula is unsatisfiable (the generator guarantees otherwise)")
            model = solver.get_model() or []
        values = {abs(lit): lit > 0 for lit in model}
        n = int(self.task.spec["n_vars"])
        # Variables that occur in no clause are free; any value works.
        bits = " ".join("1" if values.get(i, True) else "0" for i in range(1, n + 1))
        return Message(
            "assistant",
            "",
            tool_calls=(ToolCall("oracle-0", SUBMIT.name, f'{{"assignment": "{bits}"}}'),),
        )

"""``swe/patch-v0``: read an issue, explore and edit a real repository with tools, submit a patch.

Each episode poses one shipped task (:mod:`agentgym.tasks.swe`): the repository, with the bug in
it and the hidden tests removed, is copied into a fresh sandbox as a git repo at the base commit.
Tools: ``list_dir``, ``view_file``, ``search``, ``edit``, ``create_file``, ``run`` and ``submit``
(:mod:`.tools`). On ``submit`` the diff of the agent's tree against the base is graded in another
fresh sandbox (:func:`agentgym.tasks.swe.grading.grade_patch`): reward 1 when resolved, else 0;
``info`` carries the SWE-RL similarity and every turn's process signals (``edit_applied``,
``tests_run``), which :class:`agentgym.environments.swe.gated.GatedProcessReward` accumulates
G-RA style.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import ConfigError, EnvError, SandboxError
from agentgym.core.messages import Message, ToolCall, tool_result
from agentgym.core.task import Task
from agentgym.core.tools import ToolCallError, parse_tool_calls, tools_prompt
from agentgym.core.verdict import Verdict
from agentgym.environments.swe.oracle import oracle_edits
from agentgym.environments.swe.tools import REPO, TOOLS, ToolFailure, Workspace
from agentgym.tasks.swe.grading import GradeResult, grade_patch, grade_verdict
from agentgym.tasks.swe.patches import tree_diff, tree_files
from agentgym.tasks.swe.record import SweTask, get_task, load_tasks
from agentgym.tasks.swe.snapshot import agent_tree
from agentgym.tasks.swe.testrun import open_sandbox

INSTRUCTIONS = """You are a software engineer fixing a bug in the Python repository `{package}` \
(a git repository at its base commit, in your working directory). Read the issue, explore the \
code, edit it, and call `submit` when you are done: hidden tests then decide whether the issue is \
resolved. The tests of the repository must stay as they are. `run` executes shell commands in a \
sandbox without network; python3 and pytest are available (python3 -m pytest).

{tools}"""
TEST_COMMAND = re.compile(r"\b(pytest|unittest|tox|test)\b")
RANDOM_WORDS = ("def ", "return", "import", "self", "None", "raise", "TODO")


class SwePatchEnv(Env):
    """Multi-turn repository repair graded by hidden tests in a fresh sandbox."""

    family = "swe"
    tools = TOOLS

    def __init__(
        self,
        backend: str = "local",
        tasks: list[str] | None = None,
        grade_timeout: float = 300.0,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode)
        self.backend = backend
        self.grade_timeout = grade_timeout
        pool = load_tasks()
        if tasks is not None:
            pool = [get_task(t) for t in tasks]
        if not pool:
            raise ConfigError("no SWE tasks: build them with `agentgym swe build-tasks`")
        self.pool: list[SweTask] = pool
        self.swe_task: SweTask | None = None
        self.sandbox: Any = None
        self.workspace: Workspace | None = None
        self.grade: GradeResult | None = None
        self.signals: list[dict[str, bool]] = []
        self._files: list[str] = []
        self._plan: list[dict[str, Any]] = []

    # ----- episode ------------------------------------------------------------------------------
    def _pick(self, options: dict[str, Any]) -> SweTask:
        chosen = options.get("task")
        if chosen is None:
            return self.pool[int(self.np_random.integers(len(self.pool)))]
        if isinstance(chosen, Task):
            chosen = chosen.spec.get("task_id")
        if isinstance(chosen, SweTask):
            return chosen
        if not isinstance(chosen, str):
            raise EnvError("options['task'] must be a task id, a SweTask or its core Task")
        return get_task(chosen)

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self._pick(options)
        self._close_sandbox()
        tree = agent_tree(task)
        self.sandbox, lib = open_sandbox(self.backend)
        try:
            self.sandbox.copy_in(tree, REPO)
        except BaseException:
            self._close_sandbox()
            raise
        lib_path = lib if lib.startswith("/") else f"../{lib}"
        self.workspace = Workspace(self.sandbox, {"PYTHONPATH": lib_path, "PYTHONDONTWRITEBYTECODE": "1"})
        given, core = options.get("task"), task.as_task()
        # a posed core Task (a frozen suite's) is kept as given: its meta carries the suite level
        self.swe_task, self.task = task, given if isinstance(given, Task) and given.id == core.id else core
        self.grade = None
        self.signals = []
        self._files = [rel for rel in tree_files(tree) if not rel.startswith(".git/")]
        self._plan = [*oracle_edits(task, tree), {"name": "submit", "arguments": {}}]
        system = INSTRUCTIONS.format(package=task.info.name, tools=tools_prompt(self.tools))
        listing = self.workspace.list_dir(".")
        user = f"{task.issue}\nThe repository's top folder:\n{listing}"
        info = {"difficulty": dict(task.difficulty), "swe_task": task.task_id, "backend": self.backend}
        return [Message("system", system), Message("user", user)], info

    def _step(self, action: Message) -> StepResult:
        if self.workspace is None or self.swe_task is None:
            raise EnvError("stepped without a task")
        try:
            calls = parse_tool_calls(action, self.tools)
        except ToolCallError as exc:
            return self._reply(action, [f"Error: {exc}"], problem=str(exc))
        if not calls:
            problem = "no tool call found; call one of the tools (or submit)"
            return self._reply(action, [f"Error: {problem}"], problem=problem)
        texts: list[str] = []
        signal = {"edit_applied": False, "tests_run": False}
        submitted = False
        for call in calls:
            if submitted:
                texts.append("Not executed: the patch was already submitted.")
                continue
            if call.name == "submit":
                texts.append(self._submit())
                submitted = True
                continue
            try:
                texts.append(self._dispatch(call.name, call.arguments, signal))
            except ToolFailure as exc:
                texts.append(f"Error: {exc}")
            except SandboxError as exc:
                texts.append(f"Error: the sandbox refused the call: {exc}")
        self.signals.append(signal)
        result = self._reply(action, texts)
        result.info["process"] = dict(signal)
        if submitted and self.grade is not None:
            result.reward = 1.0 if self.grade.resolved else 0.0
            result.terminated = True
            result.verdict = self.verdict()
            result.info["similarity"] = self.grade.similarity
            result.info["process_signals"] = [dict(s) for s in self.signals]
        return result

    def _dispatch(self, name: str, args: dict[str, Any], signal: dict[str, bool]) -> str:
        ws = self.workspace
        assert ws is not None
        if name == "list_dir":
            return ws.list_dir(args.get("path", "."))
        if name == "view_file":
            return ws.view_file(args["path"], int(args.get("start_line", 1)), args.get("end_line"))
        if name == "search":
            return ws.search(args["pattern"], args.get("path", "."), bool(args.get("regex", False)))
        if name == "edit":
            text = ws.edit(args["path"], args["old_string"], args["new_string"])
            signal["edit_applied"] = True
            return text
        if name == "create_file":
            text = ws.create_file(args["path"], args["content"])
            signal["edit_applied"] = True
            return text
        if name == "run":
            text = ws.run(args["command"], float(args.get("timeout", 30.0)))
            signal["tests_run"] = signal["tests_run"] or bool(TEST_COMMAND.search(args["command"]))
            return text
        raise ToolFailure(f"unknown tool {name!r}")

    def agent_patch(self) -> str:
        """The diff of the agent's repository against the base commit (links and special files dropped)."""
        assert self.sandbox is not None and self.swe_task is not None
        self.sandbox.exec(
            ["find", REPO, "(", "-type", "l", "-o", "-type", "p", "-o", "-type", "s", ")", "-delete"]
        )
        with tempfile.TemporaryDirectory(prefix="agentgym-swe-submit-") as scratch:
            out = Path(scratch, "repo")
            self.sandbox.copy_out(REPO, out)
            return tree_diff(agent_tree(self.swe_task), out)

    def _submit(self) -> str:
        assert self.swe_task is not None
        try:
            patch = self.agent_patch()
        except SandboxError as exc:
            patch = ""
            note = f" (the repository could not be read back: {exc})"
        else:
            note = ""
        self.grade = grade_patch(self.swe_task, patch, backend=self.backend, timeout=self.grade_timeout)
        g = self.grade
        verdict = "RESOLVED" if g.resolved else "NOT RESOLVED"
        return (
            f"Submitted{note}. {verdict}: FAIL_TO_PASS {g.fail_to_pass_passed}/{g.fail_to_pass_total}, "
            f"PASS_TO_PASS {g.pass_to_pass_passed}/{g.pass_to_pass_total}."
        )

    def _reply(self, action: Message, texts: list[str], problem: str | None = None) -> StepResult:
        native = bool(action.tool_calls) and all(c.id for c in action.tool_calls)
        if native and len(texts) == len(action.tool_calls):
            obs = [tool_result(c.id, t, name=c.name) for c, t in zip(action.tool_calls, texts, strict=True)]
        elif native:
            obs = [tool_result(c.id, texts[0]) for c in action.tool_calls]
        else:
            obs = [Message("user", "\n\n".join(texts))]
        info: dict[str, Any] = {"action_error": problem} if problem else {}
        return StepResult(obs, reward=self.format_penalty if problem else 0.0, info=info)

    # ----- judgement and scripted policies --------------------------------------------------------
    def verdict(self) -> Verdict:
        """Resolved or not, with the grading breakdown (similarity, per-test counts, problems)."""
        if self.grade is None:
            return super().verdict()
        g = self.grade
        details = g.to_dict(with_timing=False)
        details["tests"] = {k: v for k, v in g.tests.items() if v != "passed"}
        details["process_signals"] = [dict(s) for s in self.signals]
        return grade_verdict(g, **details)  # the SWE rubric: resolved + similarity (a metric)

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random, well-formed tool call (rarely a submit, which runs the grader)."""
        roll = float(rng.random())
        name, args = "list_dir", {"path": "."}
        if roll < 0.02:
            name, args = "submit", {}
        elif roll < 0.3 and self._files:
            path = self._files[int(rng.integers(len(self._files)))]
            name, args = "view_file", {"path": path, "start_line": int(rng.integers(1, 40))}
        elif roll < 0.5:
            name, args = "search", {"pattern": RANDOM_WORDS[int(rng.integers(len(RANDOM_WORDS)))]}
        elif roll < 0.6 and self._files:
            path = self._files[int(rng.integers(len(self._files)))]
            name, args = "edit", {"path": path, "old_string": "no such text", "new_string": "x"}
        elif roll < 0.7:
            name, args = "run", {"command": "git status --short | head -5"}
        call = ToolCall(f"call_{int(rng.integers(1 << 30))}", name, json.dumps(args))
        return Message("assistant", "", tool_calls=(call,))

    def oracle_action(self) -> Action:
        """The next step of the oracle plan: the edits that undo the bug, then ``submit``."""
        if not self._plan:
            raise EnvError("call reset() before asking the oracle")
        step = self._plan[min(self.turn, len(self._plan) - 1)]
        call = ToolCall(f"oracle_{self.turn}", step["name"], json.dumps(step["arguments"]))
        return Message("assistant", "", tool_calls=(call,))

    def _close_sandbox(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
        self.sandbox, self.workspace = None, None

    def close(self) -> None:
        """Close the episode's sandbox."""
        self._close_sandbox()
        super().close()

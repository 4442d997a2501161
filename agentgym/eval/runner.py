"""Run agents on an eval suite: every entry's frozen tasks, ``k`` samples each, resumable.

Layout of ``DIR``: ``eval.json`` (the suite, k and seed; a rerun must match it),
``<agent>/agent.json`` (the agent's spec and options), ``<agent>/<env id>/trajectories.jsonl`` (one
store per agent and env; episode group ``i`` is task ``i`` of the entry), then ``results.json``,
``report.html`` and ``transcripts/``. Rerunning an interrupted eval skips stored episodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentgym.core.agent import Agent, AgentReply, EpisodeContext, run_sync
from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.tools import ToolSpec
from agentgym.eval.suites import EvalEntry, EvalSuite, envs_of_generator, get_suite
from agentgym.rollout import EpisodePlan, RolloutConfig, plan_episodes
from agentgym.trajectory import Trajectory, TrajectoryStore

EVAL_META = "eval.json"
AGENT_META = "agent.json"
RESULTS = "results.json"
#: Agents of ``make demo``: the scripted solvers, a random baseline, the bundled SmolLM2.
DEMO_AGENTS: tuple[str, ...] = ("oracle", "random", "bundled")
#: The bundled 135M model rarely says anything useful after ~96 tokens; the cap keeps the demo short.
DEMO_AGENT_OPTIONS: dict[str, dict[str, Any]] = {"bundled": {"max_new_tokens": 96}}


class SuiteTaskSource:
    """Feeds an entry's tasks in order: episode group ``i`` (all its k samples) gets task ``i``."""

    def __init__(self, tasks: Sequence[Task]) -> None:
        self.tasks = list(tasks)

    def next_task(self, plan: EpisodePlan) -> Task:
        """Task ``plan.group_id`` of the suite."""
        return self.tasks[plan.group_id]

    def record(self, task: Task, trajectory: Trajectory) -> None:
        """Nothing to learn: the suite is fixed."""


class _Throttled:
    """Bounds the agent calls in flight across every env of a suite (one semaphore).

    ``wrapped_agent`` lets the runner find a scripted policy (oracle, random) behind the throttle
    and call its env hook itself (:func:`agentgym.core.agent.scripted_policy`); those replies are
    computed by the runner and need no throttling.
    """

    def __init__(self, agent: Agent, limit: int) -> None:
        self.agent, self.name = agent, getattr(agent, "name", type(agent).__name__)
        self.wrapped_agent = agent
        self._limit = limit
        self._semaphore: asyncio.Semaphore | None = None

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._limit)
        async with self._semaphore:
            return await self.agent.act(messages, tools, context)


@dataclass
class EvalResult:
    """What :func:`run_eval` wrote: the results dict (``results.json``), report and summary."""

    out: Path
    results: dict[str, Any]
    report_path: Path
    markdown: str


def agent_label(spec: str) -> str:
    """A folder-safe label for an agent spec (``openai:gpt-4o`` -> ``openai-gpt-4o``)."""
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", spec).strip("-.")
    return label or "agent"


def _digest(tasks: Sequence[Task]) -> str:
    return hashlib.sha256("\n".join(t.id for t in tasks).encode()).hexdigest()[:16]


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_meta(path: Path, meta: dict[str, Any], what: str) -> None:
    """Write ``path``, or refuse when it holds a different ``what`` (resume safety)."""
    if path.exists():
        old = json.loads(path.read_text())
        diff = sorted(k for k in meta if old.get(k) != meta[k])
        if diff:
            raise ConfigError(
                f"{path.parent} holds {what} with a different {', '.join(diff)} "
                f"({', '.join(f'{k}={_short(old.get(k))}' for k in diff)}); use another --out"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, indent=2))


def check_requirements(suite: EvalSuite, hint: str = "") -> None:
    """Fail before anything runs when an env of ``suite`` lacks an extra or a program.

    The error names everything missing across the suite, with one pip and one apt command.
    """
    from agentgym.registry import spec
    from agentgym.requirements import problems

    specs = [spec(e.env_id) for e in suite.entries]
    found = problems(
        sorted({x for s in specs for x in s.extras}), sorted({p for s in specs for p in s.system})
    )
    if found:
        raise ConfigError(f"eval suite {suite.name!r} cannot run here: {'; '.join(found)}{hint}")


def _check_entry(entry: EvalEntry, tasks: Sequence[Task]) -> None:
    """Fail before any model loads when the env is unknown or cannot pose the entry's tasks."""
    from agentgym.registry import spec

    spec(entry.env_id)
    posing = {g for g, envs in envs_of_generator().items() if entry.env_id in envs}
    wrong = {str(t.spec.get("generator")) for t in tasks} - posing
    if posing and wrong:
        raise ConfigError(f"{entry.env_id} poses tasks of {sorted(posing)}, not of {sorted(wrong)}")


def _rollout_config(
    entry: EvalEntry, n_tasks: int, k: int, concurrency: int, seed: int, timeouts: tuple[float | None, ...]
) -> RolloutConfig:
    return RolloutConfig(
        episodes=n_tasks,
        samples_per_task=k,
        concurrency=concurrency,
        seed=seed,
        turn_timeout_s=timeouts[0],
        episode_timeout_s=timeouts[1],
        env_kwargs=dict(entry.env_kwargs),
        progress=False,
        keep_trajectories=False,
    )


@dataclass
class _Prepared:
    """A validated suite: its tasks and rollout config per env."""

    suite: EvalSuite
    tasks: dict[str, list[Task]]
    configs: dict[str, RolloutConfig]
    concurrency: int

    def planned_ids(self, env_id: str) -> set[str]:
        return {p.episode_id for p in plan_episodes(self.configs[env_id])}


def run_eval(
    suite: EvalSuite | str,
    agents: Sequence[str | Agent],
    out: Path,
    k: int = 1,
    concurrency: int = 8,
    seed: int = 0,
    agent_options: Mapping[str, Mapping[str, Any]] | None = None,
    turn_timeout_s: float | None = 300.0,
    episode_timeout_s: float | None = 3600.0,
    progress: bool = True,
    transcripts_per_case: int = 1,
) -> EvalResult:
    """Run (or resume) every agent on ``suite`` into ``out``; write results.json and report.html.

    ``agents`` are spec strings (``make_agent``) or agent objects (labelled by their ``name``);
    ``agent_options[spec]`` go to ``make_agent``. Each agent runs every entry at once, with at most
    ``concurrency`` agent calls in flight. Tasks outside the held-out split are refused.
    """
    from agentgym.eval.metrics import evaluate_agent
    from agentgym.eval.report import render_markdown, write_report

    suite = get_suite(suite) if isinstance(suite, str) else suite
    if k < 1 or concurrency < 1:
        raise ConfigError(f"k and concurrency must be >= 1, got k={k}, concurrency={concurrency}")
    if not agents:
        raise ConfigError("give at least one agent")
    check_requirements(suite)
    tasks = {e.env_id: e.load_tasks() for e in suite.entries}  # refuses training-split tasks
    for entry in suite.entries:
        _check_entry(entry, tasks[entry.env_id])
    specs = [a if isinstance(a, str) else str(getattr(a, "name", type(a).__name__)) for a in agents]
    labels = [agent_label(s) for s in specs]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"agents need distinct names, got {labels}")
    entries = [{**e.to_dict(), "tasks": _digest(tasks[e.env_id])} for e in suite.entries]
    _check_meta(out / EVAL_META, {"suite": suite.name, "entries": entries, "k": k, "seed": seed}, "an eval")
    timeouts = (turn_timeout_s, episode_timeout_s)
    prepared = _Prepared(
        suite,
        tasks,
        {
            e.env_id: _rollout_config(e, len(tasks[e.env_id]), k, concurrency, seed, timeouts)
            for e in suite.entries
        },
        concurrency,
    )
    trajectories: dict[str, list[Trajectory]] = {}
    agent_results: dict[str, dict[str, Any]] = {}
    for agent, spec, label in zip(agents, specs, labels, strict=True):
        options = dict((agent_options or {}).get(spec, {}))
        started = time.perf_counter()
        trajectories[label] = _eval_agent(prepared, agent, spec, options, out / label, progress)
        wall_s = time.perf_counter() - started
        agent_results[label] = {"spec": spec, "wall_s": wall_s, **evaluate_agent(trajectories[label], k)}
    results: dict[str, Any] = {
        "suite": {
            "name": suite.name,
            "description": suite.description,
            "families": suite.families,
            "entries": [{**e.to_dict(), "tasks": len(tasks[e.env_id])} for e in suite.entries],
        },
        "k": k,
        "seed": seed,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "agents": agent_results,
    }
    report = write_report(out, results, trajectories, per_case=transcripts_per_case)
    (out / RESULTS).write_text(json.dumps(results, indent=2))
    return EvalResult(out, results, report, render_markdown(results))


def _eval_agent(
    prepared: _Prepared, agent: str | Agent, spec: str, options: dict[str, Any], folder: Path, progress: bool
) -> list[Trajectory]:
    """Run what is missing of one agent's episodes; return all of its planned episodes."""
    from agentgym.agents import make_agent
    from agentgym.progress import RolloutProgress

    _check_meta(folder / AGENT_META, {"spec": spec, "options": options}, "an agent")
    envs = [e.env_id for e in prepared.suite.entries]
    with contextlib.ExitStack() as stack:
        stores = {env: stack.enter_context(TrajectoryStore(folder / env)) for env in envs}
        per_env = {env: len(prepared.planned_ids(env) - stores[env].episode_ids) for env in envs}
        todo = sum(per_env.values())
        if todo:
            owned = isinstance(agent, str)
            instance = make_agent(agent, **options) if isinstance(agent, str) else agent
            label = folder.name
            bar = stack.enter_context(
                RolloutProgress(todo, f"eval {prepared.suite.name}", label, enabled=progress, per_env=per_env)
            )
            _run_agent(prepared, instance, owned, stores, bar)
        return [t for env in envs for t in stores[env] if t.episode_id in prepared.planned_ids(env)]


def _run_agent(
    prepared: _Prepared, agent: Agent, owned: bool, stores: Mapping[str, TrajectoryStore], bar: Any
) -> None:
    """Every entry of the suite at once in one event loop (the model batches across envs)."""
    from agentgym.rollout import arun_rollouts

    throttled = _Throttled(agent, prepared.concurrency)

    async def go() -> None:
        try:
            await asyncio.gather(
                *(
                    arun_rollouts(
                        e.env_id,
                        throttled,  # type: ignore[arg-type]
                        prepared.configs[e.env_id],
                        stores[e.env_id],
                        on_episode=bar.advance,
                        task_source=SuiteTaskSource(prepared.tasks[e.env_id]),
                    )
                    for e in prepared.suite.entries
                )
            )
        finally:
            close = getattr(agent, "aclose", None)
            if owned and close is not None:
                await close()

    run_sync(go())  # in a thread when a loop is already running (Jupyter, Playwright's sync API)


def run_demo(out: Path, agents: Sequence[str] | None = None) -> Path:
    """``make demo``: the demo suite with the oracle, random and bundled agents; returns report.html.

    Prints the markdown summary and the report's path.
    """
    from rich.console import Console

    console = Console()
    chosen = list(agents or DEMO_AGENTS)
    suite = get_suite("demo")
    check_requirements(suite, hint=" (`make demo` installs all of it: pip install -e '.[demo]')")
    n_tasks = sum(len(e.load_tasks()) for e in suite.entries)
    console.print(
        f"[bold]demo:[/] {', '.join(chosen)} on {n_tasks} held-out tasks across {len(suite.entries)} envs "
        f"(families: {', '.join(suite.families)})"
    )
    # A reply's wait includes its place in the bundled model's batch queue (16 in flight on a CPU):
    # the demo allows for a busy machine rather than reporting slow replies as timeouts.
    result = run_eval(
        suite, chosen, out, k=1, concurrency=16, agent_options=DEMO_AGENT_OPTIONS, turn_timeout_s=1800.0
    )
    print(result.markdown)  # raw markdown: pasteable as it is
    console.print(f"report: {result.report_path.resolve()}", soft_wrap=True)
    return result.report_path

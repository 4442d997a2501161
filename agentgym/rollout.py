"""The asyncio rollout runner: many episodes, bounded concurrency, k samples per task.

Errors never escape the batch: each episode ends with a status (``ok``, ``truncated``, ``timeout``,
``env_error``, ``agent_error``, ``verifier_error``) recorded on its trajectory. Each trajectory is
stored the moment its episode ends, so an interrupted run keeps what finished, and running it again
with the same output skips the episodes already stored.
"""

from __future__ import annotations

import asyncio
import platform
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import gymnasium as gym
import numpy as np

from agentgym.core.agent import Agent, EpisodeContext, agent_turn
from agentgym.core.errors import ConfigError, EnvError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.verdict import as_verdict
from agentgym.registry import make, unwrap
from agentgym.trajectory import Trajectory, TrajectoryStore, Turn

T = TypeVar("T")


@dataclass(frozen=True)
class RolloutConfig:
    """What to run: ``episodes`` tasks x ``samples_per_task`` samples, ``concurrency`` at a time."""

    episodes: int = 10
    samples_per_task: int = 1
    concurrency: int = 8
    seed: int = 0
    turn_timeout_s: float | None = 300.0
    episode_timeout_s: float | None = 3600.0
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    #: Keep finished trajectories in the result. Runs with a store can turn this off to hold
    #: memory flat over long runs (the store has every record; the result keeps only counts).
    keep_trajectories: bool = True

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid field."""
        for name in ("episodes", "samples_per_task", "concurrency"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        for name in ("turn_timeout_s", "episode_timeout_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be > 0 or None, got {value}")


class TaskSource(Protocol):
    """Chooses each episode's task when it starts and learns from the episode when it ends.

    Curricula implement this; the runner calls ``next_task`` before ``reset`` (the task is passed as
    ``options={"task": task}``) and ``record`` with the finished trajectory.
    """

    def next_task(self, plan: EpisodePlan) -> Task:
        """The task for the episode ``plan``."""
        ...

    def record(self, task: Task, trajectory: Trajectory) -> None:
        """Feed back the finished episode (its reward, verdict and status)."""
        ...


@dataclass(frozen=True)
class EpisodePlan:
    """The identity and seeds of one episode, all derived from the run seed."""

    episode_id: str
    group_id: int
    sample_index: int
    env_seed: int
    agent_seed: int


def plan_episodes(config: RolloutConfig) -> list[EpisodePlan]:
    """The run's episodes: task ``i`` gets one env seed; its ``k`` samples share it."""
    plans = []
    for task in range(config.episodes):
        env_seed = int(np.random.SeedSequence([config.seed, task]).generate_state(1, np.uint64)[0] >> 1)
        for sample in range(config.samples_per_task):
            agent_seed = int(np.random.SeedSequence([config.seed, task, sample, 1]).generate_state(1)[0])
            plans.append(EpisodePlan(f"t{task:06d}-s{sample:03d}", task, sample, env_seed, agent_seed))
    return plans


@dataclass(repr=False)
class RolloutResult:
    """What this call ran (not the episodes skipped because they were stored already).

    ``trajectories`` is empty when the config says ``keep_trajectories=False``; ``finished``
    counts the episodes either way.
    """

    trajectories: list[Trajectory]
    skipped: int
    wall_s: float
    finished: int = 0

    def __repr__(self) -> str:
        # Compact on purpose: Python 3.11's asyncio.run reprs the main task's result on exit.
        n = len(self.trajectories)
        return f"RolloutResult({n} trajectories, skipped={self.skipped}, wall_s={self.wall_s:.2f})"

    def summary(self) -> dict[str, Any]:
        """Episodes, success rate, mean reward and turns, statuses, throughput."""
        return summarize(self.trajectories, self.wall_s)


def summarize(trajectories: Sequence[Trajectory], wall_s: float | None = None) -> dict[str, Any]:
    """Aggregate figures of a set of trajectories."""
    n = len(trajectories)
    out: dict[str, Any] = {
        "episodes": n,
        "success": sum(t.passed for t in trajectories) / n if n else 0.0,
        "mean_reward": sum(t.reward for t in trajectories) / n if n else 0.0,
        "mean_turns": sum(len(t.turns) for t in trajectories) / n if n else 0.0,
        "statuses": dict(Counter(t.status for t in trajectories)),
        "mean_episode_s": sum(t.duration_s for t in trajectories) / n if n else 0.0,
    }
    if wall_s is not None:
        out["wall_s"] = wall_s
        out["episodes_per_s"] = n / wall_s if wall_s > 0 else 0.0
    return out


def _versions(env: gym.Env) -> dict[str, str]:
    from agentgym import __version__

    base = env.unwrapped
    # A proxy of a remote env (HTTP server, Ray actor) reports the class of the env it drives.
    env_class = getattr(base, "remote_class", None) or type(base).__name__
    return {"agentgym": __version__, "python": _PYTHON, "env_class": env_class}


_PYTHON = platform.python_version()


async def _within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """Await with a time limit, without wrapping the awaitable in a new task (cheap per turn)."""
    if seconds is None:
        return await awaitable
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover - Python 3.10


def reply_message(reply: Any) -> Message:
    """The assistant message of an agent's reply: what the env is given and the store keeps.

    Model text enters here; a :class:`Message` replaced any lone surrogates when it was built, so
    the stored action is exactly what the env saw. An agent that hands back text or a chat dict
    instead of a Message gets it wrapped; anything else raises TypeError (an ``agent_error``).
    """
    message = getattr(reply, "message", None)
    if type(message) is Message:
        return message
    if isinstance(message, str):
        return Message("assistant", message)
    if isinstance(message, Mapping):
        return Message.from_dict({"role": "assistant", **message})
    if isinstance(message, Message):
        return message
    raise TypeError(
        f"the agent returned {type(reply).__name__} with message {type(message).__name__}; "
        "expected an AgentReply holding a Message"
    )


class _Episode:
    """Runs one episode and fills its trajectory in place (so a timeout keeps the finished turns)."""

    def __init__(
        self, plan: EpisodePlan, env_id: str, agent: Agent, config: RolloutConfig, task: Task | None = None
    ) -> None:
        self.plan, self.config, self.agent, self.task = plan, config, agent, task
        self.trajectory = Trajectory(
            episode_id=plan.episode_id,
            env_id=env_id,
            agent=getattr(agent, "name", type(agent).__name__),
            seed=plan.env_seed,
            group_id=plan.group_id,
            sample_index=plan.sample_index,
        )

    async def run(self, env: gym.Env) -> None:
        traj = self.trajectory
        traj.versions = _versions(env)
        base = unwrap(env)
        # The agent's whole view of the episode besides messages and tools: plain ids and seeds.
        context = EpisodeContext(
            traj.episode_id,
            env_id=traj.env_id,
            agent_seed=self.plan.agent_seed,
            seed=self.plan.env_seed,
            sample_index=self.plan.sample_index,
        )
        try:
            options = {"task": self.task} if self.task is not None else None
            obs, info = await env.areset(seed=self.plan.env_seed, options=options)  # type: ignore[attr-defined]
        except Exception as exc:
            return self._fail("env_error", f"reset failed: {type(exc).__name__}: {exc}")
        traj.versions = _versions(env)  # again: a remote env knows its class once it is reset
        traj.task_id = info.get("task_id")
        traj.task = base.task.to_dict() if base.task is not None else None
        traj.initial_observation = list(obs)
        conversation = list(obs)
        shown = list(obs)
        while True:
            t0 = time.perf_counter()
            context.turn = len(traj.turns)
            try:
                # Scripted policies (oracle, random) get the env here, from the runner; others never.
                pending = agent_turn(self.agent, base, conversation, base.tools, context)
                reply = await _within(pending, self.config.turn_timeout_s)
                action = reply_message(reply)
            except asyncio.TimeoutError:
                return self._fail("timeout", f"the agent took longer than {self.config.turn_timeout_s}s")
            except EnvError as exc:  # a scripted agent asked the env (e.g. a lost remote session)
                return self._fail("env_error", f"the env failed during the agent's turn: {exc}")
            except Exception as exc:
                return self._fail("agent_error", f"{type(exc).__name__}: {exc}")
            t1 = time.perf_counter()
            try:
                obs, reward, terminated, truncated, info = await env.astep(action)  # type: ignore[attr-defined]
            except Exception as exc:
                return self._fail("env_error", f"step failed: {type(exc).__name__}: {exc}")
            t2 = time.perf_counter()
            verdict = as_verdict(info.pop("verdict", None))
            traj.turns.append(
                Turn(
                    index=len(traj.turns),
                    observation=shown,
                    action=action,
                    reward=float(reward),
                    terminated=terminated,
                    truncated=truncated,
                    token_ids=reply.token_ids,
                    logprobs=reply.logprobs,
                    prompt_token_ids=reply.prompt_token_ids,
                    agent_s=t1 - t0,
                    env_s=t2 - t1,
                    info=info,
                )
            )
            conversation += [action, *obs]
            shown = list(obs)
            if terminated or truncated:
                traj.final_observation = shown
                traj.verdict = verdict
                if verdict is not None and verdict.unscored:
                    traj.status, traj.error = "verifier_error", str(verdict.error)
                else:
                    traj.status = "ok" if terminated else "truncated"
                return None

    def _fail(self, status: str, error: str) -> None:
        self.trajectory.status = status  # type: ignore[assignment]
        self.trajectory.error = error[:2000]


async def arun_episode(
    plan: EpisodePlan,
    factory: Callable[[], gym.Env],
    env_id: str,
    agent: Agent,
    config: RolloutConfig,
    task: Task | None = None,
    source_error: str | None = None,
) -> Trajectory:
    """Run one planned episode on a fresh env from ``factory``; failures end up on the trajectory."""
    episode = _Episode(plan, env_id, agent, config, task)
    episode.trajectory.started_at = time.time()
    t0 = time.perf_counter()
    env_instance: gym.Env | None = None
    try:
        if source_error is not None:
            raise RuntimeError(source_error)
        env_instance = factory()
        await _within(episode.run(env_instance), config.episode_timeout_s)
    except asyncio.TimeoutError:
        episode._fail("timeout", f"the episode took longer than {config.episode_timeout_s}s")
    except Exception as exc:
        episode._fail("env_error", f"{type(exc).__name__}: {exc}")
    finally:
        if env_instance is not None:
            try:
                env_instance.close()
            except Exception as exc:  # closing must not lose the episode
                episode.trajectory.error = episode.trajectory.error or f"close failed: {exc}"
    traj = episode.trajectory
    traj.duration_s = time.perf_counter() - t0
    return traj


async def arun_rollouts(
    env: str | Callable[[], gym.Env],
    agent: Agent,
    config: RolloutConfig | None = None,
    store: TrajectoryStore | None = None,
    on_episode: Callable[[Trajectory], None] | None = None,
    task_source: TaskSource | None = None,
    env_id: str | None = None,
) -> RolloutResult:
    """Run the planned episodes of ``env`` (an id or a factory) with ``agent``.

    ``env_id`` names the env on the trajectories when ``env`` is a factory (default ``"custom"``),
    e.g. a factory of :class:`~agentgym.server.RemoteEnv` proxies of a registered env.

    Episodes already in ``store`` are skipped; each finished trajectory is appended to ``store``
    at once and passed to ``on_episode``. With a ``task_source`` (a curriculum), each episode's
    task is drawn from it when the episode starts and the trajectory is fed back when it ends.
    """
    config = config or RolloutConfig()
    config.validate()
    if isinstance(env, str):
        env_id = env
        factory: Callable[[], gym.Env] = lambda: make(env_id, **config.env_kwargs)  # noqa: E731
    else:
        factory, env_id = env, env_id or "custom"
    factory().close()  # a bad env id or kwargs fail the run here, not once per episode
    plans = [p for p in plan_episodes(config) if store is None or p.episode_id not in store]
    skipped = config.episodes * config.samples_per_task - len(plans)
    queue: asyncio.Queue[EpisodePlan] = asyncio.Queue()
    for plan in plans:
        queue.put_nowait(plan)
    finished: list[Trajectory] = []
    count = [0]
    started = time.perf_counter()
    from agentgym.progress import RolloutProgress

    progress = RolloutProgress(len(plans), env_id, getattr(agent, "name", "agent"), enabled=config.progress)

    async def worker() -> None:
        while True:
            try:
                plan = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            task, source_error = None, None
            if task_source is not None:
                try:
                    task = task_source.next_task(plan)
                except Exception as exc:  # a failing curriculum fails its episodes, not the batch
                    source_error = f"task source failed: {type(exc).__name__}: {exc}"
            traj = await arun_episode(plan, factory, env_id, agent, config, task, source_error)
            if task_source is not None and task is not None:
                try:
                    task_source.record(task, traj)
                except Exception as exc:
                    traj.error = traj.error or f"task source record failed: {type(exc).__name__}: {exc}"
            if store is not None:
                store.append(traj)
            count[0] += 1
            if config.keep_trajectories:
                finished.append(traj)
            progress.advance(traj)
            if on_episode is not None:
                on_episode(traj)

    with progress:
        workers = [asyncio.create_task(worker()) for _ in range(min(config.concurrency, max(1, len(plans))))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    return RolloutResult(finished, skipped, time.perf_counter() - started, count[0])


def run_rollouts(
    env: str | Callable[[], gym.Env],
    agent: Agent,
    config: RolloutConfig | None = None,
    store: TrajectoryStore | None = None,
    task_source: TaskSource | None = None,
) -> RolloutResult:
    """Synchronous :func:`arun_rollouts` (starts its own event loop)."""
    return asyncio.run(arun_rollouts(env, agent, config, store, task_source=task_source))

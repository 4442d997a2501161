"""Run rollouts on a Ray cluster: episode actors hold envs and agents, the driver stores results.

Each :class:`EpisodeWorker` actor builds the env (``make(env_id, **kwargs)``) and the agent
(``make_agent(spec)``) in its own process and runs whole episodes there with the same code as the
local runner (:func:`agentgym.rollout.arun_episode`), several at a time (``episodes_per_worker``).
The driver keeps at most ``workers x episodes_per_worker`` episodes in flight (back-pressure: no
unbounded queue of plans inside Ray), and appends each trajectory to the store the moment it
returns, so a Ray run resumes like a local one. An actor that dies takes its in-flight episodes
with it: they are recorded as ``env_error`` trajectories, Ray restarts the actor, and the run goes
on. Same seeds give the same trajectories as a local run (the plans and episode code are shared).

Point it at a cluster with ``address`` (``"auto"`` on a cluster node, ``"ray://HEAD:10001"`` from
outside); without one a local Ray instance starts.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from agentgym.core.errors import ConfigError
from agentgym.rollout import EpisodePlan, RolloutConfig, RolloutResult, plan_episodes
from agentgym.trajectory import Trajectory, TrajectoryStore


@dataclass(frozen=True)
class RayConfig:
    """Where and how wide a Ray run goes."""

    address: str | None = None
    workers: int = 2
    episodes_per_worker: int = 8
    cpus_per_worker: float = 1.0
    #: CPUs of a local Ray instance started here (None: Ray's default, all of them).
    local_cpus: int | None = None
    #: Modules each actor imports first (e.g. ones registering extra envs).
    imports: tuple[str, ...] = ()
    max_restarts: int = -1
    extra_sys_path: tuple[str, ...] = field(default_factory=lambda: (os.getcwd(),))

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid field."""
        if self.workers < 1 or self.episodes_per_worker < 1:
            raise ConfigError("workers and episodes_per_worker must be >= 1")
        if self.cpus_per_worker < 0:
            raise ConfigError(f"cpus_per_worker must be >= 0, got {self.cpus_per_worker}")


class EpisodeWorker:
    """A Ray actor that runs whole episodes of one env with one agent (wrapped by ``ray.remote``)."""

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any],
        agent_spec: str,
        agent_options: dict[str, Any],
        config: dict[str, Any],
        imports: tuple[str, ...],
        sys_path: tuple[str, ...],
    ) -> None:
        import importlib

        for path in sys_path:
            if path not in sys.path:
                sys.path.insert(0, path)
        import agentgym.environments  # noqa: F401
        from agentgym.agents import make_agent

        for module in imports:
            importlib.import_module(module)
        self.env_id, self.env_kwargs = env_id, env_kwargs
        self.config = RolloutConfig(**config)
        self.agent = make_agent(agent_spec, **agent_options)

    def info(self) -> dict[str, Any]:
        """The actor's process id and agent name."""
        return {"pid": os.getpid(), "agent": getattr(self.agent, "name", type(self.agent).__name__)}

    async def run(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Run one planned episode; the trajectory comes back as its dict."""
        from agentgym.registry import make
        from agentgym.rollout import arun_episode

        env_id, kwargs = self.env_id, self.env_kwargs
        traj = await arun_episode(
            EpisodePlan(**plan), lambda: make(env_id, **kwargs), env_id, self.agent, self.config
        )
        return traj.to_dict()


def ensure_ray(address: str | None, local_cpus: int | None = None) -> Any:
    """Import Ray and connect (or start a local instance) once per process."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("the Ray backend needs Ray: pip install 'agentgym[ray]'") from exc
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            kwargs["address"] = address
        elif local_cpus is not None:
            kwargs["num_cpus"] = local_cpus
        ray.init(**kwargs)
    return ray


def _failed(plan: EpisodePlan, env_id: str, agent: str, error: str) -> Trajectory:
    traj = Trajectory(
        episode_id=plan.episode_id,
        env_id=env_id,
        agent=agent,
        seed=plan.env_seed,
        group_id=plan.group_id,
        sample_index=plan.sample_index,
        status="env_error",
        error=error[:2000],
    )
    traj.started_at = time.time()
    return traj


async def arun_on_ray(
    env_id: str,
    agent_spec: str,
    config: RolloutConfig,
    ray_config: RayConfig,
    store: TrajectoryStore | None = None,
    agent_options: dict[str, Any] | None = None,
    on_episode: Callable[[Trajectory], None] | None = None,
    on_workers: Callable[[list[dict[str, Any]]], None] | None = None,
) -> RolloutResult:
    """Run the planned episodes of ``env_id`` with ``agent_spec`` on Ray actors.

    ``on_workers`` is called once the actors run, with each one's ``{"pid", "agent"}``.
    """
    config.validate()
    ray_config.validate()
    ray = ensure_ray(ray_config.address, ray_config.local_cpus)
    from ray.exceptions import RayError

    plans = [p for p in plan_episodes(config) if store is None or p.episode_id not in store]
    skipped = config.episodes * config.samples_per_task - len(plans)
    started = time.perf_counter()
    actor_cls = ray.remote(EpisodeWorker)
    config_dict = {**asdict(config), "progress": False}
    n_workers = max(1, min(ray_config.workers, len(plans)))
    actors = [
        actor_cls.options(
            num_cpus=ray_config.cpus_per_worker,
            max_restarts=ray_config.max_restarts,
            max_task_retries=0,
            max_concurrency=ray_config.episodes_per_worker,
        ).remote(
            env_id,
            dict(config.env_kwargs),
            agent_spec,
            dict(agent_options or {}),
            config_dict,
            ray_config.imports,
            ray_config.extra_sys_path,
        )
        for _ in range(n_workers)
    ]
    try:
        infos = await asyncio.gather(*(a.info.remote() for a in actors))
    except RayError as exc:
        raise ConfigError(f"the Ray workers could not start: {exc}") from exc
    agent_name = infos[0]["agent"]
    if on_workers is not None:
        on_workers(infos)
    finished: list[Trajectory] = []
    count = 0
    queue = list(reversed(plans))
    load = [0] * n_workers
    running: dict[asyncio.Future[Any], tuple[EpisodePlan, int]] = {}
    limit = ray_config.episodes_per_worker

    def submit() -> None:
        while queue:
            index = min(range(n_workers), key=load.__getitem__)
            if load[index] >= limit:
                return
            plan = queue.pop()
            fut = asyncio.ensure_future(actors[index].run.remote(asdict(plan)))
            running[fut] = (plan, index)
            load[index] += 1

    try:
        submit()
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for fut in done:
                plan, index = running.pop(fut)
                load[index] -= 1
                try:
                    traj = Trajectory.from_dict(fut.result())
                except RayError as exc:
                    error = f"ray worker failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
                    traj = _failed(plan, env_id, agent_name, error)
                if store is not None:
                    store.append(traj)
                count += 1
                if config.keep_trajectories:
                    finished.append(traj)
                if on_episode is not None:
                    on_episode(traj)
            submit()
    finally:
        for fut in running:
            fut.cancel()
        for actor in actors:
            ray.kill(actor)
    return RolloutResult(finished, skipped, time.perf_counter() - started, count)

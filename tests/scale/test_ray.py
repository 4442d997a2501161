"""Rollouts on a local Ray instance (2 CPUs): same trajectories as in-process, and actor crashes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time

import pytest

ray = pytest.importorskip("ray")

from agentgym.agents import make_agent  # noqa: E402
from agentgym.cli.main import main as cli_main  # noqa: E402
from agentgym.rollout import RolloutConfig, run_rollouts  # noqa: E402
from agentgym.scale import RayConfig, arun_on_ray  # noqa: E402
from agentgym.trajectory import TrajectoryStore  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def comparable(trajectories) -> list[str]:
    out = []
    for t in trajectories:
        rec = t.to_dict()
        rec.pop("started_at"), rec.pop("duration_s")
        for turn in rec["turns"]:
            turn.pop("agent_s"), turn.pop("env_s")
        out.append(json.dumps(rec, default=repr))
    return sorted(out)


def test_ray_run_streams_byte_identical_trajectories_into_the_store(local_ray, tmp_path, capsys):
    args = ["puzzles/maze-v0", "--agent", "random", "--episodes", "6", "--seed", "3", "--max-turns", "20"]
    cli_main(["run", *args, "--backend", "ray", "--ray-workers", "2", "--json", "-o", str(tmp_path)])
    summary = json.loads(capsys.readouterr().out)
    assert summary["episodes"] == 6 and summary["statuses"] == {"truncated": 6}
    on_ray = TrajectoryStore(tmp_path).load()
    config = RolloutConfig(episodes=6, seed=3, env_kwargs={"max_turns": 20}, progress=False)
    local = run_rollouts("puzzles/maze-v0", make_agent("random"), config).trajectories
    assert comparable(on_ray) == comparable(local)


def test_a_killed_actor_gives_env_error_trajectories_and_the_run_completes(local_ray, tmp_path):
    config = RolloutConfig(
        episodes=8, seed=1, env_kwargs={"step_delay": 0.1, "high": 10**6}, progress=False, concurrency=2
    )
    ray_config = RayConfig(workers=2, episodes_per_worker=2, imports=("tests.server.envs",))
    killed: list[int] = []

    def kill_first(infos):
        def later():
            time.sleep(1.0)
            os.kill(infos[0]["pid"], signal.SIGKILL)
            killed.append(infos[0]["pid"])

        threading.Thread(target=later, daemon=True).start()

    with TrajectoryStore(tmp_path) as store:
        result = asyncio.run(
            arun_on_ray("toy/slow-guess-v0", "random", config, ray_config, store, on_workers=kill_first)
        )
    statuses = [t.status for t in result.trajectories]
    assert killed and len(statuses) == 8 and len(TrajectoryStore(tmp_path)) == 8
    assert "env_error" in statuses and "truncated" in statuses
    assert all("ray worker failed" in t.error for t in result.trajectories if t.status == "env_error")

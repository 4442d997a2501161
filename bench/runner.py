"""Runner overhead per turn against a plain loop over the same env, and memory of idle episodes.

Baseline: a plain synchronous loop (make, reset, step) over ``puzzles/sat-v0`` with the same
scripted policy: two unparsable replies, then the reference answer (3 turns per episode). The
runner does the same episodes through ``run_rollouts`` (asyncio, trajectory records, optional JSONL
store). Goals: overhead <= 10% per turn; 1,000 concurrent idle episodes in <= 1 GB.

Run: ``python bench/runner.py [--episodes 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Sequence

import agentgym
from agentgym.core.agent import AgentReply, EpisodeContext
from agentgym.core.messages import Message
from agentgym.rollout import RolloutConfig, arun_rollouts, plan_episodes, run_rollouts
from agentgym.trajectory import TrajectoryStore

ENV_ID = "puzzles/sat-v0"
DIFFICULTY = {"difficulty": {"n_vars": 12}}


def scripted_reply(turn: int, answer: list[int]) -> str:
    """Garbage on the first two turns, the reference answer on the third."""
    if turn < 2:
        return "let me think about it"
    return "<answer>" + " ".join(map(str, answer)) + "</answer>"


class ScriptedAgent:
    """The same policy as the plain loop, behind the Agent protocol."""

    name = "scripted"

    async def act(
        self, messages: Sequence[Message], tools=(), context: EpisodeContext | None = None
    ) -> AgentReply:
        turn = sum(m.role == "assistant" for m in messages)
        return AgentReply(Message("assistant", scripted_reply(turn, context.env.task.answer)))


def plain_loop(episodes: int) -> tuple[float, int]:
    """Baseline: the env stepped directly, no runner."""
    config = RolloutConfig(episodes=episodes)
    turns = 0
    t0 = time.perf_counter()
    for plan in plan_episodes(config):
        env = agentgym.make(ENV_ID, **DIFFICULTY)
        env.reset(seed=plan.env_seed)
        answer = env.unwrapped.task.answer
        for turn in range(10):
            _, _, terminated, truncated, _ = env.step(Message("assistant", scripted_reply(turn, answer)))
            turns += 1
            if terminated or truncated:
                break
        env.close()
    return time.perf_counter() - t0, turns


def with_runner(episodes: int, concurrency: int, store_dir: str | None) -> tuple[float, int]:
    """The same episodes through run_rollouts."""
    config = RolloutConfig(episodes=episodes, concurrency=concurrency, progress=False, env_kwargs=DIFFICULTY)
    store = TrajectoryStore(store_dir) if store_dir else None
    t0 = time.perf_counter()
    result = run_rollouts(ENV_ID, ScriptedAgent(), config, store)
    elapsed = time.perf_counter() - t0
    if store:
        store.close()
    assert result.summary()["mean_reward"] == 1.0
    return elapsed, sum(len(t.turns) for t in result.trajectories)


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class IdleAgent:
    """Waits until released: an episode stuck on a slow model."""

    name = "idle"

    def __init__(self, n: int) -> None:
        self.release = asyncio.Event()
        self.waiting = 0
        self.n = n
        self.all_waiting = asyncio.Event()

    async def act(self, messages, tools=(), context=None) -> AgentReply:
        self.waiting += 1
        if self.waiting == self.n:
            self.all_waiting.set()
        await self.release.wait()
        return AgentReply(Message("assistant", scripted_reply(2, context.env.task.answer)))


async def idle_memory(n: int) -> tuple[float, float]:
    """RSS before and while ``n`` episodes sit idle at once (each has reset its env)."""
    gc.collect()
    before = rss_mb()
    agent = IdleAgent(n)
    config = RolloutConfig(episodes=n, concurrency=n, progress=False, env_kwargs=DIFFICULTY)
    run = asyncio.create_task(arun_rollouts(ENV_ID, agent, config))
    await agent.all_waiting.wait()
    gc.collect()
    during = rss_mb()
    agent.release.set()
    result = await run
    assert len(result.trajectories) == n
    return before, during


def main() -> None:
    """Print the overhead table and the idle-memory figure."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()

    plain_loop(50)  # warm imports and caches
    with_runner(50, 1, None)
    rows: dict[str, list[float]] = {}
    turns = 0
    for _ in range(args.repeats):
        elapsed, turns = plain_loop(args.episodes)
        rows.setdefault("plain loop (baseline)", []).append(elapsed / turns)
        for conc in (1, 32):
            elapsed, n = with_runner(args.episodes, conc, None)
            assert n == turns
            rows.setdefault(f"runner, concurrency {conc}", []).append(elapsed / n)
        with tempfile.TemporaryDirectory() as d:
            elapsed, n = with_runner(args.episodes, 32, d)
        rows.setdefault("runner, concurrency 32 + JSONL store", []).append(elapsed / n)

    base = statistics.median(rows["plain loop (baseline)"])
    print(
        f"\n{ENV_ID} {DIFFICULTY['difficulty']}, {args.episodes} episodes x {turns // args.episodes} turns, "
        f"median of {args.repeats}"
    )
    print(f"{'':40s} {'us/turn':>10s} {'vs plain':>10s}")
    for name, values in rows.items():
        per_turn = statistics.median(values)
        print(f"{name:40s} {per_turn * 1e6:10.1f} {per_turn / base:9.3f}x")

    before, during = asyncio.run(idle_memory(args.idle))
    print(
        f"\n{args.idle} concurrent idle episodes: RSS {before:.0f} MiB -> {during:.0f} MiB "
        f"(+{during - before:.1f} MiB, {(during - before) * 1024 / args.idle:.1f} KiB/episode;"
        " goal <= 1024 MiB total)"
    )


if __name__ == "__main__":
    main()

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
import tracemalloc
from collections.abc import Callable, Sequence

import agentgym
from agentgym.core.agent import AgentReply, EpisodeContext
from agentgym.core.env import Env
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

    def scripted_action(self, env: Env, context: EpisodeContext) -> str:
        """Called by the runner with the env (scripted policies never get it through ``act``)."""
        return scripted_reply(context.turn, env.task.answer)

    async def act(
        self, messages: Sequence[Message], tools=(), context: EpisodeContext | None = None
    ) -> AgentReply:
        raise RuntimeError("the scripted policy plays through the runner's scripted hook")


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


def with_runner(
    episodes: int, concurrency: int, store_dir: str | None, keep: bool = True
) -> tuple[float, int]:
    """The same episodes through run_rollouts."""
    config = RolloutConfig(
        episodes=episodes,
        concurrency=concurrency,
        progress=False,
        env_kwargs=DIFFICULTY,
        keep_trajectories=keep,
    )
    store = TrajectoryStore(store_dir) if store_dir else None
    t0 = time.perf_counter()
    result = run_rollouts(ENV_ID, ScriptedAgent(), config, store)
    elapsed = time.perf_counter() - t0
    if store:
        store.close()
    assert result.finished == episodes
    if keep:
        assert result.summary()["mean_reward"] == 1.0
    return elapsed, 3 * episodes  # the scripted policy takes 3 turns per episode


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


async def idle_memory(n: int) -> tuple[float, float, float]:
    """RSS before and while ``n`` episodes sit idle at once, and the Python heap they hold (MiB)."""
    gc.collect()
    tracemalloc.start()
    before = rss_mb()
    agent = IdleAgent(n)
    config = RolloutConfig(episodes=n, concurrency=n, progress=False, env_kwargs=DIFFICULTY)
    run = asyncio.create_task(arun_rollouts(ENV_ID, agent, config))
    await agent.all_waiting.wait()
    gc.collect()
    during = rss_mb()
    held = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    agent.release.set()
    result = await run
    assert len(result.trajectories) == n
    return before, during, held


def main() -> None:
    """Print the overhead table and the idle-memory figure."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()

    # Memory first, in a fresh process state: later timing runs leave freed arenas that would hide it.
    with_runner(5, 1, None)
    before, during, held = asyncio.run(idle_memory(args.idle))

    plain_loop(50)  # warm imports and caches
    with_runner(50, 1, None)

    def stored(keep: bool) -> tuple[float, int]:
        with tempfile.TemporaryDirectory() as d:
            return with_runner(args.episodes, 32, d, keep=keep)

    variants: list[tuple[str, Callable[[], tuple[float, int]]]] = [
        ("plain loop (baseline)", lambda: plain_loop(args.episodes)),
        ("runner, concurrency 1", lambda: with_runner(args.episodes, 1, None)),
        ("runner, concurrency 32", lambda: with_runner(args.episodes, 32, None)),
        (
            "runner, concurrency 1, keep_trajectories=False",
            lambda: with_runner(args.episodes, 1, None, False),
        ),
        ("runner, concurrency 32 + JSONL store", lambda: stored(True)),
        ("  same, keep_trajectories=False", lambda: stored(False)),
    ]
    per_turn: dict[str, list[float]] = {name: [] for name, _ in variants}
    for r in range(args.repeats):  # rotate the order each repeat: this VM drifts by +-20% over minutes
        for name, run in variants[r % len(variants) :] + variants[: r % len(variants)]:
            elapsed, turns = run()
            assert turns == 3 * args.episodes
            per_turn[name].append(elapsed / turns)

    base = per_turn["plain loop (baseline)"]
    print(
        f"\n{ENV_ID} {DIFFICULTY['difficulty']}, {args.episodes} episodes x 3 turns, {args.repeats} repeats"
        " (order rotated; ratio = median of per-repeat ratios)"
    )
    print(f"{'':48s} {'us/turn':>10s} {'vs plain':>10s}")
    for name, values in per_turn.items():
        ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
        print(f"{name:48s} {statistics.median(values) * 1e6:10.1f} {ratio:9.3f}x")

    print(
        f"\n{args.idle} concurrent idle episodes (env reset, agent awaiting): process RSS {during:.0f} MiB"
        f" (+{during - before:.1f} MiB over the warm process); Python heap the episodes hold:"
        f" {held:.1f} MiB = {held * 1024 / args.idle:.1f} KiB/episode (tracemalloc); goal <= 1024 MiB"
    )


if __name__ == "__main__":
    main()

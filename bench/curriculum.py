"""A SATURN-style threshold curriculum on ``puzzles/sat-v0`` with an oracle-with-noise agent.

The agent answers with the oracle's (CaDiCaL's) assignment with probability
``p(D) = sigmoid(a - b * D)``, where ``D`` is SATURN's difficulty estimate of the task, and with a
uniformly random assignment otherwise (which still passes now and then on small formulas). The
ThresholdCurriculum walks SatGenerator's levels: it should climb while the agent succeeds and settle
at the frontier where the success rate crosses the promotion threshold.

Baseline, measured in the same run: the same agent on tasks drawn uniformly over the same levels
(a LearnabilitySampler with ``explore=1``). The LearnabilitySampler proper is run as well. The
figure compared is the mean learnability ``p (1 - p)`` of the tasks served (the variance of a
pass/fail reward: zero for tasks always or never solved), as a ratio to the baseline.

Run: ``python bench/curriculum.py [--episodes 1200] [--png runs/bench_curriculum.png]``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time
from collections import Counter, deque
from collections.abc import Sequence
from pathlib import Path

from agentgym.core.agent import AgentReply, EpisodeContext
from agentgym.core.env import Action, Env
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.tools import ToolSpec
from agentgym.rollout import RolloutConfig, arun_rollouts
from agentgym.tasks.curriculum import Curriculum, LearnabilitySampler, ThresholdCurriculum
from agentgym.tasks.puzzles.sat import SatGenerator
from agentgym.trajectory import Trajectory

ENV_ID = "puzzles/sat-v0"


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class NoisyOracleAgent:
    """Answers the oracle's assignment with probability ``sigmoid(a - b * D)``, else a random one."""

    name = "noisy-oracle"

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = a, b

    def p_solve(self, difficulty: float) -> float:
        """The probability of answering with the oracle's assignment at SATURN difficulty ``D``."""
        return sigmoid(self.a - self.b * difficulty)

    def scripted_action(self, env: Env, context: EpisodeContext) -> Action:
        """Called by the runner, which holds the env (a scripted policy never sees it via act)."""
        if env.task is None:
            raise RuntimeError("the noisy oracle needs a reset env")
        p = self.p_solve(float(env.task.difficulty["saturn"]))
        return env.oracle_action() if context.rng.random() < p else env.sample_action(context.rng)

    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        raise RuntimeError("the noisy oracle plays through the runner's scripted hook")


def run(source: Curriculum, agent: NoisyOracleAgent, episodes: int, seed: int, concurrency: int) -> dict:
    """Run ``episodes`` through the runner with ``source``; per-episode arm, D, pass, and the level after."""
    log: list[dict] = []

    def on_episode(t: Trajectory) -> None:
        task = Task.from_dict(t.task) if t.task else None
        arm = source.arm_of(task) if task is not None else None
        level = source.level if isinstance(source, ThresholdCurriculum) else arm
        d = float(t.task["difficulty"]["saturn"]) if t.task else float("nan")
        log.append({"arm": arm, "D": d, "passed": t.passed, "level_after": level, "status": t.status})

    config = RolloutConfig(episodes=episodes, concurrency=concurrency, seed=seed, progress=False)
    t0 = time.perf_counter()
    asyncio.run(arun_rollouts(ENV_ID, agent, config, on_episode=on_episode, task_source=source))
    wall = time.perf_counter() - t0
    served_p = [agent.p_solve(e["D"]) for e in log]
    return {
        "log": log,
        "wall_s": wall,
        "success": sum(e["passed"] for e in log) / len(log),
        "mean_D": statistics.fmean(e["D"] for e in log),
        "learnability": statistics.fmean(p * (1 - p) for p in served_p),
        "statuses": dict(Counter(e["status"] for e in log)),
    }


def rolling(values: Sequence[bool], width: int) -> list[float]:
    """The mean of the last ``width`` values at each position."""
    out, window, total = [], deque(), 0
    for v in values:
        window.append(v)
        total += v
        if len(window) > width:
            total -= window.popleft()
        out.append(total / len(window))
    return out


def text_plot(levels: Sequence[int], success: Sequence[float], names: Sequence[str], args) -> str:
    """Level (one row per rung) and rolling success (0..1) over episodes, one column per bin."""
    cols = min(80, len(levels))
    per = math.ceil(len(levels) / cols)
    bins = [range(i, min(i + per, len(levels))) for i in range(0, len(levels), per)]
    lines = [f"level served (one column = {per} episodes; x marks the bin's most frequent level)"]
    modes = [Counter(levels[i] for i in b).most_common(1)[0][0] for b in bins]
    for lv in range(max(levels), -1, -1):
        row = "".join("x" if m == lv else " " for m in modes)
        lines.append(f"{names[lv]:>22} |{row}")
    lines.append(f"{'':>22} +{'-' * len(bins)}")
    lines.append(f"rolling success over {args.window} episodes (= promotion threshold, - demotion line)")
    for r in range(10, -1, -1):
        lo = r / 10
        marks = "".join("o" if round(success[b[-1]] * 10) == r else " " for b in bins)
        rule = "=" if abs(lo - args.threshold) < 0.05 else ("-" if abs(lo - args.demote) < 0.05 else " ")
        lines.append(f"{lo:>22.1f} |" + "".join(m if m != " " else rule for m in marks))
    lines.append(f"{'episode':>22} +{'-' * len(bins)}")
    lines.append(f"{'':>22}  0{' ' * (len(bins) - len(str(len(levels))) - 1)}{len(levels)}")
    return "\n".join(lines)


def save_png(path: Path, levels, difficulty, success, args) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    top.step(range(len(levels)), levels, where="post", label="level served")
    top.set_ylabel("level")
    twin = top.twinx()
    twin.plot(difficulty, color="tab:orange", alpha=0.5, label="SATURN D")
    twin.set_ylabel("D(n, k, l)")
    bottom.plot(success, label=f"rolling success ({args.window})")
    bottom.axhline(args.threshold, color="tab:green", ls="--", label="promote threshold")
    bottom.axhline(args.demote, color="tab:red", ls=":", label="demote below")
    bottom.set_ylim(0, 1.02)
    bottom.set_xlabel("episode")
    bottom.set_ylabel("success")
    bottom.legend(loc="lower left")
    top.set_title(f"ThresholdCurriculum on {ENV_ID}, agent p = sigmoid({args.a} - {args.b} D)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1200)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--threshold", type=float, default=0.75)
    parser.add_argument("--demote", type=float, default=0.5)
    parser.add_argument("--a", type=float, default=14.6)
    parser.add_argument("--b", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--png", default="runs/bench_curriculum.png")
    args = parser.parse_args()

    agent = NoisyOracleAgent(args.a, args.b)
    curriculum = ThresholdCurriculum(
        SatGenerator, window=args.window, threshold=args.threshold, demote_below=args.demote, seed=args.seed
    )
    names = [f"L{i} n={a.generator.config.n_vars} k={a.generator.config.k} D={a.difficulty:.1f}"
             for i, a in enumerate(curriculum.arms)]  # fmt: skip
    print(f"{ENV_ID}: {len(curriculum.arms)} levels; agent p(D) = sigmoid({args.a} - {args.b} * D)")
    for name, arm in zip(names, curriculum.arms, strict=True):
        print(f"  {name:<24} p(oracle answer) = {agent.p_solve(arm.difficulty):.3f}")

    results = {
        "threshold curriculum": run(curriculum, agent, args.episodes, args.seed, args.concurrency),
        "uniform over levels (baseline)": run(
            LearnabilitySampler.over_levels(SatGenerator, explore=1.0, seed=args.seed),
            agent, args.episodes, args.seed, args.concurrency,
        ),
        "learnability sampler": run(
            LearnabilitySampler.over_levels(SatGenerator, seed=args.seed),
            agent, args.episodes, args.seed, args.concurrency,
        ),
    }  # fmt: skip

    log = results["threshold curriculum"]["log"]
    levels = [e["arm"] for e in log]
    success = rolling([e["passed"] for e in log], args.window)
    print()
    print(text_plot(levels, success, names, args))

    print("\nmoves of the threshold curriculum (after N counted episodes in all):")
    for e in curriculum.events:
        move = f"{e['move']:<8} L{e['from']} -> L{e['to']}"
        print(f"  {move} after {e['after']:>4} (window success {e['rate']:.2f})")
    tail = log[len(log) // 2 :]
    tail_levels = Counter(e["arm"] for e in tail)
    print(f"\nsecond half ({len(tail)} episodes): levels served {dict(sorted(tail_levels.items()))}, "
          f"success {sum(e['passed'] for e in tail) / len(tail):.3f}, "
          f"mean D {statistics.fmean(e['D'] for e in tail):.2f}")  # fmt: skip
    for lv, n in sorted(tail_levels.items()):
        at = [e["passed"] for e in tail if e["arm"] == lv]
        print(f"  {names[lv]:<24} {n:>4} episodes, success {sum(at) / len(at):.3f}")
    final = f"L{curriculum.level} (D={curriculum.difficulty:.2f})"
    left_out = f"records ignored: {curriculum.ignored}, from a level since left: {curriculum.stale}"
    print(f"final level {final}; {left_out}")
    rates = {}
    for lv in sorted(set(levels)):
        at = [e["passed"] for e in log if e["arm"] == lv]
        rates[lv] = sum(at) / len(at)
    frontier = max((lv for lv, r in rates.items() if r >= args.threshold), default=None)
    print(f"whole-run success by level: {', '.join(f'L{lv} {r:.2f}' for lv, r in rates.items())}; "
          f"highest level at or above the threshold {args.threshold}: L{frontier}")  # fmt: skip

    base = results["uniform over levels (baseline)"]["learnability"]
    header = f"{'episodes':>9}{'success':>9}{'mean D':>8}{'p(1-p)':>8}{'vs base':>9}{'wall s':>8}{'ep/s':>7}"
    print(f"\n{'source':<32}{header}")
    for name, r in results.items():
        n = len(r["log"])
        print(f"{name:<32}{n:>9}{r['success']:>9.3f}{r['mean_D']:>8.2f}{r['learnability']:>8.3f}"
              f"{r['learnability'] / base:>8.2f}x{r['wall_s']:>8.2f}{n / r['wall_s']:>7.0f}")  # fmt: skip
    png = Path(args.png).resolve()
    if save_png(png, levels, [e["D"] for e in log], success, args):
        print(f"\nplot saved to {png}")
    else:
        print("\nmatplotlib is not installed: no PNG")


if __name__ == "__main__":
    main()

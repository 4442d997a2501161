"""Does RL raise the reward? GRPO and ArCHer on the guessing smoke env, bundled model, CPU.

For each algorithm: train the bundled SmolLM2-135M-Instruct on ``puzzles/guess-number-v0`` for
``--steps`` steps (``--tasks`` tasks x ``--group`` samples per step), then evaluate the trained
policy on a fixed set of evaluation episodes. Baseline: the untrained model on the same
evaluation episodes (same env seeds, same sampling temperature), measured in this run. Prints the
training reward per step, the evaluation rewards and their ratio, wall times, and writes a plot of
reward against step (``--out``/train_reward.png) for both algorithms.

Run: ``python bench/train.py [--steps 12] [--algos grpo,archer] [--out runs/bench-train]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from agentgym.rollout import RolloutConfig, run_rollouts
from agentgym.train.config import TrainConfig
from agentgym.train.trainer import Trainer, make_policy_agent

ENV_ID = "puzzles/guess-number-v0"


def evaluate(agent: Any, episodes: int, seed: int) -> float:
    """Mean reward of ``agent`` over ``episodes`` fixed evaluation episodes."""
    rc = RolloutConfig(
        episodes=episodes,
        samples_per_task=1,
        concurrency=episodes,
        seed=seed,
        progress=False,
        turn_timeout_s=None,
        episode_timeout_s=None,
    )
    trajs = [t for t in run_rollouts(ENV_ID, agent, rc).trajectories if t.status == "ok"]
    return sum(t.reward for t in trajs) / max(len(trajs), 1)


def plot(histories: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Reward against step for each algorithm (raw and a 3-step moving average)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for algo, hist in histories.items():
        steps = [m["step"] for m in hist]
        rewards = [m["mean_reward"] for m in hist]
        line = ax.plot(steps, rewards, alpha=0.35, marker="o", label=f"{algo} (per step)")[0]
        smooth = [
            sum(rewards[max(0, i - 2) : i + 1]) / len(rewards[max(0, i - 2) : i + 1])
            for i in range(len(rewards))
        ]
        ax.plot(steps, smooth, color=line.get_color(), linewidth=2, label=f"{algo} (3-step mean)")
    ax.set_xlabel("step")
    ax.set_ylabel("mean episode reward")
    ax.set_title(f"{ENV_ID}, bundled SmolLM2-135M, CPU")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    """Train each algorithm, evaluate against the untrained baseline, print figures and plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--algos", default="grpo,archer")
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--eval-episodes", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--train-layers", type=int, default=6)
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--out", default="runs/bench-train")
    parser.add_argument("--plot-only", action="store_true", help="plot the metrics already in --out")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.plot_only:
        found = {
            p.parent.name: [json.loads(line) for line in p.read_text().splitlines()]
            for p in sorted(out.glob("*/metrics.jsonl"))
        }
        for algo, hist in found.items():
            print(algo, " ".join(f"{m['mean_reward']:.3f}" for m in hist))
        plot(found, out / "train_reward.png")
        return
    eval_seed = 987_654
    histories: dict[str, list[dict[str, Any]]] = {}
    results: dict[str, dict[str, float]] = {}
    baseline = None
    for algo in args.algos.split(","):
        config = TrainConfig(
            env_id=ENV_ID,
            algo=algo,  # type: ignore[arg-type]
            out_dir=str(out / algo),
            steps=args.steps,
            tasks_per_step=args.tasks,
            group_size=args.group,
            lr=args.lr,
            train_layers=args.train_layers,
            max_new_tokens=args.max_new_tokens,
            kl_coef=0.02,
            progress=False,
        )
        agent = make_policy_agent(config)
        if baseline is None:
            t0 = time.perf_counter()
            baseline = evaluate(agent, args.eval_episodes, eval_seed)
            print(
                f"baseline (untrained bundled model): eval reward {baseline:.3f} "
                f"({time.perf_counter() - t0:.0f}s)"
            )
        (out / algo / "metrics.jsonl").unlink(missing_ok=True)
        trainer = Trainer(config, agent=agent)
        t0 = time.perf_counter()
        hist = []
        for step in range(args.steps):
            m = trainer.step(step)
            hist.append(m)
            print(
                f"{algo} step {step:3d}: reward {m['mean_reward']:.3f} success {m['success']:.2f} "
                f"kl {m.get('kl', 0.0):.4f} ({m['step_s']:.0f}s)",
                flush=True,
            )
        train_s = time.perf_counter() - t0
        final = evaluate(agent, args.eval_episodes, eval_seed)
        histories[algo] = hist
        first = sum(m["mean_reward"] for m in hist[:3]) / len(hist[:3])
        last = sum(m["mean_reward"] for m in hist[-3:]) / len(hist[-3:])
        results[algo] = {
            "eval_before": baseline,
            "eval_after": final,
            "train_first3": first,
            "train_last3": last,
            "train_s": train_s,
            "s_per_step": train_s / args.steps,
        }
        print(
            f"{algo}: eval reward {baseline:.3f} -> {final:.3f} (ratio {final / max(baseline, 1e-9):.2f}x vs "
            f"untrained baseline); train reward first 3 steps {first:.3f}, last 3 {last:.3f}; "
            f"{train_s:.0f}s ({train_s / args.steps:.0f}s/step)",
            flush=True,
        )
        del trainer, agent
    for algo, res in results.items():
        (out / algo / "results.json").write_text(json.dumps(res, indent=2))
    # Plot every algorithm with results in ``out`` (runs of one algorithm each may run side by side).
    for folder in sorted(p for p in out.iterdir() if (p / "results.json").is_file()):
        lines = (folder / "metrics.jsonl").read_text().splitlines()
        histories.setdefault(folder.name, [json.loads(line) for line in lines])
    plot(histories, out / "train_reward.png")
    print(f"plot: {out / 'train_reward.png'}; figures: {out}/<algo>/results.json")


if __name__ == "__main__":
    main()

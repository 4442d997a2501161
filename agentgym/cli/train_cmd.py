"""``agentgym train`` (RL on an env) and ``agentgym export`` (a run as verl/TRL/OpenRLHF data)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def train_command(
    env: Annotated[str, typer.Option("--env", help="Env id to train on.")] = "puzzles/guess-number-v0",
    algo: Annotated[str, typer.Option("--algo", help="grpo | ppo | archer.")] = "grpo",
    model: Annotated[str, typer.Option("--model", help="bundled | hf:PATH.")] = "bundled",
    lora: Annotated[
        bool, typer.Option("--lora", help="Train a LoRA adapter instead of all weights.")
    ] = False,
    train_layers: Annotated[
        int, typer.Option("--train-layers", help="Train only the top N layers (0: all).")
    ] = 0,
    steps: Annotated[int, typer.Option("--steps", help="Training steps.")] = 20,
    out: Annotated[
        str, typer.Option("--out", help="Run folder (metrics.jsonl, checkpoints).")
    ] = "runs/train",
    tasks: Annotated[int, typer.Option("--tasks", help="Tasks per step.")] = 2,
    group: Annotated[int, typer.Option("--group", help="Samples per task (GRPO's k).")] = 4,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 2e-5,
    kl: Annotated[float, typer.Option("--kl", help="KL coefficient to the initial model.")] = 0.02,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature.")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Tokens per reply.")] = 16,
    reward: Annotated[str, typer.Option("--reward", help="outcome | turn | gra | igpo.")] = "outcome",
    gae: Annotated[str, typer.Option("--gae", help="PPO: GAE over token | turn.")] = "token",
    epochs: Annotated[int, typer.Option("--epochs", help="Policy passes per step.")] = 1,
    save_every: Annotated[int, typer.Option("--save-every", help="Checkpoint every N steps (0: end).")] = 0,
    device: Annotated[str, typer.Option("--device", help="cpu | cuda.")] = "cpu",
    seed: Annotated[int, typer.Option("--seed", help="Run seed.")] = 0,
) -> None:
    """Train a model on an env with GRPO, PPO or ArCHer; metrics go to OUT/metrics.jsonl."""
    from agentgym.train.config import TrainConfig
    from agentgym.train.rewards import RewardConfig

    config = TrainConfig(
        env_id=env,
        algo=algo,  # type: ignore[arg-type]
        model=model,
        out_dir=out,
        steps=steps,
        tasks_per_step=tasks,
        group_size=group,
        lr=lr,
        kl_coef=kl,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        gae=gae,  # type: ignore[arg-type]
        ppo_epochs=epochs,
        lora=lora,
        train_layers=train_layers,
        save_every=save_every,
        device=device,
        seed=seed,
        reward=RewardConfig(kind=reward),  # type: ignore[arg-type]
    )
    config.validate()
    from agentgym.train.trainer import Trainer

    history = Trainer(config).run()
    first, last = history[0]["mean_reward"], history[-1]["mean_reward"]
    console.print(
        f"{len(history)} steps: mean reward {first:.3f} -> {last:.3f}; metrics in {out}/metrics.jsonl"
    )


def export_command(
    run_dir: Annotated[str, typer.Argument(help="A run folder (agentgym run/train output).")],
    fmt: Annotated[str, typer.Option("--format", help="verl | trl | openrlhf.")] = "trl",
    tokenizer: Annotated[str, typer.Option("--tokenizer", help="bundled | hf:PATH.")] = "bundled",
    out: Annotated[str, typer.Option("--out", help="Output file (.parquet for verl, .jsonl else).")] = "",
    reward: Annotated[
        str,
        typer.Option("--reward", help="outcome | turn | gra (default: the run's config.json, else outcome)."),
    ] = "",
) -> None:
    """Export a run's episodes as training data in a framework's layout, with the run's rewards."""
    from agentgym.train.export import FORMATS, export_run, load_tokenizer, run_reward_config
    from agentgym.train.rewards import RewardConfig

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    path = out or f"{run_dir.rstrip('/')}/export-{fmt}.{'parquet' if fmt == 'verl' else 'jsonl'}"
    config = run_reward_config(run_dir) or RewardConfig()
    if reward:
        config = RewardConfig.from_dict({**config.__dict__, "kind": reward})
    summary = export_run(run_dir, fmt, load_tokenizer(tokenizer), path, config)
    typer.echo(json.dumps(summary))

"""``agentgym generate``: write a split of a generator's task stream to a file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from agentgym.cli.run_cmd import parse_difficulty
from agentgym.core.errors import ConfigError

console = Console(stderr=True)


def generate_command(
    generator: Annotated[str, typer.Argument(help="Generator id, e.g. puzzles/sat (see --list).")] = "",
    n: Annotated[int, typer.Option("--n", "-n", help="How many tasks.")] = 100,
    seed: Annotated[int, typer.Option(help="Stream seed: task i is made from (seed, i).")] = 0,
    split: Annotated[
        str, typer.Option(help="train or heldout: tasks of the other split are skipped.")
    ] = "train",
    difficulty: Annotated[
        list[str] | None, typer.Option("--difficulty", "-d", help="key=value, repeatable.")
    ] = None,
    level: Annotated[int | None, typer.Option(help="Set every difficulty knob to this level first.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="FILE.jsonl, FILE.parquet or a folder (HF datasets)."),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List generator ids and their difficulty knobs.")
    ] = False,
) -> None:
    """Generate verifiable tasks: the same (seed, index, config) gives the same task on any machine.

    Example: agentgym generate puzzles/sat --n 1000 --seed 1 --split train -d n_vars=12 --out sat.jsonl
    """
    from agentgym.tasks.io import write_tasks
    from agentgym.tasks.registry import generator_class, list_generators
    from agentgym.tasks.splits import generate_split

    if list_:
        for gid in list_generators():
            cls = generator_class(gid)
            knobs = ", ".join(f"{a.name} {list(a.levels)}" for a in cls.difficulty_attrs)
            typer.echo(f"{gid}: {knobs}")
        return
    if not generator:
        raise ConfigError("name a generator (agentgym generate --list shows them)")
    if out is None:
        raise ConfigError("--out is required (FILE.jsonl, FILE.parquet or a folder)")
    if split not in ("train", "heldout"):
        raise ConfigError(f"--split must be train or heldout, got {split!r}")
    cls = generator_class(generator)
    overrides = parse_difficulty(difficulty or [])
    gen = cls.at_level(level, **overrides) if level is not None else cls(**overrides)
    started = time.perf_counter()
    tasks = list(generate_split(gen, seed, n, split))  # type: ignore[arg-type]
    prompts = [p if isinstance(p := gen.prompt(t), str) else "" for t in tasks]
    written = write_tasks(tasks, out, prompts)
    elapsed = time.perf_counter() - started
    console.print(f"wrote {written} {split} tasks of {generator} to {out} in {elapsed:.2f}s")

"""Write and read task sets: JSONL, Parquet, or a saved Hugging Face ``datasets`` folder.

JSONL holds one :meth:`Task.to_dict` per line. Parquet and ``datasets`` folders hold flat columns
(id, family, generator, split, prompt text, difficulty and the JSON of spec/answer/meta), so the
rows load in any Arrow tool; :func:`read_tasks` rebuilds Tasks from any of the three.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentgym.core.errors import ConfigError
from agentgym.core.task import Task
from agentgym.tasks.splits import split_of


def output_format(path: str | Path) -> str:
    """``jsonl``, ``parquet`` or ``hf`` (a folder) by the path's extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".jsonl":
        return "jsonl"
    if suffix == ".parquet":
        return "parquet"
    if suffix == "":
        return "hf"
    raise ConfigError(f"unknown task file extension {suffix!r}: use .jsonl, .parquet or a folder path")


def task_row(task: Task, prompt: str = "") -> dict[str, Any]:
    """A flat row for Arrow formats (nested fields as JSON text)."""
    return {
        "id": task.id,
        "family": task.family,
        "generator": str(task.spec.get("generator", "")),
        "split": split_of(task),
        "prompt": prompt,
        "difficulty": json.dumps(task.difficulty, sort_keys=True),
        "spec": json.dumps(task.spec, sort_keys=True),
        "answer": json.dumps(task.answer),
        "meta": json.dumps(task.meta, sort_keys=True),
    }


def row_task(row: dict[str, Any]) -> Task:
    """Rebuild a Task from :func:`task_row` output (its id is checked against its content)."""
    return Task(
        family=row["family"],
        spec=json.loads(row["spec"]),
        answer=json.loads(row["answer"]),
        difficulty=json.loads(row["difficulty"]),
        meta=json.loads(row["meta"]),
        id=row["id"],
    )


def write_tasks(tasks: Iterable[Task], path: str | Path, prompts: Iterable[str] | None = None) -> int:
    """Write ``tasks`` to ``path`` in the format its extension names; returns how many were written."""
    path = Path(path)
    fmt = output_format(path)
    tasks = list(tasks)
    if fmt == "jsonl":
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for task in tasks:
                fh.write(json.dumps(task.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        return len(tasks)
    texts = list(prompts) if prompts is not None else [""] * len(tasks)
    rows = [task_row(t, p) for t, p in zip(tasks, texts, strict=True)]
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "Parquet and datasets folders need 'datasets': pip install 'agentgym[data]'"
        ) from exc
    dataset = datasets.Dataset.from_list(rows) if rows else datasets.Dataset.from_dict({})
    if fmt == "parquet":
        path.parent.mkdir(parents=True, exist_ok=True)
        dataset.to_parquet(str(path))
    else:
        dataset.save_to_disk(str(path))
    return len(tasks)


def read_tasks(path: str | Path) -> list[Task]:
    """Read tasks written by :func:`write_tasks` (any of the three formats)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path} does not exist")
    fmt = "hf" if path.is_dir() else output_format(path)
    if fmt == "jsonl":
        out = []
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        out.append(Task.from_dict(json.loads(line)))
                    except (json.JSONDecodeError, KeyError) as exc:
                        raise ConfigError(f"{path}:{lineno}: not a task record ({exc})") from None
        return out
    import datasets

    dataset = (
        datasets.Dataset.from_parquet(str(path)) if fmt == "parquet" else datasets.load_from_disk(str(path))
    )
    return [row_task(row) for row in dataset]

"""Minesweeper boards with a safe opening.

A ``rows`` x ``cols`` board holds ``mines`` mines placed uniformly at random outside a start cell
and its neighbours, so the start cell shows 0 and the first reveal opens an area (first click
safe). The game starts with that area revealed. The task's answer is the sorted mine list.

The rules (numbers, flooding, the opening, the win) and the constraint-based solver (the oracle)
are in :mod:`.minesweeper_rules`, shared with the env.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.games.minesweeper_rules import HIDDEN, around, mines_of, opening
from agentgym.verifiers.rule.answer import last_answer_block


@dataclass(frozen=True)
class MinesweeperConfig(GeneratorConfig):
    """A ``rows`` x ``cols`` board with ``mines`` mines."""

    rows: int = 6
    cols: int = 6
    mines: int = 5

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(4 <= self.rows <= 30, self, "rows", "must be in [4, 30]")
        require(4 <= self.cols <= 30, self, "cols", "must be in [4, 30]")
        require(1 <= self.mines <= self.rows * self.cols - 9, self, "mines", "must be in [1, rows*cols-9]")


class MinesweeperGenerator(TaskGenerator):
    """Minesweeper boards with a revealed safe opening; the answer is where the mines are."""

    id = "games/minesweeper"
    family = "games"
    config_cls = MinesweeperConfig
    difficulty_attrs = (
        DifficultyAttr("rows", (5, 6, 8, 9, 12)),
        DifficultyAttr("cols", (5, 6, 8, 9, 12)),
        DifficultyAttr("mines", (3, 5, 10, 12, 24)),
    )
    instructions = "Find every mine on this Minesweeper board ('.' hidden, digits count neighbouring mines)."
    answer_format = (
        "List the mines as 'row col' pairs inside <answer></answer> tags, e.g. <answer>0 3; 2 1</answer>."
    )

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        cfg: MinesweeperConfig = self.config  # type: ignore[assignment]
        start = (int(rng.integers(cfg.rows)), int(rng.integers(cfg.cols)))
        banned = {start, *around(start, cfg.rows, cfg.cols)}
        cells = [(r, c) for r in range(cfg.rows) for c in range(cfg.cols) if (r, c) not in banned]
        picks = rng.choice(len(cells), size=cfg.mines, replace=False)
        mines = sorted(cells[int(i)] for i in picks)
        layout = hashlib.sha256(repr(mines).encode()).hexdigest()[:16]  # task ids differ per board
        spec = {
            "rows": cfg.rows,
            "cols": cfg.cols,
            "mines": cfg.mines,
            "start": list(start),
            "layout": layout,
        }
        return spec, [list(m) for m in mines]

    def prompt(self, task: Task) -> str:
        """The rules, the opened board and the answer format."""
        shown = opening(task.spec, mines_of(task.answer))
        rows = [
            " ".join(str(shown[(r, c)]) if (r, c) in shown else HIDDEN for c in range(task.spec["cols"]))
            for r in range(task.spec["rows"])
        ]
        return (
            f"{self.instructions} There are {task.spec['mines']} mines.\n\n"
            + "\n".join(rows)
            + f"\n\n{self.answer_format}"
        )

    def verify(self, task: Task, response: str) -> Verdict:
        """Passed when the answered set of mines is exactly the board's; score = Jaccard overlap."""
        block = last_answer_block(response[-20_000:])
        if block is None:
            return Verdict(0.0, False, kind="minesweeper", details={"format_error": "no <answer> block"})
        nums = [int(x) for x in block.replace(",", " ").replace(";", " ").split() if x.isdigit()][:2000]
        if len(nums) % 2:
            return Verdict(
                0.0, False, kind="minesweeper", details={"format_error": "odd number of coordinates"}
            )
        said = {(nums[i], nums[i + 1]) for i in range(0, len(nums), 2)}
        truth = {tuple(m) for m in task.answer}
        score = len(said & truth) / len(said | truth) if said | truth else 1.0
        return Verdict(score, said == truth, kind="minesweeper", details={"found": len(said & truth)})

    def reference_response(self, task: Task) -> str:
        """The mine list."""
        return "<answer>" + "; ".join(f"{r} {c}" for r, c in task.answer) + "</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The mine list without its first mine."""
        return "<answer>" + "; ".join(f"{r} {c}" for r, c in task.answer[1:]) + "</answer>"

"""The oracle's plan: ``edit`` calls that turn the buggy files back into the originals, then ``submit``.

Each edit's ``old_string`` is the buggy lines widened with neighbouring lines until it is unique
in the file as it stands at that point, so the edits go through the env's own tool exactly as an
agent's would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentgym.tasks.swe.record import SweTask


def _spans(task: SweTask, rel: str) -> list[tuple[int, int, str]]:
    """(first, end) buggy-line indices of each mutation in ``rel`` and the original text there."""
    spans, offset = [], 0
    for mutation in sorted((m for m in task.mutations if m.path == rel), key=lambda m: m.start):
        mutated = mutation.mutated.splitlines(keepends=True)
        first = mutation.start - 1 + offset
        spans.append((first, first + len(mutated), mutation.original))
        offset += len(mutated) - (mutation.end - mutation.start + 1)
    return spans


def oracle_edits(task: SweTask, tree: Path) -> list[dict[str, Any]]:
    """``[{"name": "edit", "arguments": {...}}, ...]`` that undo the task's mutations in ``tree``."""
    calls = []
    for rel in sorted({m.path for m in task.mutations}):
        lines = (tree / rel).read_text(encoding="utf-8").splitlines(keepends=True)
        for first, end, original in reversed(_spans(task, rel)):
            low, high = first, end
            while True:
                old = "".join(lines[low:high])
                if old and "".join(lines).count(old) == 1:
                    break
                if low == 0 and high == len(lines):
                    break
                low, high = max(0, low - 1), min(len(lines), high + 1)
            new = "".join(lines[low:first]) + original + "".join(lines[end:high])
            calls.append({"name": "edit", "arguments": {"path": rel, "old_string": old, "new_string": new}})
            lines[low:high] = new.splitlines(keepends=True)
    return calls

"""Shared helpers of the SWE tests: pick tasks, and build patches by editing a copy of a tree."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from agentgym.sandbox.local import check_local_backend
from agentgym.tasks.swe.patches import tree_diff
from agentgym.tasks.swe.record import SweTask, load_tasks
from agentgym.tasks.swe.snapshot import agent_tree, buggy_tree

REASON = check_local_backend()
needs_bwrap = pytest.mark.skipif(REASON is not None, reason=f"local sandbox unavailable: {REASON}")


def first_task(package_prefix: str, bugs: int = 1) -> SweTask:
    """The first shipped task of a package with ``bugs`` bugs."""
    return next(
        t for t in load_tasks() if t.package.startswith(package_prefix) and t.difficulty["bugs"] == bugs
    )


def one_task_per_package() -> list[SweTask]:
    """A representative subset: the first task of every shipped package, plus one two-bug task."""
    seen: dict[str, SweTask] = {}
    for task in load_tasks():
        seen.setdefault(task.package, task)
    doubles = [t for t in load_tasks() if t.difficulty["bugs"] == 2][:1]
    return list(seen.values()) + doubles


def patch_from(task: SweTask, tmp: Path, change: Callable[[Path], None], full: bool = False) -> str:
    """The diff made by ``change(tree)`` on a copy of the agent's view (``full``: the whole buggy repo)."""
    base = buggy_tree(task) if full else agent_tree(task)
    tree = tmp / "edited"
    shutil.copytree(base, tree, symlinks=True)
    change(tree)
    return tree_diff(base, tree)


def prepend(path: Path, text: str) -> None:
    """Put ``text`` at the top of a file."""
    path.write_text(text + path.read_text(encoding="utf-8"), encoding="utf-8")

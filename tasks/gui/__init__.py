"""GUI action-prediction tasks (UI-R1 / GUI-R1 style): frozen single-step datasets made from live pages.

``data/miniwob_actions.jsonl`` holds tasks rendered from MiniWoB++ pages by
``python -m agentgym.environments.gui.action_prediction --out tasks/gui/data/miniwob_actions.jsonl``
(``agentgym gui export-actions`` does the same); ``data/shop_actions.jsonl`` holds 25 tasks rendered
from the web shop's pages by the same command with ``--source shop --n 25``. Each task's ``spec``
has the page instruction, the screenshot (``image_png_b64``), the simplified DOM and the viewport;
its ``answer`` is the next action of the scripted solver with the target element's box
(``box = [x, y, w, h]``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from agentgym.core.task import Task

DATA_DIR = Path(__file__).parent / "data"
DATASETS = {"miniwob": DATA_DIR / "miniwob_actions.jsonl", "shop": DATA_DIR / "shop_actions.jsonl"}


@lru_cache(maxsize=4)
def load_action_tasks(source: str = "miniwob") -> tuple[Task, ...]:
    """The frozen action-prediction tasks of ``source`` (``miniwob``)."""
    from agentgym.core.errors import TaskError
    from agentgym.tasks.io import read_tasks

    if source not in DATASETS:
        raise TaskError(f"unknown action dataset {source!r}; known: {sorted(DATASETS)}")
    path = DATASETS[source]
    if not path.is_file():
        raise TaskError(f"{path} is missing; build it with agentgym gui export-actions")
    return tuple(read_tasks(path))

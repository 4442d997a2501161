"""Convert trajectories into a Hugging Face ``datasets.Dataset`` (the ``data`` extra)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agentgym.core.messages import Message
from agentgym.trajectory import Trajectory, encode_record


def _flat_message(m: Message) -> dict[str, Any]:
    return {
        "role": m.role,
        "content": m.text,
        "n_images": len(m.images),
        "tool_calls": json.dumps([c.to_dict() for c in m.tool_calls]) if m.tool_calls else "",
        "tool_call_id": m.tool_call_id or "",
    }


def trajectory_row(t: Trajectory) -> dict[str, Any]:
    """One dataset row: scalar columns, the conversation as flat messages, the full record as JSON."""
    return {
        "episode_id": t.episode_id,
        "env_id": t.env_id,
        "task_id": t.task_id or "",
        "agent": t.agent,
        "seed": -1 if t.seed is None else int(t.seed),
        "group_id": t.group_id,
        "sample_index": t.sample_index,
        "status": t.status,
        "reward": t.reward,
        "passed": t.passed,
        "n_turns": len(t.turns),
        "duration_s": t.duration_s,
        "messages": [_flat_message(m) for m in t.messages()],
        "turn_rewards": [turn.reward for turn in t.turns],
        "record": encode_record(t.to_dict())[0],  # as the store writes it (always valid UTF-8)
    }


def to_dataset(trajectories: Sequence[Trajectory]) -> Any:
    """Build a ``datasets.Dataset`` with one row per trajectory (see :func:`trajectory_row`)."""
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("to_dataset needs the 'datasets' package: pip install 'agentgym[data]'") from exc
    rows = [trajectory_row(t) for t in trajectories]
    if not rows:
        return datasets.Dataset.from_dict({})
    return datasets.Dataset.from_list(rows)

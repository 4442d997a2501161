"""Dataset rows that name an AgentGym episode for external trainers (verl's agent loop, SkyRL-gym).

An external trainer reads a dataset and, per row, runs an episode itself. A row here names the
episode in one JSON column, :data:`EPISODE_COLUMN` (``"agentgym"``): the env id, the env seed, the
env kwargs and the task (:class:`EpisodeRef`); the adapters in :mod:`agentgym.integrations` rebuild
the env from it (``make(env_id, **kwargs).reset(seed=seed, options={"task": task})``). One JSON
string keeps the parquet schema the same for every env, whatever its kwargs and task look like.

- verl (:func:`verl_row`): ``agent_name`` (``"agentgym"``, the agent loop that runs the row),
  ``data_source`` (the env id), ``prompt`` (the first observation as chat messages), ``ability``
  (the family), ``reward_model`` (``style``, ``ground_truth``: the task's answer), ``extra_info``
  (``index``, ``split``) and the episode column.
- SkyRL (:func:`skyrl_row`): ``prompt``, ``env_class`` (the id the env is registered under in
  skyrl_gym) and the episode column (SkyRL hands every other column to the env as ``extras``).

This module lives in ``agentgym.train`` (not in ``agentgym.integrations``) so that
:mod:`agentgym.train.export` can write these columns without importing the trainers' packages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.agents.chat_format import template_dicts
from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.tools import ToolSpec
from agentgym.registry import make, unwrap
from agentgym.tasks.splits import split_of

#: The name verl's agent-loop registry and the rows' ``agent_name`` use for the AgentGym loop.
AGENT_NAME = "agentgym"
#: The column holding the :class:`EpisodeRef` of a row (a JSON string).
EPISODE_COLUMN = "agentgym"


@dataclass(frozen=True)
class EpisodeRef:
    """What rebuilds an episode: env id, env seed, env kwargs and (optionally) the task to pose."""

    env_id: str
    seed: int | None = None
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    task: Mapping[str, Any] | None = None

    def to_json(self) -> str:
        """The JSON string stored in the row's episode column."""
        value = {"env_id": self.env_id, "seed": self.seed, "kwargs": dict(self.env_kwargs), "task": self.task}
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    @classmethod
    def parse(cls, value: Any) -> EpisodeRef:
        """Read a row's episode column (a JSON string or a mapping); ConfigError when malformed."""
        if isinstance(value, (str, bytes)):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError(f"the {EPISODE_COLUMN!r} column is not JSON: {exc}") from None
        if not isinstance(value, Mapping) or not isinstance(value.get("env_id"), str):
            raise ConfigError(
                f"the {EPISODE_COLUMN!r} column must hold env_id, seed, kwargs and task; got {value!r:.200}"
            )
        unknown = sorted(set(value) - {"env_id", "seed", "kwargs", "task"})
        if unknown:
            raise ConfigError(f"unknown field(s) {unknown} in the {EPISODE_COLUMN!r} column")
        seed, kwargs, task = value.get("seed"), value.get("kwargs") or {}, value.get("task")
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise ConfigError(f"the episode seed must be a whole number >= 0 or null, got {seed!r}")
        if not isinstance(kwargs, Mapping) or (task is not None and not isinstance(task, Mapping)):
            raise ConfigError("the episode's 'kwargs' and 'task' must be JSON objects (task may be null)")
        return cls(value["env_id"], None if seed is None else int(seed), dict(kwargs), task)

    def reset_options(self) -> dict[str, Any] | None:
        """The ``options`` of ``env.reset``: the task to pose, when the row names one."""
        return {"task": Task.from_dict(self.task)} if self.task is not None else None


def agent_loop_columns(
    env_id: str,
    seed: int | None,
    task: Mapping[str, Any] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The two columns that make a verl row run in the AgentGym agent loop (``agent_name`` + episode)."""
    ref = EpisodeRef(env_id, seed, dict(env_kwargs or {}), dict(task) if task is not None else None)
    return {"agent_name": AGENT_NAME, EPISODE_COLUMN: ref.to_json()}


def prompt_dicts(messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> list[dict[str, Any]]:
    """Chat messages as trainers take them: text only, tools described in the system message."""
    return template_dicts(messages, tools)


def first_observation(ref: EpisodeRef) -> tuple[list[Message], tuple[ToolSpec, ...], Task | None]:
    """Reset the env of ``ref`` once: its first observation, its tools and the task it posed."""
    env = make(ref.env_id, **dict(ref.env_kwargs))
    try:
        obs, _ = env.reset(seed=ref.seed, options=ref.reset_options())
        base = unwrap(env)
        return list(obs), tuple(base.tools), base.task
    finally:
        env.close()


def _answer_text(task: Task | None) -> str:
    answer = task.answer if task is not None else None
    if answer is None:
        return ""
    return answer if isinstance(answer, str) else json.dumps(answer, sort_keys=True)


def _pinned(ref: EpisodeRef) -> tuple[EpisodeRef, list[dict[str, Any]], Task | None]:
    """``ref`` with the task its env posed written in, and the first prompt."""
    obs, tools, task = first_observation(ref)
    if ref.task is None and task is not None:
        ref = EpisodeRef(ref.env_id, ref.seed, ref.env_kwargs, task.to_dict())
    return ref, prompt_dicts(obs, tools), task


def verl_row(ref: EpisodeRef, index: int = 0) -> dict[str, Any]:
    """One verl RL row that runs ``ref`` in the AgentGym agent loop (resets the env once for the prompt).

    The task the env poses is written into the row, so the trainer plays exactly that task.
    """
    ref, prompt, task = _pinned(ref)
    return {
        "data_source": ref.env_id,
        "agent_name": AGENT_NAME,
        "prompt": prompt,
        "ability": ref.env_id.split("/", 1)[0],
        "reward_model": {"style": "rule", "ground_truth": _answer_text(task)},
        "extra_info": {"index": index, "split": split_of(task) if task is not None else "train"},
        EPISODE_COLUMN: ref.to_json(),
    }


def skyrl_row(ref: EpisodeRef, env_class: str | None = None) -> dict[str, Any]:
    """One SkyRL row for ``ref``; ``env_class`` is the skyrl_gym id (default: the env id itself)."""
    ref, prompt, _ = _pinned(ref)
    return {"prompt": prompt, "env_class": env_class or ref.env_id, EPISODE_COLUMN: ref.to_json()}


def episode_refs(
    env_id: str, seeds: Iterable[int], env_kwargs: Mapping[str, Any] | None = None
) -> list[EpisodeRef]:
    """One :class:`EpisodeRef` per seed of ``env_id`` (the env's generator poses each seed's task)."""
    return [EpisodeRef(env_id, int(s), dict(env_kwargs or {})) for s in seeds]


def write_parquet(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write rows as one parquet file (needs pyarrow); returns the path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not rows:
        raise ConfigError("no rows to write")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([dict(r) for r in rows]), str(out))
    return out

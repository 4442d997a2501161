"""Trajectory records and their append-only JSONL store.

One record per episode, written (one ``write`` of one line, flushed) the moment the episode ends. A
run killed mid-write leaves at most one partial last line, which the next open cuts off; resuming
skips the episode ids already stored, so each episode ends up in the file exactly once. The final
:class:`~agentgym.core.verdict.Verdict` stays typed on the trajectory and is serialized only here
(``to_dict``); records whose verdict is a plain dict (every store so far) load back typed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message, clean_text
from agentgym.core.verdict import Verdict, as_verdict

Status = Literal["ok", "truncated", "timeout", "env_error", "agent_error", "verifier_error"]
STATUSES: tuple[str, ...] = (
    "ok",
    "truncated",
    "timeout",
    "env_error",
    "agent_error",
    "verifier_error",
)
SCHEMA_VERSION = 1
_MESSAGE_FIELDS = ("turns", "initial_observation", "final_observation")
_MAX_RECORD_DEPTH = 100  # deeper values of a record that JSON refuses are stored as their repr


@dataclass
class Turn:
    """One agent turn: what the agent was shown, what it replied, and what that earned."""

    index: int
    observation: list[Message]
    action: Message
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    prompt_token_ids: list[int] | None = None
    agent_s: float = 0.0
    env_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (values in ``info`` that JSON cannot hold are written as repr)."""
        return {
            "index": self.index,
            "observation": [m.to_dict() for m in self.observation],
            "action": self.action.to_dict(),
            "reward": self.reward,
            "terminated": self.terminated,
            "truncated": self.truncated,
            "token_ids": self.token_ids,
            "logprobs": self.logprobs,
            "prompt_token_ids": self.prompt_token_ids,
            "agent_s": self.agent_s,
            "env_s": self.env_s,
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Turn:
        """Rebuild a turn from :meth:`to_dict` output."""
        fields_ = dict(data)
        fields_["observation"] = [Message.from_dict(m) for m in data["observation"]]
        fields_["action"] = Message.from_dict(data["action"])
        return cls(**fields_)


@dataclass
class Trajectory:
    """One episode: identity, every turn, the final observation, verdict and status."""

    episode_id: str
    env_id: str
    agent: str
    seed: int | None
    task_id: str | None = None
    group_id: int = 0
    sample_index: int = 0
    turns: list[Turn] = field(default_factory=list)
    initial_observation: list[Message] = field(default_factory=list)
    final_observation: list[Message] = field(default_factory=list)
    verdict: Verdict | None = None
    status: Status = "ok"
    error: str | None = None
    started_at: float = 0.0
    duration_s: float = 0.0
    task: dict[str, Any] | None = None
    versions: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        # A verdict given in its serialized form (older callers, stored records) is typed here.
        if self.verdict is not None and not isinstance(self.verdict, Verdict):
            self.verdict = as_verdict(self.verdict)

    @property
    def reward(self) -> float:
        """The sum of the turns' rewards."""
        return float(sum(t.reward for t in self.turns))

    @property
    def passed(self) -> bool:
        """True when the final verdict passed (and the episode ended normally)."""
        verdict = self.verdict
        return verdict is not None and verdict.passed and self.status in ("ok", "truncated")

    def messages(self) -> list[Message]:
        """The whole conversation: first observation, then each action and the observation after it."""
        out = list(self.initial_observation)
        for i, turn in enumerate(self.turns):
            out.append(turn.action)
            nxt = self.turns[i + 1].observation if i + 1 < len(self.turns) else self.final_observation
            out.extend(nxt)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (one JSONL line in the store)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _MESSAGE_FIELDS}
        out["verdict"] = self.verdict.to_dict() if self.verdict is not None else None
        out["turns"] = [t.to_dict() for t in self.turns]
        out["initial_observation"] = [m.to_dict() for m in self.initial_observation]
        out["final_observation"] = [m.to_dict() for m in self.final_observation]
        out["reward"] = self.reward
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trajectory:
        """Rebuild a trajectory from :meth:`to_dict` output."""
        fields_ = {k: v for k, v in data.items() if k != "reward"}
        fields_["verdict"] = as_verdict(data.get("verdict"))
        fields_["turns"] = [Turn.from_dict(t) for t in data.get("turns", [])]
        for key in ("initial_observation", "final_observation"):
            fields_[key] = [Message.from_dict(m) for m in data.get(key, [])]
        return cls(**fields_)


class TrajectoryStore:
    """Append-only JSONL file of trajectories (``DIR/trajectories.jsonl``)."""

    FILENAME = "trajectories.jsonl"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        path = Path(path)
        self.path = path / self.FILENAME if path.suffix != ".jsonl" else path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_tail()
        self._ids = {rec["episode_id"] for rec in self._records()}
        self._fh = self.path.open("a", encoding="utf-8")

    def _repair_tail(self) -> None:
        """Cut a partial last line left by a run killed mid-write."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb+") as fh:
            end = fh.seek(0, os.SEEK_END)
            pos = end
            while pos > 0:  # scan backwards for the last newline, 64 KiB at a time
                start = max(0, pos - 65536)
                fh.seek(start)
                chunk = fh.read(pos - start)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    if start + cut + 1 != end:
                        fh.truncate(start + cut + 1)
                    return
                pos = start
            fh.truncate(0)

    def _records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{self.path}:{lineno} is not valid JSON ({exc.msg})") from None

    def __contains__(self, episode_id: object) -> bool:
        return episode_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def episode_ids(self) -> frozenset[str]:
        """The ids of the episodes stored so far."""
        return frozenset(self._ids)

    def append(self, trajectory: Trajectory) -> bool:
        """Write one trajectory as one flushed line; returns False if its id is already stored.

        A record that cannot be written as it is (text that is not valid Unicode, such as a lone
        surrogate in an env's ``info``; keys or values JSON cannot hold) is still written, once:
        what was changed is said on the trajectory's ``error``, so a resumed run skips it.
        """
        if trajectory.episode_id in self._ids:
            return False
        line, problem = encode_record(trajectory.to_dict())
        if problem is not None:
            trajectory.error = f"{trajectory.error}; {problem}" if trajectory.error else problem
            line, _ = encode_record(trajectory.to_dict())
        self._fh.write(line + "\n")
        self._fh.flush()
        self._ids.add(trajectory.episode_id)
        return True

    def __iter__(self) -> Iterator[Trajectory]:
        for record in self._records():
            yield Trajectory.from_dict(record)

    def load(self) -> list[Trajectory]:
        """All stored trajectories, in file order."""
        return list(self)

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> TrajectoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_dataset(self) -> Any:
        """Load the store into a Hugging Face ``datasets.Dataset`` (needs the ``data`` extra)."""
        from agentgym.trajectory_dataset import to_dataset

        return to_dataset(self.load())


def encode_record(record: Mapping[str, Any]) -> tuple[str, str | None]:
    """One JSON line (UTF-8-encodable, no newline) for ``record``, and what had to change, if anything.

    Values JSON cannot hold are written as their ``repr``; lone surrogates (text that is not valid
    Unicode) become U+FFFD. The second item says what was changed, or is None when nothing was.
    """
    problem = None
    try:
        line = json.dumps(record, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError) as exc:
        # Keys JSON refuses, cycles, repr() failing, nesting too deep: keep what can be kept.
        line = json.dumps(_storable(record, 0, set()), ensure_ascii=False)
        problem = f"parts of the record JSON cannot hold were stored as text ({type(exc).__name__}: {exc})"
        problem = problem[:300]
    if not line.isascii():
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            where = ", ".join(_surrogate_paths(record)) or "the record"
            note = f"text that is not valid Unicode (lone surrogates) in {where} was stored as U+FFFD"
            problem = f"{problem}; {note}" if problem else note
            line = clean_text(line)  # surrogates can only be inside JSON strings: the JSON stays valid
    return line, problem


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # a broken __repr__ must not lose the episode
        return f"<{type(value).__name__} (repr failed: {type(exc).__name__})>"


def _key(key: Any) -> str:
    """A mapping key as JSON writes it (``3`` -> ``"3"``, ``True`` -> ``"true"``), else its repr."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return _safe_repr(key)


def _storable(value: Any, depth: int, seen: set[int]) -> Any:
    """A copy of ``value`` JSON can hold: str keys, no cycles, bounded depth, repr for the rest."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if depth >= _MAX_RECORD_DEPTH or id(value) in seen:
        return _safe_repr(value)[:1000]
    if isinstance(value, Mapping):
        seen.add(id(value))
        out = {_key(k): _storable(v, depth + 1, seen) for k, v in value.items()}
        seen.discard(id(value))
        return out
    if isinstance(value, (list, tuple)):
        seen.add(id(value))
        items = [_storable(v, depth + 1, seen) for v in value]
        seen.discard(id(value))
        return items
    return _safe_repr(value)


def _surrogate_paths(record: Mapping[str, Any], limit: int = 5) -> list[str]:
    """Where in ``record`` text holds lone surrogates: the first ``limit`` places (``turns[0].info.k``)."""
    found: list[str] = []
    stack: list[tuple[str, Any, int]] = [("", record, 0)]
    visited: set[int] = set()  # each container once: cycles and shared values end the walk
    while stack and len(found) < limit:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            if clean_text(value) is not value:
                found.append(path)
            continue
        if isinstance(value, (int, float, type(None))) or depth >= _MAX_RECORD_DEPTH or id(value) in visited:
            continue
        visited.add(id(value))
        if isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                name = clean_text(key if isinstance(key, str) else _safe_repr(key))
                if name is not key and isinstance(key, str):
                    found.append(f"{path}.{name} (a key)".lstrip("."))
                stack.append((f"{path}.{name}".lstrip("."), item, depth + 1))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in reversed(list(enumerate(value))))
        else:
            text = _safe_repr(value)  # what default=repr writes
            if clean_text(text) is not text:
                found.append(path)
    return found[:limit]

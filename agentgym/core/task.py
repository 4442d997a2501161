"""The :class:`Task` record: one verifiable problem, frozen and identified by its content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentgym.core.errors import TaskError
from agentgym.core.messages import clean_text


def canonical_json(value: Any) -> str:
    """Serialize ``value`` deterministically (sorted keys, no spaces); raises TaskError if not JSON.

    Lone surrogates (text that UTF-8 cannot encode, e.g. from a model's reply) become U+FFFD, so
    every task can be hashed and stored; text without them is written unchanged.
    """
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TaskError(f"task fields must be JSON-serializable: {exc}") from exc
    return clean_text(text)


def content_hash(family: str, spec: Mapping[str, Any]) -> str:
    """Return the hex SHA-256 of a task's family and spec: the task's identity."""
    return _hash_of(family, canonical_json(spec))


def _hash_of(family: str, spec_json: str) -> str:
    # Equal to hashing canonical_json([family, spec]), reusing the spec's encoding.
    text = "[" + json.dumps(family, ensure_ascii=False) + "," + spec_json + "]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class Task:
    """A frozen, serializable task.

    ``spec`` is what the env needs to pose the task, ``answer`` is hidden from the agent (the
    reference solution), ``difficulty`` holds named numbers, ``meta`` anything else. ``id`` is the
    content hash of ``family`` and ``spec``: two tasks with the same content have the same id.
    """

    family: str
    spec: Mapping[str, Any]
    answer: Any = None
    difficulty: Mapping[str, float] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        if not self.family or "/" in self.family:
            raise TaskError(f"task family must be a plain name like 'puzzles', got {self.family!r}")
        # Freeze by value: a canonical JSON round trip copies the mappings and rejects non-JSON data.
        spec_json = canonical_json(dict(self.spec))
        object.__setattr__(self, "spec", json.loads(spec_json))
        rest = [self.answer, dict(self.difficulty), dict(self.meta)]
        answer, difficulty, meta = json.loads(canonical_json(rest))
        object.__setattr__(self, "answer", answer)
        object.__setattr__(self, "difficulty", difficulty)
        object.__setattr__(self, "meta", meta)
        expected = _hash_of(self.family, spec_json)
        if self.id and self.id != expected:
            raise TaskError(f"task id {self.id[:12]}... does not match its content hash")
        object.__setattr__(self, "id", expected)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the id, for display."""
        return self.id[:12]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable dict (round-trips through :meth:`from_dict`)."""
        return {
            "id": self.id,
            "family": self.family,
            "spec": self.spec,
            "answer": self.answer,
            "difficulty": self.difficulty,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Task:
        """Rebuild a task from :meth:`to_dict` output, checking its id against its content."""
        try:
            return cls(
                family=data["family"],
                spec=data["spec"],
                answer=data.get("answer"),
                difficulty=data.get("difficulty", {}),
                meta=data.get("meta", {}),
                id=data.get("id", ""),
            )
        except KeyError as exc:
            raise TaskError(f"task record is missing field {exc}") from exc

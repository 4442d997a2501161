"""A content-addressed cache of judge judgements: in memory, optionally mirrored to a JSON-lines file.

The key is the SHA-256 of the judge's name and the exact prompt it is sent, so a hit is the same
question put to the same judge. Only parsed judgements are stored: outages and unparsable replies
are asked again next time.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentgym.core.messages import Message, to_openai

__all__ = ["JudgeCache", "cache_key"]


def cache_key(judge_name: str, messages: Sequence[Message]) -> str:
    """The hex SHA-256 of ``judge_name`` and the prompt ``messages`` (canonical JSON)."""
    payload = json.dumps([judge_name, to_openai(messages)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class JudgeCache:
    """A thread-safe LRU map from cache key to a JSON-serializable record.

    With ``path``, records already in the file are loaded at start (bad lines are skipped) and new
    records are appended as one JSON object per line, so several runs share their judgements.
    """

    def __init__(self, max_entries: int = 100_000, path: str | os.PathLike[str] | None = None) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self.max_entries = max_entries
        self.path = Path(path) if path is not None else None
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                    key, record = row["key"], row["record"]
                except (ValueError, KeyError, TypeError):
                    continue  # a torn or foreign line: skip it, keep the rest
                if isinstance(key, str) and isinstance(record, dict):
                    self._put(key, record)

    def _put(self, key: str, record: dict[str, Any]) -> None:
        self._data[key] = record
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def get(self, key: str) -> dict[str, Any] | None:
        """The record stored under ``key`` (counted as a hit or a miss)."""
        with self._lock:
            record = self._data.get(key)
            if record is None:
                self.misses += 1
                return None
            self.hits += 1
            self._data.move_to_end(key)
            return dict(record)

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` under ``key`` (and append it to the file, if any)."""
        line = json.dumps({"key": key, "record": record}, ensure_ascii=False) + "\n"
        with self._lock:
            self._put(key, dict(record))
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(line)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def clear(self) -> None:
        """Forget every record in memory (the file, if any, is left alone)."""
        with self._lock:
            self._data.clear()

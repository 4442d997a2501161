"""Corpora the search engine indexes: a generated world (articles rendered on demand) or a JSONL file.

Bring your own corpus: a JSONL file with one document per line, ``{"id": ..., "title": ...,
"text": ...}`` (ids unique, at most :data:`MAX_ID_CHARS` characters; text capped at
:data:`MAX_TEXT_CHARS`). A corpus has a ``fingerprint`` (content hash) naming its cached index and
checked against the tasks posed on it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from agentgym.core.errors import ConfigError
from agentgym.tasks.search.articles import Document, get_document, iter_documents
from agentgym.tasks.search.world import TYPES, World, WorldConfig, get_world

#: Bump when article rendering changes (cached indexes of generated worlds are keyed by it).
ARTICLE_VERSION = 1
MAX_ID_CHARS = 200
MAX_TITLE_CHARS = 1000
MAX_TEXT_CHARS = 200_000
MAX_LINE_CHARS = 1_000_000


class Corpus(Protocol):
    """What the engine and the envs need from a corpus."""

    fingerprint: str

    def __len__(self) -> int:
        """The number of documents."""
        ...

    def __iter__(self) -> Iterator[Document]:
        """Every document, in index order."""
        ...

    def doc_id(self, index: int) -> str:
        """The id of document number ``index``."""
        ...

    def get(self, doc_id: str) -> Document | None:
        """The document with id ``doc_id``, or None."""
        ...


class WorldCorpus:
    """The articles of a generated world; nothing is stored, every article is rendered when asked."""

    def __init__(self, world: World) -> None:
        self.world = world
        cfg = world.config
        key = f"world:v{ARTICLE_VERSION}:{cfg.seed}:{cfg.n_docs}:{cfg.namesake_rate!r}"
        self.fingerprint = hashlib.sha256(key.encode()).hexdigest()[:24]
        self._starts = np.cumsum([0] + [world.counts[t] for t in TYPES])

    def __len__(self) -> int:
        return self.world.n_docs

    def __iter__(self) -> Iterator[Document]:
        return iter_documents(self.world)

    def doc_id(self, index: int) -> str:
        """The id of document number ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        block = int(np.searchsorted(self._starts, index, side="right")) - 1
        return self.world.doc_id(TYPES[block], index - int(self._starts[block]))

    def get(self, doc_id: str) -> Document | None:
        """The article ``doc_id``, rendered."""
        return get_document(self.world, doc_id) if isinstance(doc_id, str) else None


@functools.lru_cache(maxsize=8)
def world_corpus(config: WorldConfig) -> WorldCorpus:
    """The corpus of the world ``config`` (one per process for the last few worlds)."""
    return WorldCorpus(get_world(config))


class JsonlCorpus:
    """Documents read from a JSONL file of ``{"id", "title", "text"}`` records (kept in memory)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise ConfigError(f"corpus file {self.path} does not exist")
        digest = hashlib.sha256()
        self.docs: list[Document] = []
        self._index: dict[str, int] = {}
        with self.path.open("rb") as handle:
            for lineno, raw in enumerate(handle, 1):
                digest.update(raw)
                if not raw.strip():
                    continue
                self._add(_parse_line(raw, lineno, self.path))
        if not self.docs:
            raise ConfigError(f"corpus file {self.path} holds no documents")
        self.fingerprint = "jsonl:" + digest.hexdigest()[:24]

    def _add(self, doc: Document) -> None:
        if doc.id in self._index:
            raise ConfigError(f"corpus {self.path}: duplicate document id {doc.id!r}")
        self._index[doc.id] = len(self.docs)
        self.docs.append(doc)

    def __len__(self) -> int:
        return len(self.docs)

    def __iter__(self) -> Iterator[Document]:
        return iter(self.docs)

    def doc_id(self, index: int) -> str:
        """The id of document number ``index``."""
        return self.docs[index].id

    def get(self, doc_id: str) -> Document | None:
        """The document ``doc_id``, or None."""
        index = self._index.get(doc_id) if isinstance(doc_id, str) else None
        return self.docs[index] if index is not None else None


def _parse_line(raw: bytes, lineno: int, path: Path) -> Document:
    where = f"{path}:{lineno}"
    if len(raw) > MAX_LINE_CHARS:
        raise ConfigError(f"{where}: line longer than {MAX_LINE_CHARS} bytes")
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{where}: each line must be a JSON object with id, title, text")
    doc_id, title, text = record.get("id"), record.get("title", ""), record.get("text")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id or len(doc_id) > MAX_ID_CHARS:
        raise ConfigError(f"{where}: 'id' must be a non-empty string of at most {MAX_ID_CHARS} characters")
    if not isinstance(title, str) or not isinstance(text, str):
        raise ConfigError(f"{where}: 'title' and 'text' must be strings")
    return Document(doc_id, title[:MAX_TITLE_CHARS], text[:MAX_TEXT_CHARS])

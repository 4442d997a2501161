"""The local search engine: BM25 (``bm25s``) over a corpus, optional dense retrieval, hybrid ranking.

Indexes are built by streaming the corpus in chunks and cached on disk under
``$AGENTGYM_CACHE/search/`` (default ``~/.cache/agentgym``), keyed by the corpus fingerprint, and
loaded memory-mapped. Hybrid ranking fuses the BM25 and dense rankings by reciprocal rank fusion.
Results carry a snippet: the window of the text around the first query term found.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.core.cache import cache_root as project_cache_root
from agentgym.core.errors import ConfigError
from agentgym.environments.search.corpus import Corpus

MAX_K = 50
MAX_QUERY_CHARS = 1000
RRF_K = 60
CHUNK = 20_000
RETRIEVERS = ("bm25", "dense", "hybrid")
_WORD = re.compile(r"\w\w+")


def cache_root() -> Path:
    """``$AGENTGYM_CACHE/search`` (default ``~/.cache/agentgym/search``)."""
    return project_cache_root("search")


@dataclass(frozen=True)
class Hit:
    """One search result: document id, title, score, snippet."""

    doc_id: str
    title: str
    score: float
    snippet: str


class BM25Index:
    """A ``bm25s`` index of a corpus (built by streaming the corpus, cached on disk)."""

    def __init__(self, corpus: Corpus, cache: bool = True, show_progress: bool = False) -> None:
        import bm25s
        from bm25s.tokenization import Tokenizer

        self.corpus = corpus
        folder = cache_root() / "bm25" / corpus.fingerprint
        self.tokenizer = Tokenizer(stopwords="en")
        self._stopwords = frozenset(self.tokenizer.stopwords or ())
        if cache and (folder / "done").is_file():
            self.retriever = bm25s.BM25.load(str(folder), mmap=True)
            self.tokenizer.load_vocab(str(folder))
            self.tokenizer.load_stopwords(str(folder))
            return
        ids: list[list[int]] = []
        chunk: list[str] = []
        for doc in corpus:
            chunk.append(f"{doc.title}\n{doc.text}")
            if len(chunk) == CHUNK:
                ids.extend(self._tokenize(chunk, show_progress))
                chunk = []
        if chunk:
            ids.extend(self._tokenize(chunk, show_progress))
        vocab = self.tokenizer.get_vocab_dict()
        self.retriever = bm25s.BM25()
        self.retriever.index((ids, vocab), show_progress=show_progress)
        del ids
        if cache:
            self._save(folder)

    def _tokenize(self, texts: list[str], show_progress: bool) -> list[list[int]]:
        return self.tokenizer.tokenize(texts, update_vocab=True, return_as="ids", show_progress=show_progress)

    def _save(self, folder: Path) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
        try:
            self.retriever.save(str(tmp), show_progress=False)
            self.tokenizer.save_vocab(str(tmp))
            self.tokenizer.save_stopwords(str(tmp))
            (tmp / "done").write_text("ok")
            if folder.exists():
                shutil.rmtree(tmp, ignore_errors=True)  # another process finished first
                return
            os.replace(tmp, folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # a cache that cannot be written is only slower

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """``(document index, score)`` of the best ``k`` documents (only positive scores)."""
        vocab = self.tokenizer.get_vocab_dict()
        stop = self._stopwords
        known = [vocab[w] for w in _WORD.findall(query.lower()) if w in vocab and w not in stop]
        if not known:
            return []
        scores = np.asarray(self.retriever.get_scores(known))
        return top_k(scores, k)


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best positive ``(index, score)`` pairs, best first, ties by index."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[scores[top] > 0]
    order = sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))
    return [(int(i), float(scores[i])) for i in order]


class SearchEngine:
    """``search(query, k)`` and ``open(doc_id)`` over a corpus, by BM25, dense or hybrid ranking."""

    def __init__(
        self,
        corpus: Corpus,
        retriever: str = "bm25",
        dense_model: str | Path | None = None,
        snippet_chars: int = 240,
        cache: bool = True,
    ) -> None:
        if retriever not in RETRIEVERS:
            raise ConfigError(f"retriever must be one of {RETRIEVERS}, got {retriever!r}")
        if retriever != "bm25" and dense_model is None:
            raise ConfigError(f"retriever={retriever!r} needs dense_model (a local transformers folder)")
        self.corpus = corpus
        self.retriever = retriever
        self.snippet_chars = snippet_chars
        self.bm25 = BM25Index(corpus, cache=cache) if retriever != "dense" else None
        self.dense: Any = None
        if retriever != "bm25":
            from agentgym.environments.search.dense import DenseIndex

            self.dense = DenseIndex(corpus, dense_model, cache=cache)  # type: ignore[arg-type]

    def ranked(self, query: str, k: int) -> list[tuple[int, float]]:
        """``(document index, score)`` of the best ``k`` documents under the engine's ranking."""
        query = query[:MAX_QUERY_CHARS]
        k = max(1, min(int(k), MAX_K))
        if self.retriever == "bm25":
            return self.bm25.search(query, k)  # type: ignore[union-attr]
        if self.retriever == "dense":
            return self.dense.search(query, k)
        depth = max(k, 20)
        return reciprocal_rank_fusion([self.bm25.search(query, depth), self.dense.search(query, depth)], k)  # type: ignore[union-attr]

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The best ``k`` documents for ``query`` with snippets."""
        hits = []
        for index, score in self.ranked(query, k):
            doc = self.corpus.get(self.corpus.doc_id(index))
            if doc is not None:
                hits.append(
                    Hit(doc.id, doc.title, round(score, 4), snippet(doc.text, query, self.snippet_chars))
                )
        return hits

    def open(self, doc_id: str) -> Any:
        """The document ``doc_id`` (a :class:`~agentgym.tasks.search.articles.Document`) or None."""
        return self.corpus.get(doc_id)


def reciprocal_rank_fusion(rankings: list[list[tuple[int, float]]], k: int) -> list[tuple[int, float]]:
    """Fuse rankings: each document scores ``sum 1 / (RRF_K + rank)``; the best ``k``, ties by index."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (doc, _) in enumerate(ranking, 1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]


def snippet(text: str, query: str, width: int) -> str:
    """About ``width`` characters of ``text`` around the first query word found (else its start)."""
    if len(text) <= width:
        return text
    low = text.lower()
    positions = [low.find(w) for w in _WORD.findall(query.lower()) if len(w) > 3]
    found = [p for p in positions if p >= 0]
    start = max(0, min(found) - width // 4) if found else 0
    start = min(start, len(text) - width)
    piece = text[start : start + width]
    return ("..." if start > 0 else "") + piece + ("..." if start + width < len(text) else "")


_ENGINES: dict[tuple[str, str, str, int], SearchEngine] = {}
_ENGINES_LOCK = threading.Lock()


def shared_engine(
    corpus: Corpus, retriever: str = "bm25", dense_model: str | Path | None = None, snippet_chars: int = 240
) -> SearchEngine:
    """One engine per (corpus, ranking) per process: envs built many times share its index."""
    key = (corpus.fingerprint, retriever, str(dense_model or ""), snippet_chars)
    with _ENGINES_LOCK:  # envs are built in worker threads: one build per engine
        if key not in _ENGINES:
            if len(_ENGINES) >= 8:
                _ENGINES.pop(next(iter(_ENGINES)))
            _ENGINES[key] = SearchEngine(corpus, retriever, dense_model, snippet_chars)
        return _ENGINES[key]

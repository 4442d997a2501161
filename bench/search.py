"""Search engine and task factory: bm25s at 1M generated documents, against rank-bm25 side by side.

1. Generate a fictional world of ``--docs`` documents (default 1,000,000) and stream its articles
   into a ``bm25s`` index: generation + indexing time, docs/s.
2. Query latency p50 / p99 over ``--queries`` queries (article titles and generated questions).
3. Baseline: ``rank-bm25`` (BM25Okapi, the same tokens) on the first ``--baseline-docs`` documents
   (default 100,000: its pure-Python scoring is O(corpus) per query), against bm25s on the same
   documents and queries: index build and p50/p99 ratios; top-1 agreement between the two.
4. Questions generated per second at each hop count (from the large world).

Run: ``python bench/search.py [--docs 1000000] [--baseline-docs 100000] [--queries 300]``.
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

from agentgym.environments.search.corpus import WorldCorpus
from agentgym.environments.search.engine import BM25Index
from agentgym.tasks.search.articles import iter_documents
from agentgym.tasks.search.generator import SearchQAGenerator
from agentgym.tasks.search.world import WorldConfig, get_world

_WORD = re.compile(r"(?u)\b\w\w+\b")


class SliceCorpus:
    """The first ``n`` articles of a world, as a corpus (for the side-by-side comparison)."""

    def __init__(self, corpus: WorldCorpus, n: int) -> None:
        self.inner, self.n = corpus, n
        self.fingerprint = f"{corpus.fingerprint}-first{n}"

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        for i, doc in enumerate(self.inner):
            if i == self.n:
                return
            yield doc

    def doc_id(self, index: int) -> str:
        return self.inner.doc_id(index)

    def get(self, doc_id: str):
        return self.inner.get(doc_id)


def latencies(search: Callable[[str], object], queries: Sequence[str]) -> tuple[float, float]:
    """p50 and p99 latency in milliseconds."""
    times = []
    for q in queries:
        t0 = time.perf_counter()
        search(q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def make_queries(world_cfg: WorldConfig, corpus: WorldCorpus, n: int, limit: int) -> list[str]:
    """Half article titles (of the first ``limit`` docs), half generated questions."""
    rng = np.random.default_rng(0)
    titles = [corpus.get(corpus.doc_id(int(i))).title for i in rng.integers(limit, size=n // 2)]
    gen = SearchQAGenerator(hops=2, world_seed=world_cfg.seed, n_docs=world_cfg.n_docs)
    questions = [gen.generate(1, i).spec["question"] for i in range(n - len(titles))]
    return titles + questions


def bench_bm25s(corpus, queries: Sequence[str]) -> tuple[BM25Index, float, float, float]:
    t0 = time.perf_counter()
    index = BM25Index(corpus, cache=False)
    build = time.perf_counter() - t0
    p50, p99 = latencies(lambda q: index.search(q, 10), queries)
    return index, build, p50, p99


def bench_rank_bm25(corpus, queries: Sequence[str]) -> tuple[object, float, float, float, list[int]]:
    from bm25s.stopwords import STOPWORDS_EN
    from rank_bm25 import BM25Okapi

    stop = set(STOPWORDS_EN)

    def tokens(text: str) -> list[str]:
        return [w for w in _WORD.findall(text.lower()) if w not in stop]

    t0 = time.perf_counter()
    model = BM25Okapi([tokens(f"{d.title}\n{d.text}") for d in corpus])
    build = time.perf_counter() - t0
    tops: list[int] = []

    def search(q: str) -> None:
        scores = model.get_scores(tokens(q))
        tops.append(int(np.argmax(scores)))

    p50, p99 = latencies(search, queries)
    return model, build, p50, p99, tops


def main() -> None:
    """Run the benchmark and print absolute figures and ratios against rank-bm25."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--baseline-docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--baseline-queries", type=int, default=100)
    parser.add_argument("--questions", type=int, default=5000)
    args = parser.parse_args()

    cfg = WorldConfig(seed=0, n_docs=args.docs, namesake_rate=0.3)
    t0 = time.perf_counter()
    world = get_world(cfg)
    world_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    chars = sum(len(d.text) for d in iter_documents(world))
    render_s = time.perf_counter() - t0
    print(
        f"world of {args.docs:,} docs: arrays {world_s:.2f}s; rendering every article {render_s:.1f}s "
        f"({args.docs / render_s:,.0f} docs/s, {chars / args.docs:.0f} chars/doc)"
    )

    corpus = WorldCorpus(world)
    queries = make_queries(cfg, corpus, args.queries, args.docs)
    index, build, p50, p99 = bench_bm25s(corpus, queries)
    print(
        f"bm25s @ {args.docs:,} docs: index build (render + tokenize + index) {build:.1f}s "
        f"({args.docs / build:,.0f} docs/s); query p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"over {len(queries)} queries"
    )
    del index
    gc.collect()

    n = min(args.baseline_docs, args.docs)
    small = SliceCorpus(corpus, n)
    base_queries = make_queries(cfg, corpus, args.baseline_queries, n)
    ours, b_build, b_p50, b_p99 = bench_bm25s(small, base_queries)
    _, r_build, r_p50, r_p99, r_tops = bench_rank_bm25(small, base_queries)
    our_tops = [(ours.search(q, 1) or [(-1, 0.0)])[0][0] for q in base_queries]
    agree = np.mean([a == b for a, b in zip(our_tops, r_tops, strict=True)])
    print(f"side by side @ {n:,} docs, {len(base_queries)} queries (rank-bm25 is the baseline):")
    print(f"  build: bm25s {b_build:.1f}s, rank-bm25 {r_build:.1f}s -> {r_build / b_build:.1f}x")
    print(f"  query p50: bm25s {b_p50:.2f} ms, rank-bm25 {r_p50:.1f} ms -> {r_p50 / b_p50:.0f}x")
    print(f"  query p99: bm25s {b_p99:.2f} ms, rank-bm25 {r_p99:.1f} ms -> {r_p99 / b_p99:.0f}x")
    print(f"  top-1 agreement: {agree:.0%} (both BM25 with the same tokens; bm25s uses Lucene's idf)")

    for hops in (1, 2, 3, 4):
        gen = SearchQAGenerator(hops=hops, distractors=min(hops - 1, 2), n_docs=args.docs)
        gen.generate(0, 0)  # the world is cached; reverse indexes built on first use
        t0 = time.perf_counter()
        for i in range(args.questions):
            gen.generate(7, i)
        rate = args.questions / (time.perf_counter() - t0)
        print(f"questions generated/s @ {args.docs:,} docs, hops={hops}: {rate:,.0f}")


if __name__ == "__main__":
    main()

"""Web shop benchmark: catalog build, index memory, search latency against rank-bm25, step latency,
and the oracle / random agents on held-out instructions.

1. Build catalogs of 100k and 1M products (each in a child process: wall time and peak RSS), with
   their Parquet and BM25 index sizes, and the RSS a loaded (memory-mapped) catalog adds.
2. Search latency p50/p99 over instruction queries: bm25s at 1M and 100k; ``rank-bm25``
   (BM25Okapi) on the same 100k catalog and tokens, side by side (its 1M index does not fit in
   reasonable memory and time: one query scans every document in Python). Goal: p50 <= 20 ms at 1M.
3. Text-mode step latency (oracle episodes) at 100k and 1M.
4. The oracle and the random agent on N held-out instructions over the 100k catalog (goal: oracle
   mean reward >= 0.95).

Run: ``python bench/webshop.py [--sizes 100000 1000000] [--episodes 200]`` (catalogs are cached
under ``$AGENTGYM_CACHE``; a second run skips the builds, so pass ``--rebuild`` to time them).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from agentgym.environments.webshop.oracle import parse_instruction, queries
from agentgym.environments.webshop.store import catalog_dir, open_shop_data, search_text, tokenize
from agentgym.environments.webshop.text_env import ShopTextEnv
from agentgym.tasks.splits import generate_split
from agentgym.tasks.webshop.instructions import InstructionGenerator


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs), q))


def build(size: int, rebuild: bool) -> None:
    path = catalog_dir(size, 0)
    if rebuild and path.exists():
        shutil.rmtree(path)
    if path.exists():
        print(f"[build {size:>9,}] cached at {path} (pass --rebuild to time the build)")
    else:
        code = f"from agentgym.environments.webshop.store import build_catalog; build_catalog({size}, 0)"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(
            f"[build {size:>9,}] {wall:7.1f} s wall, {cpu:7.1f} s CPU, "
            f"peak RSS of the builder {after.ru_maxrss / 1024:,.0f} MB"
        )
    parquet = (path / "products.parquet").stat().st_size / 2**20
    print(
        f"[disk  {size:>9,}] products.parquet {parquet:,.1f} MB, BM25 index {dir_mb(path / 'index'):,.1f} MB"
    )


def instruction_queries(size: int, n: int) -> list[str]:
    lookup = open_shop_data(size, 0).product
    gen = InstructionGenerator(catalog_size=size, n_attributes=2, product_lookup=lookup)
    return [queries(parse_instruction(gen.generate(99, i).spec["instruction"]))[0] for i in range(n)]


def time_search(search, qs: list[str]) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per query (CPU time too: this machine is shared, wall time is noisy)."""
    wall, cpu = [], []
    for q in qs:
        start, start_cpu = time.perf_counter(), time.process_time()
        search(q)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def latency(label: str, wall: list[float], cpu: list[float], what: str = "queries") -> None:
    print(
        f"{label} wall p50 {pct(wall, 50):7.2f} ms  p99 {pct(wall, 99):7.2f} ms | "
        f"CPU p50 {pct(cpu, 50):7.2f} ms  p99 {pct(cpu, 99):7.2f} ms  ({len(wall)} {what})"
    )


def search_bench(size: int, n_queries: int) -> float:
    import bm25s  # noqa: F401  (imports are not index memory)
    import pyarrow.parquet  # noqa: F401

    before = rss_mb()
    data = open_shop_data(size, 0)
    loaded = rss_mb()
    qs = instruction_queries(size, n_queries)
    data.search(qs[0])  # first touch of the memory map
    wall, cpu = time_search(data.search, qs)
    matrix = data.retriever.scores
    index_mb = sum(matrix[k].nbytes for k in ("data", "indices", "indptr")) / 2**20
    print(
        f"[load  {size:>9,}] RSS +{loaded - before:,.0f} MB after loading, +{rss_mb() - before:,.0f} MB "
        f"after {len(qs)} queries; product table {data.table.nbytes / 2**20:,.0f} MB in memory, "
        f"BM25 matrix {index_mb:,.0f} MB memory-mapped"
    )
    latency(f"[search bm25s     {size:>9,}]", wall, cpu)
    return pct(cpu, 50)


def rank_bm25_bench(size: int, n_queries: int, ours_p50: float) -> None:
    from rank_bm25 import BM25Okapi

    data = open_shop_data(size, 0)
    start = time.perf_counter()
    corpus = [tokenize(search_text(row)) for row in data.table.to_pylist()]
    index = BM25Okapi(corpus)
    built = time.perf_counter() - start
    print(f"[index rank-bm25 {size:>9,}] built in {built:.1f} s (RSS now {rss_mb():,.0f} MB)")

    def search(q: str) -> list[int]:
        scores = index.get_scores(tokenize(q))
        return list(np.argsort(-scores, kind="stable")[:50])

    wall, cpu = time_search(search, instruction_queries(size, n_queries))
    latency(f"[search rank-bm25 {size:>9,}]", wall, cpu)
    print(f"[ratio {size:,}] rank-bm25 CPU p50 / bm25s CPU p50 = {pct(cpu, 50) / ours_p50:.0f}x")


def episodes(env: ShopTextEnv, tasks, policy) -> tuple[list[float], list[float], list[float]]:
    rewards, wall, cpu = [], [], []
    for task in tasks:
        env.reset(seed=0, options={"task": task})
        reward = 0.0
        for _ in range(30):
            action = policy(env)
            start, start_cpu = time.perf_counter(), time.process_time()
            _, reward, term, trunc, _ = env.step(action)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            if term or trunc:
                break
        rewards.append(reward)
    return rewards, wall, cpu


def agents_bench(size: int, n: int, agents: bool) -> None:
    env = ShopTextEnv(catalog_size=size, split="heldout")
    tasks = list(generate_split(env.generator, 2026, n if agents else 20, "heldout"))
    oracle, wall, cpu = episodes(env, tasks, lambda e: e.oracle_action())
    latency(f"[step  {size:>9,}] text-mode step", wall, cpu, "oracle steps")
    if agents:
        rng = np.random.default_rng(0)
        rand, _, _ = episodes(env, tasks, lambda e: e.sample_action(rng))
        print(
            f"[agents {size:>8,}] {n} held-out instructions: "
            f"oracle mean reward {statistics.mean(oracle):.4f} "
            f"(success {sum(r == 1.0 for r in oracle) / n:.1%}), random mean {statistics.mean(rand):.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rank-bm25-queries", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    print(f"cache: {os.environ.get('AGENTGYM_CACHE', '~/.cache/agentgym')}")
    for size in args.sizes:
        build(size, args.rebuild)
    p50s = {size: search_bench(size, args.queries) for size in args.sizes}
    small = min(args.sizes)
    rank_bm25_bench(small, args.rank_bm25_queries, p50s[small])
    for size in args.sizes:
        agents_bench(size, args.episodes, agents=size == small)


if __name__ == "__main__":
    main()

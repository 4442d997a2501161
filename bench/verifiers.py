"""Verifier quality and speed: our verifiers on the shipped labelled cases, next to raw math-verify.

Quality: every case of ``verifiers/cases/cases.jsonl`` runs through its own verifier (accuracy,
FPR, FNR, unscored per verifier). The baseline is raw ``math_verify.verify(parse(gold),
parse(response))`` on the same math cases, each call in a killable worker under the same time limit
(a timeout counts as unscored, as it would for ours).

Speed: calls/s of our ``math`` verifier and of raw math-verify, both one call at a time on the same
math cases (hostile inputs left out, so that neither side is timed on its time limit), in the same
run. Raw math-verify runs in-process (its cheapest form); ours pays for its worker process.

Run: ``python bench/verifiers.py [--cases FILE] [--repeats 3] [--timeout 10]`` (needs ``math-verify``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agentgym.core.errors import VerifierError
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import list_verifiers, make_verifier, reference_task
from agentgym.verifiers.evaluation import (
    DEFAULT_CASES,
    CaseResult,
    EvalCase,
    EvalReport,
    Metrics,
    evaluate,
    load_cases,
    math_verify_baseline,
)
from agentgym.verifiers.limits import LimitExceeded, WorkerPool

BASELINE = "raw math-verify"


def baseline_report(cases: Sequence[EvalCase], timeout: float, workers: int) -> EvalReport:
    """Raw math-verify on ``cases``, each call in a worker killed after ``timeout`` seconds."""
    pool = WorkerPool(workers=workers, preload=("math_verify",))

    def one(case: EvalCase) -> CaseResult:
        start = time.perf_counter()
        try:
            ok = pool.call(math_verify_baseline, str(case.answer), case.response, timeout=timeout)
            verdict = Verdict(float(ok), ok, BASELINE)
        except LimitExceeded as exc:
            verdict = Verdict.failed(BASELINE, str(exc))
        except VerifierError as exc:
            verdict = Verdict.failed(BASELINE, str(exc)[:200])
        return CaseResult(case, verdict, time.perf_counter() - start)

    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            results = tuple(ex.map(one, cases))
        return EvalReport(results, time.perf_counter() - start)
    finally:
        pool.close()


def calls_per_s(fn: Callable[[EvalCase], object], cases: Sequence[EvalCase], repeats: int) -> float:
    """Median calls/s of ``fn`` over ``cases``, one call at a time (after one warm-up pass)."""
    for case in cases[:5]:
        fn(case)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for case in cases:
            fn(case)
        rates.append(len(cases) / (time.perf_counter() - start))
    return statistics.median(rates)


def raw_math_verify_call(case: EvalCase) -> bool:
    """One in-process raw math-verify call (no time limit: hostile cases are left out)."""
    return math_verify_baseline(str(case.answer), case.response)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def quality_table(rows: dict[str, Metrics]) -> Table:
    """Accuracy, FPR, FNR and unscored counts per row."""
    table = Table(title="verifier quality on the labelled cases")
    for col in ("verifier", "cases", "accuracy", "FPR", "FNR", "FP", "FN", "unscored", "max s"):
        table.add_column(col, justify="left" if col == "verifier" else "right", no_wrap=True)
    for name, m in rows.items():
        table.add_row(
            name,
            str(m.cases),
            _pct(m.accuracy),
            _pct(m.fpr),
            _pct(m.fnr),
            str(m.fp),
            str(m.fn),
            str(m.unscored),
            f"{m.max_elapsed_s:.2f}",
        )
    return table


def main(argv: list[str] | None = None) -> None:
    """Print the quality table and the throughput comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per raw math-verify call")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 110))

    cases = load_cases(args.cases)
    registered = set(list_verifiers())
    ours = [c for c in cases if c.verifier in registered]
    skipped = sorted({c.verifier for c in cases} - registered)
    if skipped:
        console.print(f"[yellow]not registered, left out: {', '.join(skipped)}[/]")
    math_cases = [c for c in cases if c.verifier == "math"]
    rows: dict[str, Metrics] = {}
    if ours:
        report = evaluate(ours, concurrency=args.concurrency)
        rows.update({f"ours: {k}": m for k, m in report.per_verifier.items()})
        for r in report.mistakes():
            if r.case.verifier == "math":
                console.print(f"  ours/math {r.outcome}: {r.case.id} ({r.verdict.error or r.case.note})")
    base = baseline_report(math_cases, args.timeout, workers=args.concurrency)
    rows[f"{BASELINE}: math"] = base.overall
    for r in base.mistakes():
        if r.outcome == "fp":
            console.print(f"  {BASELINE} fp: {r.case.id} ({r.case.note})")
    console.print(quality_table(rows))

    typical = [c for c in math_cases if c.category != "hostile"]
    raw_rate = calls_per_s(raw_math_verify_call, typical, args.repeats)
    speed = Table(
        title=f"math verification throughput ({len(typical)} non-hostile cases, one call at a time)"
    )
    for col in ("verifier", "calls/s", "vs raw math-verify"):
        speed.add_column(col, justify="left" if col == "verifier" else "right", no_wrap=True)
    if "math" in registered:
        verifier = make_verifier("math")
        tasks = {id(c): reference_task(c.answer, **c.task_spec()) for c in typical}
        our_rate = calls_per_s(lambda c: verifier.verify(tasks[id(c)], c.response), typical, args.repeats)
        speed.add_row("ours: math", f"{our_rate:,.0f}", f"{our_rate / raw_rate:.2f}x")
    speed.add_row(BASELINE, f"{raw_rate:,.0f}", "1.00x")
    console.print(speed)


if __name__ == "__main__":
    sys.exit(main())

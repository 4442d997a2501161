r"""Measured verifier quality: run labelled cases through verifiers and count their mistakes.

A case is one JSON line::

    {"verifier": "math", "answer": "\\frac{1}{2}", "response": "... \\boxed{0.5}", "label": true}

``label`` says whether the response's final answer is correct (the ground truth). Optional fields:
``id`` (unique), ``category``, ``note`` (why the label is what it is), ``question`` and ``spec``
(both passed into the task: ``reference_task(answer, **spec, question=question)``) and
``options`` (keyword arguments for ``make_verifier``, for this case only); other fields are ignored.

Every case runs through ``make_verifier(case.verifier)``, concurrently with a bound, each under its
verifier's time limit. A verdict is a true/false positive/negative, or *unscored* (the verifier set
``error``): unscored verdicts are neither pass nor fail; they are reported apart and count as errors
(they lower the accuracy) but not as false positives or negatives.

- accuracy = (TP + TN) / cases
- FPR = FP / cases labelled false; FNR = FN / cases labelled true
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentgym.core.errors import ConfigError, VerifierError
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier, make_verifier, reference_task

__all__ = [
    "DEFAULT_CASES",
    "CaseResult",
    "EvalCase",
    "EvalReport",
    "Metrics",
    "aevaluate",
    "evaluate",
    "load_cases",
    "math_verify_baseline",
    "metrics_of",
    "parse_case",
]

#: The labelled case set shipped with the library.
DEFAULT_CASES = Path(__file__).resolve().parent / "cases" / "cases.jsonl"
REQUIRED_FIELDS = ("verifier", "answer", "response", "label")
#: Seconds allowed past a verifier's own time limit before the evaluation gives up on a case.
GRACE_S = 5.0
OUTCOMES = ("tp", "tn", "fp", "fn", "unscored")


@dataclass(frozen=True)
class EvalCase:
    """One labelled case: a verifier name, a gold answer, a response, and whether it is correct."""

    verifier: str
    answer: Any
    response: str
    label: bool
    line: int = 0
    id: str = ""
    category: str = ""
    question: str | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def task_spec(self) -> dict[str, Any]:
        """The spec the case's task is built with (``spec`` plus ``question`` when given)."""
        spec = dict(self.spec)
        if self.question is not None:
            spec.setdefault("question", self.question)
        return spec


def parse_case(record: Any, line: int = 0) -> EvalCase:
    """Check one decoded JSON line and build its case; raises ConfigError naming the line."""
    where = f"line {line}" if line else "case"
    if not isinstance(record, dict):
        raise ConfigError(f"{where}: a case must be a JSON object, got {type(record).__name__}")
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    verifier, response, label = record["verifier"], record["response"], record["label"]
    if not isinstance(verifier, str) or not verifier:
        raise ConfigError(f"{where}: 'verifier' must be a non-empty string, got {verifier!r}")
    if not isinstance(response, str):
        raise ConfigError(f"{where}: 'response' must be a string, got {type(response).__name__}")
    if not isinstance(label, bool):
        raise ConfigError(f"{where}: 'label' must be true or false, got {label!r}")
    spec, options = record.get("spec", {}), record.get("options", {})
    if not isinstance(spec, dict) or not isinstance(options, dict):
        raise ConfigError(f"{where}: 'spec' and 'options' must be objects")
    question = record.get("question")
    if question is not None and not isinstance(question, str):
        raise ConfigError(f"{where}: 'question' must be a string, got {type(question).__name__}")
    case_id, category, note = record.get("id", ""), record.get("category", ""), record.get("note", "")
    if not isinstance(case_id, (str, int)) or isinstance(case_id, bool):
        raise ConfigError(f"{where}: 'id' must be a string or an integer, got {case_id!r}")
    if not isinstance(category, str) or not isinstance(note, str):
        raise ConfigError(f"{where}: 'category' and 'note' must be strings")
    return EvalCase(
        verifier=verifier,
        answer=record["answer"],
        response=response,
        label=label,
        line=line,
        id=str(case_id),
        category=category,
        question=question,
        spec=spec,
        note=note,
        options=options,
    )


def load_cases(path: str | Path) -> list[EvalCase]:
    """Read a JSONL case file (blank lines skipped); ConfigError names the file and bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"case file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read case file {path}: {exc}") from None
    cases: list[EvalCase] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}: line {number}: invalid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        try:
            case = parse_case(record, number)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        if case.id:
            if case.id in seen:
                raise ConfigError(f"{path}: line {number}: id {case.id!r} repeats line {seen[case.id]}")
            seen[case.id] = number
        cases.append(case)
    if not cases:
        raise ConfigError(f"case file {path} holds no cases")
    return cases


@dataclass(frozen=True)
class CaseResult:
    """A case with the verdict its verifier gave and how long that took."""

    case: EvalCase
    verdict: Verdict
    elapsed_s: float

    @property
    def outcome(self) -> str:
        """``tp``/``tn``/``fp``/``fn`` (``p`` = the verifier passed it), or ``unscored``."""
        if self.verdict.unscored:
            return "unscored"
        passed = self.verdict.passed
        return ("t" if passed == self.case.label else "f") + ("p" if passed else "n")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable row for ``--details`` output."""
        return {
            "line": self.case.line,
            "id": self.case.id,
            "verifier": self.case.verifier,
            "category": self.case.category,
            "note": self.case.note,
            "label": self.case.label,
            "passed": self.verdict.passed,
            "score": self.verdict.score,
            "outcome": self.outcome,
            "error": self.verdict.error,
            "elapsed_s": round(self.elapsed_s, 4),
            "details": _jsonable(self.verdict.details),
        }


def _jsonable(value: Any) -> Any:
    """``value`` if JSON can hold it, else its text (verdict details are free-form)."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)[:2000]


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class Metrics:
    """Counts and rates over a group of case results (rates are None over an empty group)."""

    cases: int
    positives: int
    negatives: int
    tp: int
    tn: int
    fp: int
    fn: int
    unscored: int
    max_elapsed_s: float

    @property
    def accuracy(self) -> float | None:
        """(TP + TN) / cases: unscored verdicts count as errors."""
        return _rate(self.tp + self.tn, self.cases)

    @property
    def fpr(self) -> float | None:
        """False positives over cases labelled false."""
        return _rate(self.fp, self.negatives)

    @property
    def fnr(self) -> float | None:
        """False negatives over cases labelled true."""
        return _rate(self.fn, self.positives)

    def to_dict(self) -> dict[str, Any]:
        """Counts and rates as a JSON-serializable dict."""
        rates = {"accuracy": self.accuracy, "fpr": self.fpr, "fnr": self.fnr}
        return {"cases": self.cases, **rates, **asdict(self), "max_elapsed_s": round(self.max_elapsed_s, 4)}


def metrics_of(results: Iterable[CaseResult]) -> Metrics:
    """Count outcomes over ``results``."""
    counts = dict.fromkeys(OUTCOMES, 0)
    positives = negatives = 0
    slowest = 0.0
    for r in results:
        counts[r.outcome] += 1
        positives += r.case.label
        negatives += not r.case.label
        slowest = max(slowest, r.elapsed_s)
    return Metrics(positives + negatives, positives, negatives, **counts, max_elapsed_s=slowest)


@dataclass(frozen=True)
class EvalReport:
    """Every case result, with metrics overall, per verifier and per category."""

    results: tuple[CaseResult, ...]
    wall_s: float

    @property
    def overall(self) -> Metrics:
        """Metrics over every case."""
        return metrics_of(self.results)

    def by(self, key: Callable[[CaseResult], str]) -> dict[str, Metrics]:
        """Metrics per group, groups named by ``key`` and sorted."""
        groups: dict[str, list[CaseResult]] = {}
        for r in self.results:
            groups.setdefault(key(r), []).append(r)
        return {name: metrics_of(groups[name]) for name in sorted(groups)}

    @property
    def per_verifier(self) -> dict[str, Metrics]:
        """Metrics per verifier name."""
        return self.by(lambda r: r.case.verifier)

    @property
    def per_category(self) -> dict[str, Metrics]:
        """Metrics per case category (``-`` for cases without one)."""
        return self.by(lambda r: r.case.category or "-")

    def mistakes(self) -> list[CaseResult]:
        """The results that are not true positives or negatives, in case order."""
        return [r for r in self.results if r.outcome not in ("tp", "tn")]

    def to_dict(self, details: bool = False) -> dict[str, Any]:
        """The report as JSON-serializable data; ``details`` adds one row per case."""
        out: dict[str, Any] = {
            "cases": len(self.results),
            "wall_s": round(self.wall_s, 3),
            "overall": self.overall.to_dict(),
            "verifiers": {k: m.to_dict() for k, m in self.per_verifier.items()},
            "categories": {k: m.to_dict() for k, m in self.per_category.items()},
        }
        if details:
            out["results"] = [r.to_dict() for r in self.results]
        return out


def _verifier_key(case: EvalCase) -> str:
    return case.verifier + (" " + json.dumps(case.options, sort_keys=True) if case.options else "")


def build_verifiers(
    cases: Iterable[EvalCase], options: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Verifier]:
    """One verifier per distinct (name, case options), keyed like the cases that use it.

    ``options`` are per verifier name; a case's own ``options`` override them. Unknown names and
    bad options raise ConfigError before anything runs.
    """
    options = options or {}
    by_key = {_verifier_key(c): c for c in cases}
    unused = set(options) - {c.verifier for c in by_key.values()}
    if unused:
        raise ConfigError(f"options given for verifier(s) no case uses: {', '.join(sorted(unused))}")
    built: dict[str, Verifier] = {}
    for key, case in sorted(by_key.items()):
        try:
            built[key] = make_verifier(case.verifier, **{**options.get(case.verifier, {}), **case.options})
        except VerifierError as exc:
            raise ConfigError(f"line {case.line}: {exc}" if case.options else str(exc)) from None
    return built


async def _run_case(verifier: Verifier, case: EvalCase) -> CaseResult:
    """Verify one case; the outer limit only guards against verifiers that ignore their own."""
    start = time.perf_counter()
    try:
        task = reference_task(case.answer, **case.task_spec())
        verdict = await asyncio.wait_for(verifier.averify(task, case.response), verifier.timeout_s + GRACE_S)
    except asyncio.TimeoutError:
        verdict = Verdict.failed(verifier.name, f"case ran past {verifier.timeout_s + GRACE_S:g}s")
    except Exception as exc:  # a broken verifier is an unscored case, never a crashed evaluation
        verdict = Verdict.failed(verifier.name, f"{type(exc).__name__}: {exc}"[:500])
    return CaseResult(case, verdict, time.perf_counter() - start)


async def aevaluate(
    cases: Sequence[EvalCase],
    *,
    concurrency: int = 8,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> EvalReport:
    """Run every case through its verifier, at most ``concurrency`` at once; results keep case order.

    ``options`` maps a verifier name to keyword arguments for ``make_verifier``; ``on_result`` is
    called as each case finishes (for progress bars).
    """
    if concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1, got {concurrency}")
    verifiers = build_verifiers(cases, options)
    gate = asyncio.Semaphore(concurrency)

    async def one(case: EvalCase) -> CaseResult:
        async with gate:
            result = await _run_case(verifiers[_verifier_key(case)], case)
        if on_result is not None:
            on_result(result)
        return result

    start = time.perf_counter()
    results = await asyncio.gather(*(one(c) for c in cases))
    return EvalReport(tuple(results), time.perf_counter() - start)


def evaluate(
    cases: Sequence[EvalCase],
    *,
    concurrency: int = 8,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> EvalReport:
    """Synchronous :func:`aevaluate` (also safe inside a running event loop)."""
    from agentgym.core.agent import run_sync

    return run_sync(aevaluate(cases, concurrency=concurrency, options=options, on_result=on_result))


def math_verify_baseline(gold: str, response: str) -> bool:
    r"""Raw ``math_verify.verify(parse(gold), parse(response))``: the naive baseline for benchmarks.

    The gold is parsed as ``\boxed{gold}``. Module-level so a :class:`WorkerPool` can run it under
    a time limit; needs the ``math-verify`` package.
    """
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)  # it logs every parse timeout
    return bool(verify(parse("\\boxed{" + gold + "}"), parse(response)))

"""Grade a patch against a task: apply to a pristine copy, restore the tests, run them sandboxed.

:func:`grade_patch` takes the patch's per-file parts, sets aside those touching test files or test
configuration (:func:`agentgym.tasks.swe.patches.is_protected`), applies the rest with ``git
apply`` to a fresh host copy of the buggy repository, puts back every protected file from
pristine (and deletes protected files the patch created, plus any symlink), then runs
FAIL_TO_PASS + PASS_TO_PASS in a fresh sandbox (:mod:`agentgym.tasks.swe.testrun`). Resolved
means: the patch applied, the signed report is valid and untampered, no collection error, exit
code 0, and every listed test ran and passed. The SWE-RL similarity is -1 when the patch does not
apply, else difflib's ratio to the oracle patch.

:func:`grade_verdict` turns a grade into the episode's Verdict through :data:`SWE_RUBRIC`: the term
``resolved`` (weight 1) is the score; ``similarity`` (weight 0) is a metric, reported, never scored.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentgym.core.verdict import Verdict
from agentgym.tasks.swe.patches import apply_patch, is_protected, similarity, split_patch, tree_files
from agentgym.tasks.swe.record import SweTask
from agentgym.tasks.swe.snapshot import buggy_tree
from agentgym.tasks.swe.testrun import TestReport, run_tests, scratch_dir
from agentgym.verifiers.base import Rubric, RubricItem, term

# Added lines in non-test files that reach into the test runner: no bug fix in a library needs them.
RUNNER_REFERENCE = re.compile(
    r"\b(_pytest|pytest|pluggy|conftest)\b|PYTEST_|hookimpl|pytest_\w+\(|\.grader|"
    r"_getframe|\bf_back\b|\bf_locals\b|\bf_globals\b|get_objects|get_referrers|currentframe|os\._exit"
)


@dataclass
class GradeResult:
    """The verdict on one patch."""

    task_id: str
    resolved: bool
    applied: bool
    similarity: float
    tests: dict[str, str] = field(default_factory=dict)
    fail_to_pass_passed: int = 0
    fail_to_pass_total: int = 0
    pass_to_pass_passed: int = 0
    pass_to_pass_total: int = 0
    dropped_files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self, with_timing: bool = True) -> dict[str, Any]:
        """JSON form (``with_timing=False`` leaves out the wall time, for deterministic records)."""
        data = asdict(self)
        if not with_timing:
            data.pop("seconds")
        return data


#: SWE's reward: resolved (1/0) is the score; the SWE-RL patch similarity a weight-0 metric.
SWE_RUBRIC = Rubric(
    [RubricItem("resolved", None, 1.0), RubricItem("similarity", None, 0.0)], name="swe_tests"
)


def grade_verdict(grade: GradeResult, **details: Any) -> Verdict:
    """The Verdict of a grade (:data:`SWE_RUBRIC`); ``details`` go next to the rubric's breakdown.

    The similarity term's score is the similarity clipped at 0 (it is -1 when the patch did not
    apply; the raw value is in its details).
    """
    terms = {
        "resolved": term("resolved", float(grade.resolved), grade.resolved),
        "similarity": term("similarity", max(0.0, grade.similarity), similarity=grade.similarity),
    }
    return SWE_RUBRIC.combine(terms, **details)


def restore_protected(tree: Path, pristine: Path) -> None:
    """Make every test file / test config in ``tree`` equal to ``pristine``'s; drop new ones and links."""
    for path in sorted(tree.rglob("*"), reverse=True):
        if path.is_symlink():
            path.unlink()
    present = tree_files(tree)
    original = tree_files(pristine)
    for rel, path in present.items():
        if is_protected(rel) and rel not in original:
            path.unlink()
    for rel, source in original.items():
        if is_protected(rel):
            target = tree / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                shutil.rmtree(target)
            shutil.copy2(source, target)


def runner_references(parts: list[tuple[str, str]]) -> list[str]:
    """Files whose added lines reference pytest / its hooks (patches never need that to fix a bug)."""
    flagged = []
    for rel, chunk in parts:
        added = [
            line[1:] for line in chunk.splitlines() if line.startswith("+") and not line.startswith("+++")
        ]
        if any(RUNNER_REFERENCE.search(line) for line in added):
            flagged.append(rel)
    return flagged


def grade_patch(task: SweTask, patch: str, *, backend: str = "local", timeout: float = 300.0) -> GradeResult:
    """Grade ``patch`` (a unified diff against the agent's view of the repository) on ``task``."""
    started = time.perf_counter()
    f2p, p2p = list(task.fail_to_pass), list(task.pass_to_pass)
    result = GradeResult(
        task.task_id, False, False, -1.0, fail_to_pass_total=len(f2p), pass_to_pass_total=len(p2p)
    )
    parts = split_patch(patch)
    if patch.strip() and not parts:
        result.problems.append("the patch has no file headers (not a unified diff)")
        result.seconds = time.perf_counter() - started
        return result
    kept = [(rel, chunk) for rel, chunk in parts if not is_protected(rel)]
    result.dropped_files = sorted({rel for rel, _ in parts if is_protected(rel)})
    pristine = buggy_tree(task)
    with scratch_dir("agentgym-swe-grade-") as scratch:
        tree = scratch / "repo"
        shutil.copytree(pristine, tree, symlinks=True)
        error = apply_patch(tree, "".join(chunk for _, chunk in kept))
        if error is not None:
            result.problems.append(f"the patch does not apply: {error}")
            result.seconds = time.perf_counter() - started
            return result
        result.applied = True
        result.similarity = round(similarity(patch, task.oracle_patch), 6)
        restore_protected(tree, pristine)
        flagged = runner_references(kept)
        if flagged:
            result.problems.append(f"the patch reaches into the test runner in {flagged}")
        report = run_tests(
            tree, f2p + p2p, backend=backend, python_path=task.info.python_path, timeout=timeout
        )
    _score(result, report, f2p, p2p)
    if flagged:
        result.resolved = False
    result.seconds = time.perf_counter() - started
    return result


def _score(result: GradeResult, report: TestReport, f2p: list[str], p2p: list[str]) -> None:
    """Fill per-test outcomes and the resolved flag from a sandboxed test report."""
    for test_id in f2p + p2p:
        result.tests[test_id] = report.results.get(test_id, "not run") if report.valid else "not run"
    result.fail_to_pass_passed = sum(report.passed(t) for t in f2p)
    result.pass_to_pass_passed = sum(report.passed(t) for t in p2p)
    if report.problem:
        result.problems.append(report.problem)
    if report.tampered:
        result.problems.append(f"the test machinery was tampered with: {report.tampered[:5]}")
    if report.collect_errors:
        result.problems.append(f"collection errors: {report.collect_errors[:5]}")
    everything = result.fail_to_pass_passed == len(f2p) and result.pass_to_pass_passed == len(p2p)
    result.resolved = bool(
        report.valid
        and not report.tampered
        and not report.collect_errors
        and report.exit_code == 0
        and everything
    )

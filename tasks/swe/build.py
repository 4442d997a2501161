"""The SWE task factory: sdist from the package index -> green baseline -> AST mutants -> tasks.

``build_package("inflection==0.5.1")`` downloads the source distribution (``pip download
--no-binary :all: --no-deps``), unpacks it, runs its whole test suite in the sandbox (it must be
green), tries mutation sites drawn round-robin over the operators (seeded), and keeps a mutant
when at least one baseline test fails and no more than ``max_fail_fraction`` of them do, with no
collection error. Kept single bugs are also paired into two-bug tasks. Each task records the
mutations, FAIL_TO_PASS, the issue text (:mod:`.issue`), the oracle patch (the reverse of the
mutations, as a diff against the agent's view) and its difficulty.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.tasks.swe.issue import write_issue
from agentgym.tasks.swe.mutate import OPERATORS, Mutation, apply_mutations, find_mutations
from agentgym.tasks.swe.patches import file_diff, is_protected, tree_files
from agentgym.tasks.swe.record import PackageInfo, SweTask
from agentgym.tasks.swe.snapshot import sha256_file, unpack_sdist
from agentgym.tasks.swe.testrun import TestReport, require_green, run_tests, scratch_dir

SPEC = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")
SKIP_SOURCES = ("setup.py", "versioneer.py", "_version.py", "noxfile.py", "conf.py")


@dataclass(frozen=True)
class BuildConfig:
    """Knobs of the factory (validated)."""

    singles: int = 10  # single-bug tasks to keep per package
    doubles: int = 2  # two-bug tasks to keep per package
    max_candidates: int = 60  # mutants to try at most per package
    max_fail_fraction: float = 0.3
    seed: int = 0
    backend: str = "local"

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        if self.singles < 1 or self.doubles < 0 or self.max_candidates < 1:
            raise ValueError("singles >= 1, doubles >= 0 and max_candidates >= 1 are required")
        if not 0 < self.max_fail_fraction <= 1:
            raise ValueError("max_fail_fraction must be in (0, 1]")


def parse_spec(spec: str) -> tuple[str, str]:
    """``NAME==VERSION`` -> (name, version); TaskError otherwise."""
    match = SPEC.match(spec.strip())
    if not match:
        raise TaskError(f"package spec must look like NAME==VERSION, got {spec!r}")
    return match.group(1), match.group(2)


def download_sdist(name: str, version: str, dest: Path) -> Path:
    """Download the source distribution of ``name==version`` into ``dest`` (pip's own client)."""
    argv = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q"]
    argv += ["--no-build-isolation", "-d", str(dest), f"{name}=={version}"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    archives = sorted(dest.glob("*.tar.gz"))
    if not archives:
        proc = subprocess.run(argv[:8] + argv[9:], capture_output=True, text=True, timeout=600)
        archives = sorted(dest.glob("*.tar.gz"))
    if not archives:
        raise TaskError(f"pip download {name}=={version} gave no .tar.gz sdist: {proc.stderr.strip()[-500:]}")
    return archives[0]


def source_files(tree: Path) -> dict[str, str]:
    """The package's non-test Python sources by relative path."""
    found = {}
    for rel, path in tree_files(tree).items():
        top = rel.split("/", 1)[0]
        wanted = rel.endswith(".py") and not is_protected(rel) and rel.rsplit("/", 1)[-1] not in SKIP_SOURCES
        if wanted and top not in ("docs", "doc", "examples", "benchmarks"):
            found[rel] = path.read_text(encoding="utf-8")
    return found


def draw_candidates(mutations: list[Mutation], rng: np.random.Generator, limit: int) -> list[Mutation]:
    """Up to ``limit`` mutations, shuffled within each operator and taken round-robin over operators."""
    pools = {op: [m for m in mutations if m.operator == op] for op in OPERATORS}
    for pool in pools.values():
        rng.shuffle(pool)  # type: ignore[arg-type]
    drawn: list[Mutation] = []
    while len(drawn) < limit and any(pools.values()):
        for op in OPERATORS:
            if pools[op] and len(drawn) < limit:
                drawn.append(pools[op].pop())
    return drawn


def _mutated_tree(pristine: Path, sources: dict[str, str], mutations: list[Mutation], dest: Path) -> None:
    shutil.copytree(pristine, dest)
    by_file: dict[str, list[Mutation]] = {}
    for m in mutations:
        by_file.setdefault(m.path, []).append(m)
    for rel, group in by_file.items():
        (dest / rel).write_text(apply_mutations(sources[rel], group), encoding="utf-8")


def oracle_patch(sources: dict[str, str], mutations: list[Mutation]) -> str:
    """The fix: for each mutated file, the diff from the buggy text back to the original."""
    parts = []
    for rel in sorted({m.path for m in mutations}):
        group = [m for m in mutations if m.path == rel]
        buggy = apply_mutations(sources[rel], group).splitlines(keepends=True)
        parts.append(file_diff(rel, buggy, sources[rel].splitlines(keepends=True), False, False))
    return "".join(parts)


def build_package(
    spec: str, data_dir: Path, config: BuildConfig, log: Callable[[str], None] = print
) -> tuple[PackageInfo, list[SweTask]]:
    """Download, check, mutate and record one package version; the sdist is copied into ``data_dir``."""
    config.validate()
    name, version = parse_spec(spec)
    data_dir.mkdir(parents=True, exist_ok=True)
    with scratch_dir("agentgym-swe-build-") as scratch:
        archive = download_sdist(name, version, scratch / "dl")
        sdist_name = f"{name.lower().replace('_', '-')}-{version}.tar.gz"
        shutil.copy2(archive, data_dir / sdist_name)
        pristine = scratch / "pristine"
        pristine.mkdir()
        unpack_sdist(archive, pristine)
        python_path = ("src",) if (pristine / "src").is_dir() else (".",)
        base = run_tests(pristine, [], backend=config.backend, python_path=python_path)
        require_green(base, spec)
        baseline = tuple(sorted(t for t, v in base.results.items() if v == "passed"))
        log(f"{spec}: {len(baseline)} tests green in the sandbox ({base.seconds:.1f} s)")
        info = PackageInfo(
            name, version, sdist_name, sha256_file(data_dir / sdist_name), baseline, python_path
        )
        sources = source_files(pristine)
        sites = [m for rel in sorted(sources) for m in find_mutations(rel, sources[rel])]
        rng = np.random.default_rng([config.seed, sum(map(ord, spec))])
        cap = max(1, int(config.max_fail_fraction * len(baseline)))

        def evaluate(mutations: list[Mutation], index: int) -> tuple[list[str], TestReport] | None:
            tree = scratch / f"mutant-{index}"
            _mutated_tree(pristine, sources, mutations, tree)
            limit = max(60.0, 5 * base.seconds)  # a mutant that loops forever must not stall the build
            report = run_tests(tree, [], backend=config.backend, python_path=python_path, timeout=limit)
            shutil.rmtree(tree, ignore_errors=True)
            if not report.valid or report.collect_errors or report.tampered:
                return None
            failing = [t for t in baseline if report.results.get(t) != "passed"]
            return (failing, report) if 1 <= len(failing) <= cap else None

        kept: list[tuple[list[Mutation], list[str], TestReport]] = []
        tried = 0
        for candidate in draw_candidates(sites, rng, config.max_candidates):
            if sum(len(k[0]) == 1 for k in kept) >= config.singles:
                break
            tried += 1
            outcome = evaluate([candidate], tried)
            if outcome is not None:
                kept.append(([candidate], *outcome))
                where = f"{candidate.path}:{candidate.function}"
                log(f"  kept {candidate.operator} in {where} ({len(outcome[0])} failing)")
        singles = [k[0][0] for k in kept]
        used: set[str] = set()  # each function takes part in one two-bug task at most
        for i, first in enumerate(singles):
            for second in singles[i + 1 :]:
                functions = {first.function, second.function}
                close = first.path == second.path and abs(first.start - second.start) < 8
                full = sum(len(k[0]) == 2 for k in kept) >= config.doubles
                if full or close or len(functions) < 2 or functions & used:
                    continue
                tried += 1
                outcome = evaluate([first, second], tried)
                if outcome is not None:
                    kept.append(([first, second], *outcome))
                    used |= functions
                    log(f"  kept two-bug task in {first.function} + {second.function}")
        log(f"{spec}: {len(kept)} tasks from {tried} mutants tried ({len(sites)} sites)")
        tasks = []
        for number, (mutations, failing, report) in enumerate(kept, start=1):
            issue = write_issue(name, version, mutations, failing, report.messages, python_path)
            difficulty = {
                "bugs": len(mutations),
                "files": len({m.path for m in mutations}),
                "failing_tests": len(failing),
            }
            tasks.append(
                SweTask(
                    task_id=f"{info.key}-{number:03d}",
                    package=info.key,
                    mutations=tuple(mutations),
                    fail_to_pass=tuple(failing),
                    issue=issue,
                    oracle_patch=oracle_patch(sources, mutations),
                    difficulty=difficulty,
                )
            )
    return info, tasks

"""SWE task records and the shipped data: packages (sdist snapshots + test baselines) and tasks.

``tasks/swe/data/`` holds, per package version, its source distribution exactly as downloaded
(``NAME-VERSION.tar.gz``: the repository snapshot) and a line in ``packages.jsonl`` (checksum,
the test ids that pass on it, where its code imports from); ``tasks.jsonl`` holds one
:class:`SweTask` per line (the mutations, FAIL_TO_PASS, the issue text, the oracle patch).
PASS_TO_PASS is the package baseline minus FAIL_TO_PASS, so it is not stored per task.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.core.errors import TaskError, UnknownIdError
from agentgym.core.task import Task
from agentgym.tasks.swe.mutate import Mutation

DATA_DIR = Path(__file__).with_name("data")
PACKAGES_FILE = "packages.jsonl"
TASKS_FILE = "tasks.jsonl"
FAMILY = "swe"


@dataclass(frozen=True)
class PackageInfo:
    """One package version: its sdist snapshot and the test ids green on it."""

    name: str
    version: str
    sdist: str  # file name under the data dir
    sha256: str
    baseline: tuple[str, ...]  # test ids that pass on the pristine snapshot
    python_path: tuple[str, ...] = (".",)

    @property
    def key(self) -> str:
        """``name-version``."""
        return f"{self.name}-{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (one line of ``packages.jsonl``)."""
        return {
            "name": self.name,
            "version": self.version,
            "sdist": self.sdist,
            "sha256": self.sha256,
            "python_path": list(self.python_path),
            "baseline": list(self.baseline),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PackageInfo:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            name=data["name"],
            version=data["version"],
            sdist=data["sdist"],
            sha256=data["sha256"],
            baseline=tuple(data["baseline"]),
            python_path=tuple(data.get("python_path", ["."])),
        )


@dataclass(frozen=True)
class SweTask:
    """One bug-fix task: the package, the injected mutations and what grading checks."""

    task_id: str
    package: str  # PackageInfo.key
    mutations: tuple[Mutation, ...]
    fail_to_pass: tuple[str, ...]
    issue: str
    oracle_patch: str
    difficulty: dict[str, float] = field(default_factory=dict)

    @property
    def info(self) -> PackageInfo:
        """The package this task was built from."""
        return get_package(self.package)

    @property
    def pass_to_pass(self) -> tuple[str, ...]:
        """Tests green before and after the bug: the baseline minus FAIL_TO_PASS."""
        failing = set(self.fail_to_pass)
        return tuple(t for t in self.info.baseline if t not in failing)

    @property
    def hidden_files(self) -> tuple[str, ...]:
        """Test files holding FAIL_TO_PASS tests: removed from the agent's copy, restored for grading."""
        return tuple(sorted({t.split("::", 1)[0] for t in self.fail_to_pass}))

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        """JSON form; ``full`` adds the derived PASS_TO_PASS list and package fields."""
        data: dict[str, Any] = {
            "task_id": self.task_id,
            "package": self.package,
            "mutations": [m.to_dict() for m in self.mutations],
            "fail_to_pass": list(self.fail_to_pass),
            "issue": self.issue,
            "oracle_patch": self.oracle_patch,
            "difficulty": dict(self.difficulty),
        }
        if full:
            data["pass_to_pass"] = list(self.pass_to_pass)
            data["hidden_files"] = list(self.hidden_files)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweTask:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            task_id=data["task_id"],
            package=data["package"],
            mutations=tuple(Mutation.from_dict(m) for m in data["mutations"]),
            fail_to_pass=tuple(data["fail_to_pass"]),
            issue=data["issue"],
            oracle_patch=data["oracle_patch"],
            difficulty=dict(data.get("difficulty", {})),
        )

    def as_task(self) -> Task:
        """The core :class:`Task` (spec: what the env poses; answer: the oracle patch)."""
        return Task(
            family=FAMILY,
            spec={"task_id": self.task_id, "package": self.package, "issue": self.issue},
            answer=self.oracle_patch,
            difficulty=self.difficulty,
            meta={"fail_to_pass": list(self.fail_to_pass)},
        )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@functools.lru_cache(maxsize=4)
def _packages(data_dir: Path) -> dict[str, PackageInfo]:
    return {p.key: p for p in (PackageInfo.from_dict(d) for d in _read_jsonl(data_dir / PACKAGES_FILE))}


@functools.lru_cache(maxsize=4)
def _tasks(data_dir: Path) -> dict[str, SweTask]:
    return {t.task_id: t for t in (SweTask.from_dict(d) for d in _read_jsonl(data_dir / TASKS_FILE))}


def load_packages(data_dir: Path = DATA_DIR) -> dict[str, PackageInfo]:
    """Shipped packages by ``name-version``."""
    return dict(_packages(data_dir))


def load_tasks(data_dir: Path = DATA_DIR) -> list[SweTask]:
    """Shipped tasks, in file order."""
    return list(_tasks(data_dir).values())


def get_package(key: str, data_dir: Path = DATA_DIR) -> PackageInfo:
    """The package ``name-version`` (UnknownIdError with suggestions otherwise)."""
    packages = _packages(data_dir)
    if key not in packages:
        raise UnknownIdError("swe package", key, packages)
    return packages[key]


def get_task(task_id: str, data_dir: Path = DATA_DIR) -> SweTask:
    """The task ``task_id`` (UnknownIdError with suggestions otherwise)."""
    tasks = _tasks(data_dir)
    if task_id not in tasks:
        raise UnknownIdError("swe task", task_id, tasks)
    return tasks[task_id]


def write_data(packages: list[PackageInfo], tasks: list[SweTask], data_dir: Path = DATA_DIR) -> None:
    """Write ``packages.jsonl`` and ``tasks.jsonl`` (replacing them) and clear the load caches."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in ((PACKAGES_FILE, packages), (TASKS_FILE, tasks)):
        text = "".join(json.dumps(r.to_dict(), ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
        (data_dir / name).write_text(text, encoding="utf-8")
    _packages.cache_clear()
    _tasks.cache_clear()


def check_unique(tasks: list[SweTask]) -> None:
    """Raise TaskError when two tasks share an id."""
    seen: set[str] = set()
    for task in tasks:
        if task.task_id in seen:
            raise TaskError(f"duplicate swe task id {task.task_id}")
        seen.add(task.task_id)

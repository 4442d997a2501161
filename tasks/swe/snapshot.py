"""Materialise a task's trees on the host, cached: pristine, buggy, and the agent's view.

- pristine: the package's sdist unpacked (top folder stripped, ``*.egg-info`` dropped);
- buggy: pristine with the task's mutations applied (what grading starts from);
- agent view: buggy without the hidden test files, as a git repository with one commit (fixed
  author and date, so the same hash every time) and no tags, reflog, hooks or other history.

Caches live under ``$AGENTGYM_CACHE/swe`` (default ``~/.cache/agentgym/swe``; see
:mod:`agentgym.tasks.swe.cache`) and are created atomically (build, then rename).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from agentgym.core.errors import TaskError
from agentgym.tasks.swe.cache import cached_tree
from agentgym.tasks.swe.mutate import apply_mutations
from agentgym.tasks.swe.record import DATA_DIR, PackageInfo, SweTask

GIT_DATE = "2024-01-01T00:00:00+0000"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "agentgym",
    "GIT_AUTHOR_EMAIL": "swe@agentgym.invalid",
    "GIT_COMMITTER_NAME": "agentgym",
    "GIT_COMMITTER_EMAIL": "swe@agentgym.invalid",
    "GIT_AUTHOR_DATE": GIT_DATE,
    "GIT_COMMITTER_DATE": GIT_DATE,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LANG": "C",
}


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def unpack_sdist(archive: Path, dest: Path) -> None:
    """Unpack an sdist into ``dest`` with its single top folder stripped and egg-info dropped."""
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        tops = {m.name.split("/", 1)[0] for m in members}
        if len(tops) != 1:
            raise TaskError(f"{archive.name}: expected one top-level folder, found {sorted(tops)[:5]}")
        for member in members:
            rel = member.name.split("/", 1)[1] if "/" in member.name else ""
            if not rel or ".egg-info" in rel.split("/")[0]:
                continue
            member.name = rel
            tar.extract(member, dest, filter="data")


def pristine_tree(info: PackageInfo, data_dir: Path = DATA_DIR) -> Path:
    """The package's pristine source tree (checked against the recorded checksum)."""
    archive = data_dir / info.sdist

    def build(staging: Path) -> None:
        if sha256_file(archive) != info.sha256:
            raise TaskError(f"{archive}: checksum does not match packages.jsonl")
        unpack_sdist(archive, staging)

    return cached_tree(f"pristine-{info.key}-{info.sha256[:12]}", build)


def _task_key(task: SweTask) -> str:
    text = "".join(f"{m.path}:{m.start}:{m.original}->{m.mutated}" for m in task.mutations)
    return hashlib.sha256(f"{task.package}|{text}|{task.hidden_files}".encode()).hexdigest()[:16]


def write_buggy(pristine: Path, task: SweTask, dest: Path) -> None:
    """Copy ``pristine`` to ``dest`` and apply the task's mutations there."""
    shutil.copytree(pristine, dest, dirs_exist_ok=True)
    by_file: dict[str, list] = {}
    for mutation in task.mutations:
        by_file.setdefault(mutation.path, []).append(mutation)
    for rel, mutations in by_file.items():
        path = dest / rel
        path.write_text(apply_mutations(path.read_text(encoding="utf-8"), mutations), encoding="utf-8")


def buggy_tree(task: SweTask, data_dir: Path = DATA_DIR) -> Path:
    """The full repository with the bug in it, hidden tests included (grading starts here)."""
    pristine = pristine_tree(task.info, data_dir)
    return cached_tree(f"buggy-{task.task_id}-{_task_key(task)}", lambda d: write_buggy(pristine, task, d))


def git_init_commit(tree: Path, message: str = "Base commit") -> None:
    """Make ``tree`` a git repository with one deterministic commit and no other history."""
    env = {**GIT_ENV, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tree)}
    for argv in (
        ["git", "-c", "init.defaultBranch=main", "init", "-q"],
        ["git", "add", "-A", "-f"],
        ["git", "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", message],
    ):
        proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise TaskError(f"{' '.join(argv[:3])} failed in {tree}: {proc.stderr.strip()}")
    git = tree / ".git"
    for leftover in ("logs", "hooks", "COMMIT_EDITMSG", "ORIG_HEAD", "FETCH_HEAD", "description"):
        path = git / leftover
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def write_agent_view(buggy: Path, task: SweTask, dest: Path) -> None:
    """The agent's copy: ``buggy`` minus the hidden test files, committed as the base."""
    shutil.copytree(buggy, dest, dirs_exist_ok=True)
    for rel in task.hidden_files:
        (dest / rel).unlink(missing_ok=True)
    git_init_commit(dest)


def agent_tree(task: SweTask, data_dir: Path = DATA_DIR) -> Path:
    """The repository as the agent sees it (a git repo at the base commit)."""
    buggy = buggy_tree(task, data_dir)
    return cached_tree(f"agent-{task.task_id}-{_task_key(task)}", lambda d: write_agent_view(buggy, task, d))

"""The SWE caches live under ``$AGENTGYM_CACHE/swe`` (default ``~/.cache/agentgym/swe``), not in /tmp."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from agentgym.tasks.swe import testrun
from agentgym.tasks.swe.cache import cache_root, cached_tree, reachable_by_others
from agentgym.tasks.swe.record import load_tasks
from agentgym.tasks.swe.snapshot import agent_tree, buggy_tree, pristine_tree


def test_the_root_follows_agentgym_cache_at_call_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path / "one"))
    assert cache_root() == tmp_path / "one" / "swe" and cache_root().is_dir()
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path / "two"))
    assert cache_root() == tmp_path / "two" / "swe"
    monkeypatch.delenv("AGENTGYM_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "agentgym" / "swe"


def test_task_trees_are_built_under_the_cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path))
    task = next(t for t in load_tasks() if t.package.startswith("inflection"))
    trees = [pristine_tree(task.info), buggy_tree(task), agent_tree(task)]
    for tree in trees:
        assert tree.parent == tmp_path / "swe" and tree.is_dir()
        assert (tree.stat().st_mode & 0o777) == 0o755
    assert (trees[2] / ".git").is_dir()
    assert sorted(p.name for p in (tmp_path / "swe").iterdir()) == sorted(t.name for t in trees)
    assert buggy_tree(task) == trees[1]  # the second call finds the cached tree


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    def broken(staging: Path) -> None:
        (staging / "half").write_text("x")
        raise RuntimeError("build failed")

    with pytest.raises(RuntimeError, match="build failed"):
        cached_tree("tree", broken, tmp_path)
    assert list(tmp_path.iterdir()) == []
    built = cached_tree("tree", lambda d: (d / "f").write_text("y"), tmp_path)
    assert (built / "f").read_text() == "y" and (built / "f").stat().st_mode & 0o777 == 0o644


def test_reachability_for_the_sandbox_uid() -> None:
    with tempfile.TemporaryDirectory() as name:  # directly in the world-enterable temp folder
        top = Path(name)
        inner = top / "private" / "cache"
        inner.mkdir(parents=True)
        for folder in (top, top / "private", inner):
            folder.chmod(0o755)
        assert reachable_by_others(inner)
        (top / "private").chmod(0o700)
        assert not reachable_by_others(inner)
        assert reachable_by_others(top)


def test_pytest_libs_go_to_the_cache_when_the_sandbox_uid_reaches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reachable = tmp_path / "open"
    reachable.mkdir()
    monkeypatch.setenv("AGENTGYM_CACHE", str(reachable))
    monkeypatch.setattr(testrun, "reachable_by_others", lambda path: True)
    monkeypatch.setattr(testrun, "LIB_MODULES", ("iniconfig",))  # a small one: the copy is the point
    lib = testrun.pytest_lib_dir()
    assert lib.parent == reachable / "swe" and lib.name.startswith("pytest-")
    assert (lib / "iniconfig" / "__init__.py").is_file()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the sandbox to another uid")
def test_pytest_libs_stay_bindable_when_the_cache_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(testrun, "reachable_by_others", lambda path: False)
    lib = testrun.pytest_lib_dir()  # the real libraries: the local sandbox binds this folder
    assert lib.name.startswith("agentgym-swe-pytest-") and reachable_by_others(lib)
    assert not (tmp_path / "cache" / "swe").exists() or not any((tmp_path / "cache" / "swe").iterdir())

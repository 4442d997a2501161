"""The cache root is read from $AGENTGYM_CACHE at call time; every family's cache lives below it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentgym.core.cache import cache_root


def test_cache_root_follows_the_variable_at_call_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path / "a"))
    assert cache_root() == tmp_path / "a" and cache_root("x", "y") == tmp_path / "a" / "x" / "y"
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path / "b"))
    assert cache_root("webshop") == tmp_path / "b" / "webshop"
    monkeypatch.delenv("AGENTGYM_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "agentgym"
    assert not (tmp_path / "home").exists()  # resolving a path creates nothing


def test_families_share_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentgym.agents.bundled import default_cache_dir
    from agentgym.environments.search.engine import cache_root as search_root
    from agentgym.environments.webshop.store import default_cache_dir as shop_root
    from agentgym.tasks.swe.cache import cache_root as swe_root

    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path))
    assert default_cache_dir() == shop_root() == tmp_path
    assert search_root() == tmp_path / "search" and swe_root() == tmp_path / "swe"

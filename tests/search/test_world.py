"""The fictional world: determinism, unique names, namesake distractors, articles, scale."""

from __future__ import annotations

import numpy as np
import pytest

from agentgym.core.errors import TaskError
from agentgym.tasks.search import names
from agentgym.tasks.search.articles import LIST_CAP, get_document, iter_documents, render
from agentgym.tasks.search.world import TYPES, World, WorldConfig, get_world, type_counts


@pytest.fixture(scope="module")
def world() -> World:
    return get_world(WorldConfig(seed=3, n_docs=3000, namesake_rate=0.4))


def test_same_seed_same_world_and_other_seed_differs() -> None:
    a = [tuple(d) for d in iter_documents(World(WorldConfig(5, 400, 0.3)))]
    b = [tuple(d) for d in iter_documents(World(WorldConfig(5, 400, 0.3)))]
    c = [tuple(d) for d in iter_documents(World(WorldConfig(6, 400, 0.3)))]
    assert a == b
    assert a != c
    assert len(a) == 400 and len({d[0] for d in a}) == 400


def test_type_counts_sum_to_the_corpus_size() -> None:
    for n in (50, 999, 1_000_000):
        counts = type_counts(n)
        assert sum(counts.values()) == n and all(counts[t] >= 2 for t in TYPES)


def test_names_unique_except_namesake_pairs_and_kind_name_unique(world: World) -> None:
    for t in TYPES:
        refs = [world.ref(t, i) for i in range(world.counts[t])]
        assert len(set(refs)) == len(refs), t
        titles = [world.title(t, i) for i in range(world.counts[t])]
        assert len(set(titles)) == len(titles), t
        by_name: dict[str, list[int]] = {}
        for i in range(world.counts[t]):
            by_name.setdefault(world.name(t, i), []).append(i)
        shared = [ids for ids in by_name.values() if len(ids) > 1]
        assert shared, f"no namesakes among {t}"
        for ids in shared:
            assert len(ids) == 2 and ids[1] == ids[0] + 1 and ids[0] % 2 == 0
            assert world.namesake[t][ids[0]] and world.namesake[t][ids[1]]
            assert world.kind_name(t, ids[0]) != world.kind_name(t, ids[1])


def test_namesakes_share_a_fact(world: World) -> None:
    pairs = np.flatnonzero(world.namesake["person"][0::2]) * 2
    assert len(pairs) > 10
    for left in pairs[:20]:
        assert world.target("person", "born_in", left) == world.target("person", "born_in", left + 1)
        a, b = render(world, "person", left), render(world, "person", left + 1)
        place = world.title("place", world.target("person", "born_in", left))
        assert place in a.text and place in b.text
        assert a.title != b.title and world.name("person", left) in a.title


def test_no_namesakes_at_rate_zero() -> None:
    w = World(WorldConfig(1, 500, 0.0))
    assert not any(w.namesake[t].any() for t in TYPES)


def test_articles_state_every_relation(world: World) -> None:
    rng = np.random.default_rng(0)
    for i in rng.integers(world.counts["person"], size=30):
        doc = render(world, "person", int(i))
        assert world.title("place", world.target("person", "born_in", int(i))) in doc.text
        assert world.title("org", world.target("person", "works_for", int(i))) in doc.text
        assert str(int(world.year["person"][i])) in doc.text
    for j in range(world.counts["place"]):
        natives = world.sources("person", "born_in", j)
        doc = render(world, "place", j)
        if 0 < len(natives) <= LIST_CAP:
            assert all(world.title("person", int(p)) in doc.text for p in natives)
            assert all(world.target("person", "born_in", int(p)) == j for p in natives)


def test_get_document_by_id_and_bad_ids(world: World) -> None:
    assert get_document(world, "p0") == render(world, "person", 0)
    for bad in ("", "x1", "p", "p-1", f"p{world.counts['person']}", "p1.5"):
        assert get_document(world, bad) is None


def test_invalid_world_configs_raise() -> None:
    for cfg in (WorldConfig(n_docs=10), WorldConfig(namesake_rate=1.5), WorldConfig(seed=-1)):
        with pytest.raises(TaskError):
            World(cfg)


def test_a_million_document_world_builds_and_renders() -> None:
    big = get_world(WorldConfig(seed=0, n_docs=1_000_000, namesake_rate=0.3))
    assert sum(big.counts.values()) == 1_000_000
    for t in TYPES:
        assert len(set(big.name_num[t].tolist())) >= big.counts[t] * 0.8  # unique except namesake pairs
    doc = get_document(big, f"w{big.counts['work'] - 1}")
    assert doc is not None and doc.text


def test_name_functions_are_injective_on_samples() -> None:
    for t, space in names.NAME_SPACES.items():
        sample = list(range(0, space, max(1, space // 5000)))
        assert len({names.NAMERS[t](n) for n in sample}) == len(sample), t


def test_every_invented_word_is_distinct() -> None:
    words = [names.word(i) for i in range(names.N_WORDS)]
    assert len(set(words)) == len(words)
    assert "Penis" not in words and "Xenis" in words


def test_the_word_table_is_built_whole_when_threads_race_for_it(monkeypatch) -> None:
    import threading

    monkeypatch.setattr(names, "_WORDS", [])
    barrier, out = threading.Barrier(8), []

    def use() -> None:
        barrier.wait()
        out.append(names.word(names.N_WORDS - 1))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 8 and len(set(out)) == 1 and len(names._WORDS) == names.N_WORDS

"""Question generator: hop counts, unique gold answers, held-out split, and the oracle on 200 held-out
questions per hop count."""

from __future__ import annotations

import numpy as np
import pytest

from agentgym.core.errors import TaskError
from agentgym.environments.search.qa import SearchQAEnv
from agentgym.tasks.registry import make_generator
from agentgym.tasks.search.articles import get_document
from agentgym.tasks.search.generator import SearchQAGenerator, task_world
from agentgym.tasks.search.questions import QTYPES
from agentgym.tasks.search.world import get_world
from agentgym.tasks.splits import generate_split, split_of


def _tasks(hops: int, n: int, split: str = "train", **kw):
    gen = SearchQAGenerator(hops=hops, **kw)
    return list(generate_split(gen, seed=11, n=n, split=split))


@pytest.mark.parametrize("hops", [1, 2, 3, 4])
def test_oracle_scores_one_on_200_heldout_questions_per_hop_count(hops: int) -> None:
    gen = SearchQAGenerator(hops=hops, distractors=min(hops - 1, 2), n_docs=20_000)
    tasks = list({t.id: t for t in generate_split(gen, seed=11, n=240, split="heldout")}.values())[:200]
    assert len(tasks) == 200
    assert all(split_of(t) == "heldout" for t in tasks)
    env = SearchQAEnv(split="heldout")
    rewards = []
    for task in tasks:
        env.reset(seed=0, options={"task": task})
        for _ in range(4 * hops + 2):
            _, reward, terminated, truncated, info = env.step(env.oracle_action())
            if terminated or truncated:
                break
        assert terminated and info["verdict"].details["path_recall"] == 1.0
        rewards.append(reward)
    assert np.mean(rewards) == 1.0


def test_every_kind_at_every_feasible_hop_count_with_hops_docs_on_the_path() -> None:
    seen = set()
    for hops in (1, 2, 3, 4):
        for task in _tasks(hops, 60):
            spec = task.spec
            assert spec["hops"] == hops == len(spec["path"]) == len(set(spec["path"]))
            seen.add((spec["qtype"], hops))
    assert {(q, h) for q in QTYPES for h in (1, 2, 3, 4) if not (q == "comparison" and h == 1)} <= seen


def test_gold_answers_are_supported_by_the_path_documents() -> None:
    for hops in (1, 2, 3, 4):
        for task in _tasks(hops, 40):
            world = get_world(task_world(task))
            docs = [get_document(world, d) for d in task.spec["path"]]
            text = " ".join(f"{d.title} {d.text}" for d in docs)
            gold = task.answer[0]
            if task.spec["qtype"] == "counting":
                listed = docs[-1].text.split(": ", 1)[1]
                assert listed.count(" and ") + listed.count(", ") + 1 >= int(gold)
            else:
                assert gold in text, (task.spec["question"], gold)


def test_intersection_answers_are_unique_by_brute_force() -> None:
    for task in [t for h in (1, 2) for t in _tasks(h, 60) if t.spec["qtype"] == "intersection"]:
        world = get_world(task_world(task))
        t, i = world.parse_doc_id(task.spec["path"][-1])
        r1, r2 = ("born_in", "works_for") if t == "person" else ("creator", "set_in")
        x1, x2 = world.target(t, r1, i), world.target(t, r2, i)
        matches = [
            j for j in range(world.counts[t]) if world.target(t, r1, j) == x1 and world.target(t, r2, j) == x2
        ]
        assert matches == [i]


def test_distractor_difficulty_puts_namesakes_on_the_path() -> None:
    for task in _tasks(3, 20, distractors=2):
        assert task.spec["namesakes"] >= 2
        world = get_world(task_world(task))
        assert sum(bool(world.namesake[t][i]) for t, i in map(world.parse_doc_id, task.spec["path"])) >= 2


def test_generation_is_deterministic_per_seed_and_index() -> None:
    gen = SearchQAGenerator(hops=3)
    assert gen.generate(4, 9) == gen.generate(4, 9)
    assert gen.generate(4, 9).id != gen.generate(4, 10).id


def test_reference_scores_one_and_corruptions_score_below() -> None:
    gen = make_generator("search/qa", hops=2)
    rng = np.random.default_rng(0)
    for index in range(30):
        task = gen.generate(1, index)
        assert gen.verify(task, gen.reference_response(task)).score == 1.0
        for alias in task.answer:
            assert gen.verify(task, f"<answer>{alias.upper()}.</answer>").passed
        assert gen.verify(task, gen.corrupt_response(task, rng)).score < 1.0
        assert gen.verify(task, "no answer here").details["format_error"]


def test_invalid_configs_raise() -> None:
    for bad in (
        {"hops": 0},
        {"hops": 5},
        {"distractors": 3, "hops": 2},
        {"qtypes": "comparison", "hops": 1},
        {"qtypes": "riddle"},
        {"n_docs": 3},
        {"hop": 2},
    ):
        with pytest.raises(TaskError):
            SearchQAGenerator(**bad)

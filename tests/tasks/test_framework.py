import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import agentgym
from agentgym.core.errors import TaskError, UnknownIdError
from agentgym.tasks.base import task_rng
from agentgym.tasks.puzzles.sat import SatGenerator
from agentgym.tasks.registry import generator_class, list_generators, make_generator
from agentgym.tasks.splits import HELDOUT_FRACTION, generate_split, hash_position, split_of


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), n=st.integers(1, 30), split=st.sampled_from(["train", "heldout"]))
def test_generate_split_only_emits_its_split(seed, n, split):
    tasks = list(generate_split(SatGenerator(n_vars=5), seed, n, split))
    assert len(tasks) == n
    assert all(split_of(t) == split for t in tasks)
    indices = [t.meta["index"] for t in tasks]
    assert indices == sorted(indices)


@settings(max_examples=200, deadline=None)
@given(task_id=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_split_is_a_pure_function_of_the_hash(task_id):
    expected = "heldout" if int(task_id[:16], 16) < HELDOUT_FRACTION * 2**64 else "train"
    assert split_of(task_id) == expected
    assert 0.0 <= hash_position(task_id) < 1.0


def test_no_training_task_equals_a_heldout_one():
    gen = SatGenerator(n_vars=3, n_clauses=3)  # a small space, so ids repeat across streams
    heldout = {t.id for t in generate_split(gen, 0, 40, "heldout")}
    for seed in range(20):
        assert not heldout & {t.id for t in generate_split(gen, seed, 30, "train")}


def test_heldout_fraction_is_about_right():
    tasks = [SatGenerator(n_vars=8).generate(1, i) for i in range(3000)]
    share = sum(split_of(t) == "heldout" for t in tasks) / len(tasks)
    assert abs(share - HELDOUT_FRACTION) < 0.03


def test_tiny_task_spaces_fail_clearly():
    gen = SatGenerator(n_vars=1, k=1, n_clauses=1)  # two possible tasks in all
    with pytest.raises(TaskError, match="too small"):
        list(generate_split(gen, 0, 50, "heldout", max_draws=200))


def test_items_are_independent_of_how_many_were_made_before():
    gen = SatGenerator(n_vars=9)
    batch = [gen.generate(5, i) for i in range(10)]
    assert gen.generate(5, 7) == batch[7]
    with pytest.raises(TaskError):
        task_rng(-1, 0)


def test_generator_registry():
    assert "puzzles/sat" in list_generators() and list_generators("puzzles")
    assert generator_class("puzzles/sat") is SatGenerator
    assert make_generator("puzzles/sat", n_vars=4).config.n_vars == 4
    with pytest.raises(UnknownIdError, match="did you mean 'puzzles/sat'"):
        generator_class("puzzles/sta")
    with pytest.raises(ValueError, match="n_varz"):
        make_generator("puzzles/sat", n_varz=4)


def test_env_reset_never_poses_heldout_tasks_and_can_pose_heldout_ones_on_request():
    train_env = agentgym.make("puzzles/sat-v0", difficulty={"n_vars": 5})
    heldout_env = agentgym.make("puzzles/sat-v0", difficulty={"n_vars": 5}, split="heldout")
    for seed in range(60):
        assert train_env.reset(seed=seed)[1]["split"] == "train"
        assert heldout_env.reset(seed=seed)[1]["split"] == "heldout"

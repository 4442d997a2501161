"""``pose_task``: the given task (checked) or one drawn in the env's split, shared by the task envs."""

import numpy as np
import pytest

from agentgym.core.errors import EnvError
from agentgym.core.task import Task
from agentgym.tasks.puzzles.sat import SatGenerator
from agentgym.tasks.splits import draw_in_split, draw_task, given_task, pose_task, split_of


def test_a_drawn_task_is_the_split_draw_of_the_same_rng_state():
    gen = SatGenerator(n_vars=5)
    for split in ("train", "heldout", "all"):
        for seed in range(5):
            posed = pose_task({}, gen, np.random.default_rng(seed), split)
            assert posed == draw_in_split(gen, np.random.default_rng(seed), split)
            assert split == "all" or split_of(posed) == split


def test_a_given_task_is_returned_without_drawing():
    gen = SatGenerator(n_vars=5)
    task = gen.generate(3, 1)
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert pose_task({"task": task}, gen, rng, "heldout") is task  # a given task ignores the split
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("bad", ["a string", {"spec": {}}, Task("puzzles", {"generator": "puzzles/sudoku"})])
def test_a_wrong_task_is_refused_by_name(bad):
    with pytest.raises(EnvError, match=r"options\['task'\] must be a Task of puzzles/sat"):
        pose_task({"task": bad}, SatGenerator(), np.random.default_rng(0), "train")


def test_a_custom_check_and_message():
    def has_question(task):
        return "question" in task.spec

    good = Task("search", {"question": "Who?"}, ["x"])
    assert given_task({"task": good}, accepts=has_question, expected="a question") is good
    assert given_task({}, accepts=has_question, expected="a question") is None
    with pytest.raises(EnvError, match=r"must be a question$"):
        given_task({"task": Task("search", {"topic": "t"})}, accepts=has_question, expected="a question")


def test_a_split_that_cannot_be_filled_fails_clearly():
    class OnlyOne:
        id = "test/only-one"

        def generate(self, seed, index):
            return Task("test", {"generator": self.id, "n": 1})

    wanted = "heldout" if split_of(OnlyOne().generate(0, 0)) == "train" else "train"
    with pytest.raises(EnvError, match=f"no {wanted} task in 50 draws of test/only-one"):
        draw_task(OnlyOne(), np.random.default_rng(0), wanted, max_draws=50)

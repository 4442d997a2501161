import itertools
import json

import numpy as np
import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.registry import unwrap
from agentgym.tasks.puzzles.nqueens import (
    NQueensConfig,
    NQueensGenerator,
    all_solutions,
    complete,
    parse_board,
)
from agentgym.tasks.registry import make_generator

GEN_ID = "puzzles/nqueens"
ENV_ID = "puzzles/nqueens-v0"


SOLUTION4 = ["_Q__", "___Q", "Q___", "__Q_"]
BOARD4 = ["_Q__", "____", "____", "__Q_"]


def task4():
    spec = {"generator": GEN_ID, "n": 4, "board": BOARD4, "n_removed": 2, "completions": 1}
    return Task(family="puzzles", spec=spec, answer=SOLUTION4)


def answer(rows, sep=" "):
    return "<answer>\n" + "\n".join(sep.join(r) for r in rows) + "\n</answer>"


def safe(cols):
    """Independent check: queens (row r, column cols[r]) pairwise non-attacking."""
    return all(
        cols[a] != cols[b] and abs(cols[a] - cols[b]) != b - a
        for a, b in itertools.combinations(range(len(cols)), 2)
    )


# ----- generation ------------------------------------------------------------------------------
def test_same_seed_and_index_give_the_same_task():
    gen = NQueensGenerator(n=8, n_removed=5)
    assert gen.generate(3, 4) == gen.generate(3, 4)
    assert len({gen.generate(3, 4).id, gen.generate(3, 5).id, gen.generate(4, 4).id}) == 3


def test_generation_is_stable_across_machines():
    task = NQueensGenerator().generate(0, 0)
    assert task.id == "7d4629d58b5b52b2ecb364ca1f1d3ec2051f95275570eaedb5512c6220387800"
    json.dumps(task.to_dict())


def test_all_solutions_are_every_n_queens_solution():
    counts = [len(all_solutions(n)) for n in range(4, 13)]
    assert counts == [2, 10, 4, 40, 92, 352, 724, 2680, 14200]  # OEIS A000170
    assert all(safe(list(s)) for s in all_solutions(6))
    brute = [p for p in itertools.permutations(range(6)) if safe(p)]
    assert sorted(map(tuple, all_solutions(6).tolist())) == brute


@pytest.mark.parametrize(
    ("n", "n_removed"), [(4, 1), (4, 4), (5, 3), (6, 2), (7, 5), (8, 4), (8, 8), (10, 7), (12, 10)]
)
def test_tasks_are_completable_and_scored_right(n, n_removed):
    gen = NQueensGenerator(n=n, n_removed=n_removed)
    for index in range(15):
        task = gen.generate(9, index)
        board, full = task.spec["board"], task.answer
        assert len(board) == n and all(len(row) == n for row in board)
        assert (
            sum(row.count("Q") for row in board) == n - n_removed == task.spec["n"] - task.spec["n_removed"]
        )
        cols = [row.index("Q") for row in full]
        assert safe(cols) and all("Q" not in b or b == f for b, f in zip(board, full, strict=True))
        assert task.spec["completions"] == len(complete(board, limit=10**6)) >= 1
        rng = np.random.default_rng(index)
        assert gen.verify(task, gen.reference_response(task)).score == 1.0
        assert gen.verify(task, gen.oracle_response(task)).score == 1.0
        corrupt = gen.verify(task, gen.corrupt_response(task, rng))
        assert corrupt.score < 1.0 and "format_error" not in corrupt.details
        assert "format_error" not in gen.verify(task, gen.random_response(task, rng)).details


def test_the_drawn_solutions_cover_the_solution_space():
    gen = NQueensGenerator(n=6, n_removed=6)  # an empty board: every solution completes it
    tasks = [gen.generate(0, i) for i in range(60)]
    assert {t.spec["completions"] for t in tasks} == {4}
    assert len({tuple(t.answer) for t in tasks}) == 4


@pytest.mark.parametrize("level", range(NQueensGenerator.n_levels()))
def test_every_difficulty_level_generates_valid_tasks(level):
    gen = NQueensGenerator.at_level(level)
    for index in range(3):
        task = gen.generate(1, index)
        assert task.difficulty == {"n": gen.config.n, "n_removed": gen.config.n_removed}
        assert gen.verify(task, gen.oracle_response(task)).passed


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"n": 3}, "n"),
        ({"n": 13}, "n"),
        ({"n": 8.0}, "n"),
        ({"n_removed": 0}, "n_removed"),
        ({"n": 5, "n_removed": 6}, "n_removed"),
        ({"n_removed": True}, "n_removed"),
        ({"size": 8}, "size"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        NQueensConfig.from_overrides(overrides)
    with pytest.raises(TaskError, match=field):
        make_generator(GEN_ID, **overrides)


# ----- answers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        answer(SOLUTION4),
        answer(SOLUTION4, sep=""),
        answer([r.replace("_", ".") for r in SOLUTION4]),
        "<answer>\n\n_ q _ _\n_ _ _ Q\nQ _ _ _\n_ _ Q _\n\n</answer>",
        "<answer>[_,Q,_,_]\n[_,_,_,Q]\n[Q,_,_,_]\n[_,_,Q,_]</answer>",
        "draft <answer>QQQQ</answer> then <ANSWER>_Q__\n___Q\nQ___\n__Q_</ANSWER>",
    ],
)
def test_answer_formats_that_pass(text):
    verdict = NQueensGenerator(n=4).verify(task4(), text)
    assert verdict.passed and verdict.score == 1.0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("_Q__\n___Q\nQ___\n__Q_", "no <answer>"),
        ("<answer>_Q__\n___Q\nQ___\n__Q_", "no <answer>"),
        ("<answer>_Q__\n___Q\nQ___</answer>", "expected 4 rows, got 3"),
        ("<answer>_Q__\n___Q_\nQ___\n__Q_</answer>", "row 2 has 5 squares"),
        ("<answer>_Q__\n___K\nQ___\n__Q_</answer>", "'K' is not a square"),
        ("<answer>" + "_" * 200_000 + "</answer>", "longer than"),
    ],
)
def test_answer_formats_that_are_unreadable(text, match):
    verdict = NQueensGenerator(n=4).verify(task4(), text)
    assert verdict.score == 0.0 and match in verdict.details["format_error"]
    with pytest.raises(TaskError, match=match):
        parse_board(text, 4)


@pytest.mark.parametrize(
    ("rows", "feedback"),
    [
        (["__Q_", "Q___", "___Q", "_Q__"], "given queen at row 1, column 2 is gone"),  # the other solution
        (["_Q__", "____", "Q___", "__Q_"], "3 queens, expected 4"),
        (["_Q__", "___Q", "QQ__", "__Q_"], "5 queens, expected 4"),
        (["_Q__", "Q___", "___Q", "__Q_"], "pair(s) of queens attack"),
    ],
)
def test_readable_wrong_answers_score_zero_with_feedback(rows, feedback):
    verdict = NQueensGenerator(n=4).verify(task4(), answer(rows))
    assert verdict.score == 0.0 and not verdict.passed and "format_error" not in verdict.details
    assert feedback in verdict.details["feedback"]


def test_prompt_shows_the_board():
    task = NQueensGenerator(n=6, n_removed=3).generate(2, 2)
    text = NQueensGenerator().prompt(task)
    assert "6x6" in text and "place 3 more" in text
    assert "\n".join(" ".join(row) for row in task.spec["board"]) in text


# ----- the env ---------------------------------------------------------------------------------
def test_check_env_passes():
    check_env(ENV_ID)


def test_env_oracle_solves_and_corrupt_fails():
    env = agentgym.make(ENV_ID, difficulty={"n": 10, "n_removed": 6})
    gen = unwrap(env).generator
    rng = np.random.default_rng(0)
    for seed in range(10):
        env.reset(seed=seed)
        assert env.step(unwrap(env).oracle_action())[1] == 1.0
        env.reset(seed=seed)
        assert env.step(gen.corrupt_response(unwrap(env).task, rng))[1] == 0.0

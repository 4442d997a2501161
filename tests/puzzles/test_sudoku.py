import json

import numpy as np
import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.errors import TaskError
from agentgym.registry import unwrap
from agentgym.tasks.puzzles.sudoku import (
    BOXES,
    SudokuConfig,
    SudokuGenerator,
    geometry,
    parse_grid,
    solve,
    solved_by_singles,
)
from agentgym.tasks.registry import make_generator

GEN_ID = "puzzles/sudoku"
ENV_ID = "puzzles/sudoku-v0"


GRID4 = ["1234", "3412", "2143", "4321"]
PUZZLE4 = ["1...", "...2", "..4.", ".3.."]


def grid_of(rows):
    return [0 if ch == "." else int(ch) for ch in "".join(rows)]


def brute_count(grid, n, limit=2):
    """An independent solution counter: plain backtracking over cells in order, checking peers."""
    geo = geometry(n)
    g = list(grid)
    found = 0

    def rec(i):
        nonlocal found
        while i < n * n and g[i]:
            i += 1
        if i == n * n:
            found += 1
            return found >= limit
        for v in range(1, n + 1):
            if all(g[p] != v for p in geo.peers[i]):
                g[i] = v
                if rec(i + 1):
                    return True
                g[i] = 0
        return False

    rec(0)
    return found


def singles_only(grid, n):
    """An independent naked + hidden singles solver (slow and plain): True if it fills the grid."""
    geo = geometry(n)
    g = list(grid)
    changed = True
    while changed:
        changed = False
        cands = {
            i: {v for v in range(1, n + 1) if all(g[p] != v for p in geo.peers[i])}
            for i in range(n * n)
            if not g[i]
        }
        for i, vs in cands.items():
            if len(vs) == 1:
                g[i] = vs.pop()
                changed = True
                break
        if changed:
            continue
        for unit in geo.units:
            for v in range(1, n + 1):
                spots = [i for i in unit if i in cands and v in cands[i]]
                if len(spots) == 1 and v not in {g[i] for i in unit}:
                    g[spots[0]] = v
                    changed = True
                    break
            if changed:
                break
    return all(g)


def answer(rows, sep=" "):
    return "<answer>\n" + "\n".join(sep.join(r) for r in rows) + "\n</answer>"


def task4():
    from agentgym.core.task import Task

    spec = {"generator": GEN_ID, "size": 4, "box": [2, 2], "puzzle": PUZZLE4, "givens": 4, "needs": "singles"}
    return Task(family="puzzles", spec=spec, answer=GRID4)


# ----- generation ------------------------------------------------------------------------------
def test_same_seed_and_index_give_the_same_task():
    gen = SudokuGenerator(size=6, givens=12)
    assert gen.generate(3, 4) == gen.generate(3, 4)
    assert len({gen.generate(3, 4).id, gen.generate(3, 5).id, gen.generate(4, 4).id}) == 3


def test_generation_is_stable_across_machines():
    task = SudokuGenerator().generate(0, 0)
    assert task.id == "fc8ad382ce587f73d3e2fc6a7805991268f699070a192752aad0d3c17c3272ce"
    json.dumps(task.to_dict())


CONFIGS = [
    (4, 4, "any"),
    (4, 6, "singles"),
    (6, 8, "any"),
    (6, 12, "singles"),
    (9, 30, "any"),
    (9, 24, "singles"),
]


@pytest.mark.parametrize(("size", "givens", "technique"), CONFIGS)
def test_puzzles_are_unique_consistent_and_scored_right(size, givens, technique):
    gen = SudokuGenerator(size=size, givens=givens, technique=technique)
    for index in range(25 if size < 9 else 8):
        task = gen.generate(11, index)
        puzzle, solution = grid_of(task.spec["puzzle"]), grid_of(task.answer)
        assert 0 not in solution and all(p in (0, s) for p, s in zip(puzzle, solution, strict=True))
        assert task.spec["givens"] == sum(1 for v in puzzle if v) >= givens
        assert task.spec["box"] == list(BOXES[size])
        assert solve(puzzle, size) == [solution]  # unique, and the stored answer
        if size < 9:
            assert brute_count(puzzle, size) == 1
        assert (task.spec["needs"] == "singles") == singles_only(puzzle, size)
        if technique == "singles":
            assert task.spec["needs"] == "singles"
        rng = np.random.default_rng(index)
        assert gen.verify(task, gen.reference_response(task)).score == 1.0
        assert gen.verify(task, gen.oracle_response(task)).score == 1.0
        corrupt = gen.verify(task, gen.corrupt_response(task, rng))
        assert corrupt.score < 1.0 and "format_error" not in corrupt.details
        assert gen.verify(task, gen.random_response(task, rng)).score < 1.0


def test_the_target_is_reached_when_possible_and_the_puzzle_is_minimal_otherwise():
    reached = [SudokuGenerator(size=9, givens=32).generate(5, i).spec["givens"] for i in range(5)]
    assert reached == [32] * 5
    checked = 0
    for technique, index in [(t, i) for t in ("any", "singles") for i in range(4)]:
        task = SudokuGenerator(size=6, givens=8, technique=technique).generate(2, index)
        puzzle = grid_of(task.spec["puzzle"])
        if task.spec["givens"] == 8:
            continue
        checked += 1
        for cell in (i for i, v in enumerate(puzzle) if v):  # no clue can go any more
            fewer = [*puzzle[:cell], 0, *puzzle[cell + 1 :]]
            assert (brute_count(fewer, 6) == 2) if technique == "any" else not singles_only(fewer, 6)
    assert checked >= 4  # 8 clues are rarely reachable on 6x6, so most of these stop early


@pytest.mark.parametrize("level", range(SudokuGenerator.n_levels()))
def test_every_difficulty_level_generates_valid_tasks(level):
    gen = SudokuGenerator.at_level(level)
    for index in range(2):
        task = gen.generate(1, index)
        assert task.spec["size"] == gen.config.size and task.difficulty["size"] == gen.config.size
        assert gen.verify(task, gen.reference_response(task)).passed


def test_solver_handles_unsolvable_and_clashing_grids():
    assert solve(grid_of(["11..", "....", "....", "...."]), 4) == []
    assert solve(grid_of(["12..", "..3.", "....", "...."]), 4) == []  # row 1 has no room for its 3
    assert len(solve(grid_of(["12..", "3...", "....", "...."]), 4, limit=5)) == 5
    assert len(solve([0] * 16, 4, limit=1000)) == 288  # every 4x4 Sudoku
    assert not solved_by_singles([0] * 16, 4) and solved_by_singles(grid_of(PUZZLE4), 4)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"size": 5}, "size"),
        ({"size": True}, "size"),
        ({"size": 4, "givens": 3}, "givens"),
        ({"size": 9, "givens": 81}, "givens"),
        ({"givens": 30.0}, "givens"),
        ({"technique": "xwing"}, "technique"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        SudokuConfig.from_overrides(overrides)
    with pytest.raises(TaskError, match=field):
        make_generator(GEN_ID, **overrides)


# ----- answers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        answer(GRID4),
        answer(GRID4, sep=""),
        answer(GRID4, sep=", "),
        "<answer>[[1,2,3,4],[3,4,1,2],[2,1,4,3],[4,3,2,1]]</answer>",
        "<answer>1234341221434321</answer>",
        "<answer>\n1 2 | 3 4\n3 4 | 1 2\n----+----\n2 1 | 4 3\n4 3 | 2 1\n</answer>",
        "draft <answer>1 1 1 1</answer> final <ANSWER>\n1234\n3412\n2143\n4321</ANSWER>",
    ],
)
def test_answer_formats_that_pass(text):
    verdict = SudokuGenerator(size=4).verify(task4(), text)
    assert verdict.score == 1.0 and verdict.passed


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1234\n3412\n2143\n4321", "no <answer>"),
        ("<answer>1234\n3412\n2143\n4321", "no <answer>"),
        ("<answer>1234\n3412\n2143</answer>", "12 cells"),
        ("<answer>1234\n34125\n214\n4321</answer>", "row 2 has 5 cells"),
        ("<answer>1234\n3412\n21a3\n4321</answer>", "'a' is not a digit"),
        ("<answer>" + "1" * 200_000 + "</answer>", "longer than"),
    ],
)
def test_answer_formats_that_are_unreadable(text, match):
    verdict = SudokuGenerator(size=4).verify(task4(), text)
    assert verdict.score == 0.0 and match in verdict.details["format_error"]
    with pytest.raises(TaskError, match=match):
        parse_grid(text, 4)


@pytest.mark.parametrize(
    ("rows", "feedback"),
    [
        (["1234", "3412", "2143", "432."], "row 4 does not"),  # a blank left
        (["2143", "4321", "1234", "3412"], "the given 1 at row 1, column 1"),  # a valid grid, givens changed
        (["1234", "3412", "2143", "4312"], "column 3 does not"),  # swapped in a row: columns clash
        (["1234", "3412", "2143", "4329"], "row 4 does not"),  # a digit out of range
    ],
)
def test_readable_wrong_answers_score_zero_with_feedback(rows, feedback):
    verdict = SudokuGenerator(size=4).verify(task4(), answer(rows))
    assert verdict.score == 0.0 and not verdict.passed and "format_error" not in verdict.details
    assert feedback in verdict.details["feedback"]


def test_prompt_shows_the_grid_with_boxes():
    task = SudokuGenerator(size=6, givens=20).generate(0, 3)
    text = SudokuGenerator(size=6).prompt(task)
    assert "6x6" in text and "2 rows by 3 columns" in text
    first = " | ".join(" ".join(task.spec["puzzle"][0][i : i + 3]) for i in (0, 3))
    assert first in text and "------+------" in text


# ----- the env ---------------------------------------------------------------------------------
def test_check_env_passes():
    check_env(ENV_ID)


def test_env_oracle_solves_and_random_fails():
    env = agentgym.make(ENV_ID, difficulty={"size": 6, "givens": 14})
    rng = np.random.default_rng(0)
    oracle, rand = [], []
    for seed in range(10):
        env.reset(seed=seed)
        oracle.append(env.step(unwrap(env).oracle_action())[1])
        env.reset(seed=seed)
        rand.append(env.step(unwrap(env).sample_action(rng))[1])
    assert oracle == [1.0] * 10 and max(rand) == 0.0

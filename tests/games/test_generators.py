"""The built-in game generators: oracle consistency at every level, configs, Sokoban solvability."""

import dataclasses

import numpy as np
import pytest

from agentgym.tasks.games.frozenlake import FrozenLakeGenerator
from agentgym.tasks.games.frozenlake_rules import shortest_path
from agentgym.tasks.games.minesweeper import MinesweeperGenerator
from agentgym.tasks.games.minesweeper_rules import counts
from agentgym.tasks.games.question_games import GuessMyCityGenerator, TwentyQuestionsGenerator
from agentgym.tasks.games.sokoban import SokobanGenerator
from agentgym.tasks.games.sokoban_rules import solve, state_from_spec
from agentgym.tasks.games.wordle import WordleGenerator
from agentgym.tasks.games.wordle_rules import feedback
from agentgym.tasks.games.wordlist import WORDS

GENERATORS = [
    SokobanGenerator,
    MinesweeperGenerator,
    FrozenLakeGenerator,
    WordleGenerator,
    TwentyQuestionsGenerator,
    GuessMyCityGenerator,
]


@pytest.mark.parametrize("cls", GENERATORS, ids=lambda c: c.id)
def test_reference_passes_and_corruption_fails_at_every_level(cls):
    rng = np.random.default_rng(0)
    for level in range(cls.n_levels()):
        gen = cls.at_level(level)
        for seed in range(5):
            task = gen.generate(seed, level)
            assert gen.verify(task, gen.reference_response(task)).passed
            assert not gen.verify(task, gen.corrupt_response(task, rng)).passed
            assert gen.verify(task, "no answer").details.get("format_error")
            assert task.family == "games" and isinstance(gen.prompt(task), str)


@pytest.mark.parametrize("cls", GENERATORS, ids=lambda c: c.id)
def test_bad_configs_raise_naming_the_field_and_tasks_are_reproducible(cls):
    for field in dataclasses.fields(cls.config_cls):
        with pytest.raises(ValueError, match=field.name):
            cls(**{field.name: object()})
    with pytest.raises(ValueError, match="no_such_knob"):
        cls(no_such_knob=1)
    assert cls().generate(3, 1) == cls().generate(3, 1)


def test_sokoban_levels_are_solvable_by_construction_and_grow_with_the_level():
    sizes = []
    for level in range(SokobanGenerator.n_levels()):
        gen = SokobanGenerator.at_level(level)
        for seed in range(8):
            task = gen.generate(seed, 0)
            state = state_from_spec(task.spec)
            assert not state.solved and len(state.boxes) == gen.config.boxes
            assert gen.verify(task, f"<answer>{task.answer}</answer>").passed  # the construction's solution
            if level <= 2:
                assert solve(state) is not None  # and an independent search agrees
        sizes.append((gen.config.size, gen.config.boxes))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_minesweeper_opening_is_safe_and_frozenlake_has_a_path():
    for seed in range(20):
        task = MinesweeperGenerator().generate(seed, 0)
        mines = {tuple(m) for m in task.answer}
        start = tuple(task.spec["start"])
        assert start not in mines
        assert counts(frozenset(mines), task.spec["rows"], task.spec["cols"])[start[0]][start[1]] == 0
        lake = FrozenLakeGenerator.at_level(4).generate(seed, 0)
        assert shortest_path(lake.spec["grid"], (0, 0)) is not None


def test_wordle_feedback_handles_repeated_letters_like_wordle():
    assert feedback("crane", "crane") == "GGGGG"
    assert feedback("allee", "apple") == "GY--G"  # one "l" and one "e" unmatched in the secret: one mark each
    assert feedback("speed", "abide") == "--Y-Y"
    assert len(WORDS) > 5000 and all(len(w) == 5 and w.isalpha() for w in WORDS)


@pytest.mark.parametrize("cls", GENERATORS, ids=lambda c: c.id)
def test_tasks_with_different_secrets_have_different_ids(cls):
    gen = cls()
    tasks = [gen.generate(seed, 0) for seed in range(20)]
    by_id = {}
    for task in tasks:
        assert by_id.setdefault(task.id, task.answer) == task.answer  # one id, one secret
    assert len(by_id) >= 10

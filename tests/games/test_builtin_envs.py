"""Built-in games: rules, oracle win rates (the documented ones), the question answerer."""

import numpy as np
import pytest

import agentgym
from agentgym.environments.games.frozenlake import FrozenLakeEnv
from agentgym.environments.games.minesweeper import MinesweeperEnv
from agentgym.environments.games.questions import GuessMyCityEnv, TwentyQuestionsEnv
from agentgym.environments.games.sokoban import SokobanEnv
from agentgym.environments.games.wordle import WordleEnv
from agentgym.registry import registry
from agentgym.tasks.games.questions import (
    DOMAINS,
    MAX_QUESTION_CHARS,
    canonical_questions,
    holds,
    names,
    parse,
)


def oracle_win_rate(make, episodes, max_steps=2000):
    wins = 0
    for seed in range(episodes):
        env = make()
        env.reset(seed=seed)
        for _ in range(max_steps):
            *_, terminated, truncated, _info = env.step(env.oracle_action())
            if terminated or truncated:
                break
        wins += env.verdict().passed
    return wins / episodes


# The rates documented in the README (measured here on seeds 0..N-1; the tests assert a floor).
@pytest.mark.parametrize(
    "make,episodes,floor",
    [
        (lambda: SokobanEnv(level=3), 30, 1.0),
        (lambda: FrozenLakeEnv(level=4), 30, 1.0),
        (lambda: FrozenLakeEnv(level=1, slippery=True), 40, 0.6),
        (lambda: MinesweeperEnv(level=2), 40, 0.8),
        (lambda: WordleEnv(level=1), 30, 0.95),
        (lambda: TwentyQuestionsEnv(level=4), 40, 1.0),
        (lambda: GuessMyCityEnv(level=4), 40, 1.0),
    ],
    ids=["sokoban", "frozenlake", "frozenlake-slippery", "minesweeper", "wordle", "20q", "city"],
)
def test_oracles_win_at_their_documented_rates(make, episodes, floor):
    assert oracle_win_rate(make, episodes) >= floor


def test_random_play_rarely_wins_the_same_games():
    env = MinesweeperEnv(level=2)
    rng = np.random.default_rng(0)
    wins = 0
    for seed in range(20):
        env.reset(seed=seed)
        while True:
            *_, terminated, truncated, _ = env.step(env.sample_action(rng))
            if terminated or truncated:
                break
        wins += env.verdict().passed
    assert wins <= 2


def test_sokoban_rules_walls_pushes_and_bad_replies():
    env = SokobanEnv()
    obs, _ = env.reset(seed=1)
    assert "Sokoban" in obs[0].text and "P" in obs[1].text
    obs, _, terminated, _, info = env.step("I will think about it")
    assert "Invalid move" in obs[0].text and info["action_error"] and not terminated
    for move in ("[up]", "w", "Move: [left]"):
        _, _, _, _, info = env.step(move)
        assert info["event"] in ("moved", "pushed", "wall", "blocked")


def test_minesweeper_rejects_bad_cells_and_a_mine_ends_the_game():
    env = MinesweeperEnv()
    env.reset(seed=0)
    assert "off the" in env.step("[99 99]")[0][0].text
    revealed = next(iter(env.revealed))
    assert "already revealed" in env.step(f"[{revealed[0]} {revealed[1]}]")[0][0].text
    mine = next(iter(env.mines))
    obs, reward, terminated, _, _ = env.step(f"[{mine[0]} {mine[1]}]")
    assert terminated and reward == 0.0 and "Boom" in obs[0].text and not env.verdict().passed


def test_slippery_frozenlake_is_reproducible_per_seed():
    def run(seed):
        env = FrozenLakeEnv(level=2, slippery=True)
        env.reset(seed=seed)
        return [env.step("[right]")[0][0].text for _ in range(3) if not env.over]

    assert run(4) == run(4)


def test_wordle_invalid_words_do_not_use_a_guess():
    env = WordleEnv()
    env.reset(seed=0)
    obs, *_ = env.step("[zzzzz]")
    assert "not a 5-letter word" in obs[0].text and env.moves == 0
    obs, *_ = env.step("[about]")
    assert "ABOUT" in obs[0].text and "5 guesses left" in obs[0].text


def test_answerer_parses_questions_and_caps_their_size():
    env = TwentyQuestionsEnv()
    env.reset(seed=0)
    secret = env.task.answer
    obs, *_ = env.step("Is it an animal?")
    assert obs[0].text.startswith("Yes" if holds("objects", "cat:animal", secret) else "No")
    assert env.step("What colour is it?")[0][0].text.startswith("I don't know")
    assert "without a negation" in env.step("Is it not alive?")[0][0].text
    assert parse("objects", "x" * 1_000_000 + " animal") == ("unknown", [])  # only the first chars are read
    assert MAX_QUESTION_CHARS < 1000
    obs, reward, terminated, *_ = env.step(f"Is it a {secret}?")
    assert terminated and reward == 1.0


def test_city_questions_with_numbers_and_countries():
    assert parse("cities", "Does it have more than 5 million people?") == ("conditions", ["pop>5"])
    assert parse("cities", "Is the population under 2,000,000?") == ("conditions", ["pop<2"])
    assert parse("cities", "Is it a European capital?") == ("conditions", ["continent:europe", "capital"])
    assert parse("cities", "Is it in North America?") == ("conditions", ["continent:north america"])
    assert parse("cities", "Is the city New York?") == ("guess", ["new york"])
    env = GuessMyCityEnv()
    env.reset(seed=2)
    obs, *_ = env.step("Is it in Europe?")
    expected = holds("cities", "continent:europe", env.task.answer)
    assert obs[0].text.startswith("Yes" if expected else "No")


@pytest.mark.parametrize("domain", DOMAINS)
def test_tables_are_distinguishable_and_oracle_questions_parse_back(domain):
    questions = canonical_questions(domain)
    for key, question in questions.items():
        assert parse(domain, question) == ("conditions", [key]), question
    entries = names(domain)
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            assert any(holds(domain, k, a) != holds(domain, k, b) for k in questions), (a, b)


def test_builtin_ids_are_registered_and_take_difficulty():
    ids = registry.ids("games")
    for name in ("sokoban", "minesweeper", "frozenlake", "wordle", "twenty-questions", "guess-my-city"):
        assert f"games/{name}-v0" in ids
    env = agentgym.make("games/sokoban-v0", difficulty={"size": 8, "boxes": 3})
    env.reset(seed=0)
    assert len(env.unwrapped.state.boxes) == 3
    held = agentgym.make("games/wordle-v0", split="heldout")
    held.reset(seed=0)
    from agentgym.tasks.splits import split_of

    assert split_of(held.unwrapped.task) == "heldout"


def test_the_runner_plays_games_with_scripted_agents():
    from agentgym.agents import make_agent
    from agentgym.rollout import RolloutConfig, run_rollouts

    config = RolloutConfig(episodes=3, concurrency=3, progress=False)
    solved = run_rollouts("games/sokoban-v0", make_agent("oracle"), config)
    assert all(t.status == "ok" and t.verdict.passed for t in solved.trajectories)
    pytest.importorskip("textarena")
    played = run_rollouts("games/ta-ConnectFour-v0", make_agent("random"), config)
    assert all(t.status in ("ok", "truncated") and t.turns for t in played.trajectories)

"""The TextArena adapter: registration, seats and rewards, TextArena's invalid moves, isolation, opponents."""

import random
import threading

import numpy as np
import pytest

pytest.importorskip("textarena")

import agentgym
from agentgym.core.wrappers import Opponents
from agentgym.environments.games.ta_catalog import GAMES
from agentgym.environments.games.ta_env import MAX_INVALID_STREAK, TextArenaEnv
from agentgym.environments.games.ta_registry import available_games, env_id, unavailable_games
from agentgym.registry import registry, unwrap


def test_at_least_forty_games_are_registered_and_every_other_one_has_a_reason():
    ids = [i for i in registry.ids("games") if i.startswith("games/ta-")]
    assert len(ids) >= 40
    assert {env_id(g) for g in available_games()} == set(ids)
    missing = unavailable_games()
    assert set(missing) | set(available_games()) == set(GAMES)
    assert all(reason.strip() for reason in missing.values())
    assert "SyntaxError" in missing["Chess-v0"]  # TextArena's chess needs Python 3.12 f-strings
    assert "API key" in missing["Debate-v0"]
    assert "words" in missing["Wordle-v0"]  # an nltk download


def _play(env, seed, moves=None, steps=60):
    """Transcript of an episode (sampled moves when ``moves`` is None) and the moves played."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    trace, played = [[m.text for m in obs]], []
    for i in range(steps):
        action = moves[i] if moves is not None else env.sample_action(rng)
        played.append(action)
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append(([m.text for m in obs], reward, info.get("player"), info.get("rewards")))
        if terminated or truncated or (moves is not None and i + 1 == len(moves)):
            break
    return trace, played


def test_two_player_game_alternates_seats_and_reports_per_player_rewards():
    env = TextArenaEnv("TicTacToe-v0", num_players=2)
    obs, info = env.reset(seed=0)
    assert info["player"] == 0 and "Tic Tac Toe" in obs[1].text
    seats = []
    for cell in (4, 0, 1, 2, 7):  # player 0 takes the middle column
        obs, reward, terminated, _, info = env.step(f"[{cell}]")
        seats.append(info["player"])
    assert seats == [1, 0, 1, 0, 0] and terminated
    assert info["rewards"] == {0: 1.0, 1: -1.0} and reward == 1.0
    assert env.verdict().passed and "Game over" in obs[0].text


def test_invalid_moves_follow_textarenas_allowance():
    env = TextArenaEnv("TicTacToe-v0", num_players=2)
    env.reset(seed=0)
    obs, _, terminated, _, info = env.step("[4]")
    obs, _, terminated, _, info = env.step("[4]")  # occupied: a warning, the same seat moves again
    assert not terminated and info["player"] == 1 and info["invalid_move"]
    assert "invalid move" in obs[0].text.lower()
    obs, reward, terminated, _, info = env.step("[4]")  # past the allowance: player 1 loses
    assert terminated and info["rewards"] == {0: 1.0, 1: -1.0} and reward == -1.0


def test_a_seat_stuck_on_invalid_moves_loses_instead_of_looping():
    env = TextArenaEnv("SantoriniBaseFixed-v0", num_players=2)  # retries are unlimited there
    env.reset(seed=0)
    terminated, steps = False, 0
    while not terminated:
        _, _, terminated, _, info = env.step("[nonsense]")
        steps += 1
        assert steps <= MAX_INVALID_STREAK + 1
    assert info["rewards"][0] == -1.0


def test_seeds_reproduce_episodes_and_differ_between_seeds():
    a, moves = _play(TextArenaEnv("2048-v0"), seed=5)
    b, _ = _play(TextArenaEnv("2048-v0"), seed=5, moves=moves)
    c, _ = _play(TextArenaEnv("2048-v0"), seed=6, moves=moves)
    assert a == b and a != c


def test_textarena_never_touches_the_global_random_state():
    random.seed(123)  # noqa: TID251  (the point: TextArena must leave the global generator alone)
    before = random.getstate()
    _play(TextArenaEnv("LiarsDice-v0", num_players=2), seed=1)
    assert random.getstate() == before


@pytest.mark.parametrize("game,players", [("2048-v0", 1), ("LiarsDice-v0", 2), ("Poker-v0", 2)])
def test_interleaved_and_threaded_episodes_equal_isolated_runs(game, players):
    solo = {s: _play(TextArenaEnv(game, num_players=players), seed=s) for s in (1, 2)}
    # interleaved in one thread: one step of each episode in turn
    envs = {s: TextArenaEnv(game, num_players=players) for s in (1, 2)}
    traces = {s: [[m.text for m in envs[s].reset(seed=s)[0]]] for s in envs}
    for i in range(max(len(m) for _, m in solo.values())):
        for s, env in envs.items():
            moves = solo[s][1]
            if i < len(moves):
                obs, reward, *_, info = env.step(moves[i])
                traces[s].append(([m.text for m in obs], reward, info.get("player"), info.get("rewards")))
    assert traces == {s: t for s, (t, _) in solo.items()}
    # two threads stepping at once, while the main thread reseeds the global generators
    results = {}

    def worker(s):
        results[s] = _play(TextArenaEnv(game, num_players=players), seed=s, moves=solo[s][1])[0]

    threads = [threading.Thread(target=worker, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for k in range(200):
        random.seed(k)  # noqa: TID251  (other code reseeding the globals must not reach the episodes)
        np.random.seed(k)
    for t in threads:
        t.join()
    assert results == {s: t for s, (t, _) in solo.items()}


def test_registered_multiplayer_ids_play_against_a_random_opponent_by_default():
    env = agentgym.make("games/ta-TicTacToe-v0")
    assert isinstance(env.env, Opponents)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(9):
        _, reward, terminated, _, info = env.step(unwrap(env).sample_action(rng))
        if terminated:
            break
        assert info["player"] == 0  # the opponent already moved
    assert terminated and reward in (-1.0, 0.0, 1.0)
    raw = agentgym.make("games/ta-TicTacToe-v0", opponents=None)
    raw.reset(seed=3)
    assert raw.step("[4]")[4]["player"] == 1


def test_random_candidate_moves_are_legal_where_the_state_is_read():
    env = TextArenaEnv("ConnectFour-v0", num_players=2)
    trace, _ = _play(env, seed=2, steps=42)
    assert not any("invalid" in " ".join(t[0]).lower() for t in trace[1:])

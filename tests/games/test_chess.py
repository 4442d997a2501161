"""Chess endgames: the KQK / KRK tablebase against python-chess, the generator, the env and its oracle."""

import dataclasses

import numpy as np
import pytest

from agentgym.checker import check_env
from agentgym.environments.games.chess import ChessEndgameEnv
from agentgym.tasks.games import chess_tablebase as tb
from agentgym.tasks.games.chess_endgame import MAX_DTM, ChessEndgameGenerator
from agentgym.tasks.games.chess_rules import PIECE_SETS, Endgame, parse_square, square_name
from agentgym.tasks.splits import generate_split, split_of
from agentgym.tasks.suite import build_suite

try:  # python-chess, the independent reference for the rules (a test dependency only)
    import chess
except ImportError:  # pragma: no cover - the base-dependency CI job
    chess = None

needs_chess = pytest.mark.skipif(chess is None, reason="python-chess missing (pip install chess==1.11.2)")
KINDS = ("Q", "R")
PIECE = {"Q": 5, "R": 4}  # python-chess's piece types


def board_of(kind, wk, piece, bk, white_to_move):
    board = chess.Board(None)
    board.set_piece_at(wk, chess.Piece(chess.KING, chess.WHITE))
    board.set_piece_at(piece, chess.Piece(PIECE[kind], chess.WHITE))
    board.set_piece_at(bk, chess.Piece(chess.KING, chess.BLACK))
    board.turn = white_to_move
    return board


def random_positions(kind, n, seed, white_to_move):
    """``n`` legal positions (python-chess's ``is_valid``), drawn uniformly."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        wk, piece, bk = (int(x) for x in rng.choice(64, 3, replace=False))
        if board_of(kind, wk, piece, bk, white_to_move).is_valid():
            out.append((wk, piece, bk))
    return out


@needs_chess
@pytest.mark.parametrize("kind", KINDS)
def test_own_move_generator_and_parser_agree_with_python_chess(kind):
    for wk, piece, bk in random_positions(kind, 300, 1, chess.WHITE):
        board = board_of(kind, wk, piece, bk, chess.WHITE)
        game = Endgame(kind, wk, piece, bk)
        assert chess.Board(game.fen()) == board
        assert {m.uci for m in game.moves()} == {m.uci() for m in board.legal_moves}
        for move in board.legal_moves:
            ours = game.read(board.san(move))
            assert ours == game.read(move.uci()) and ours.uci == move.uci()
            assert game.san(ours) == board.san(move)
    for wk, piece, bk in random_positions(kind, 300, 2, chess.BLACK):
        board = board_of(kind, wk, piece, bk, chess.BLACK)
        assert set(tb.black_moves(kind, wk, piece, bk)) == {m.to_square for m in board.legal_moves}
        assert tb.in_check(kind, wk, piece, bk) == board.is_check()


@needs_chess
@pytest.mark.parametrize("kind", KINDS)
def test_tablebase_mates_and_dtm_recurrence_checked_with_python_chess(kind):
    table = tb.load_table(kind)
    mates = np.flatnonzero(table.black == 0)
    assert len(mates) > 100
    for index in mates:
        board = board_of(kind, *tb.position_of(int(index)), chess.BLACK)
        assert board.is_valid() and board.is_check() and board.is_checkmate()

    def after(board, move):
        board.push(move)
        wk, bk = board.king(chess.WHITE), board.king(chess.BLACK)
        pieces = board.pieces(PIECE[kind], chess.WHITE)
        board.pop()
        return (wk, next(iter(pieces)), bk) if pieces else None

    for wk, piece, bk in random_positions(kind, 200, 3, chess.WHITE):  # every legal WTM position is won
        board = board_of(kind, wk, piece, bk, chess.WHITE)
        dtm = table.white_dtm(wk, piece, bk)
        assert 1 <= dtm <= MAX_DTM[f"K{kind}K"]
        replies = [table.black_dtm(*after(board, m)) for m in board.legal_moves]
        assert min(d for d in replies if d >= 0) == dtm - 1  # a move to DTM n-1 and none faster
    for wk, piece, bk in random_positions(kind, 200, 4, chess.BLACK):
        board = board_of(kind, wk, piece, bk, chess.BLACK)
        dtm = table.black_dtm(wk, piece, bk)
        outcomes = [after(board, m) for m in board.legal_moves]
        if board.is_checkmate():
            assert dtm == 0
        elif board.is_stalemate() or None in outcomes:  # a stalemate, or the piece can be taken
            assert dtm == -1
        else:
            assert dtm == max(table.white_dtm(*p) for p in outcomes)


def test_known_positions_and_longest_mates():
    queen, rook = tb.load_table("Q"), tb.load_table("R")
    assert int(queen.white.max()) == 10 and int(rook.white.max()) == 16  # the known KQK / KRK maxima
    sq = parse_square
    assert queen.white_dtm(sq("b6"), sq("h2"), sq("a8")) == 1  # Qh8#
    assert rook.white_dtm(sq("b6"), sq("h1"), sq("a8")) == 1  # Rh8#
    assert queen.black_dtm(sq("b6"), sq("c7"), sq("a8")) == -1  # stalemate
    assert rook.black_dtm(sq("c6"), sq("a1"), sq("a6")) == 0  # Ra1 mates the king on a6
    assert queen.black_dtm(sq("h1"), sq("a2"), sq("b3")) == -1  # Kxa2: the queen hangs
    assert square_name(sq("e4")) == "e4" and sq("h8") == 63


def test_tables_are_cached_under_agentgym_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path))
    built = tb.load_table("R")
    path = tmp_path / "chess" / f"krk.v{tb.TABLE_VERSION}.npz"
    assert path.is_file()
    reread = tb._read(str(path), "R")
    assert np.array_equal(reread.white, built.white) and np.array_equal(reread.black, built.black)


def test_levels_give_their_dtm_range_and_tasks_are_reproducible():
    assert ChessEndgameGenerator.n_levels() == 6
    for level in range(ChessEndgameGenerator.n_levels()):
        gen = ChessEndgameGenerator.at_level(level)
        cfg = gen.config
        table = tb.load_table(PIECE_SETS[cfg.pieces])
        for index in range(8):
            task = gen.generate(5, index)
            assert task == gen.generate(5, index)
            game = Endgame.from_spec(task.spec)
            assert cfg.min_dtm <= task.spec["dtm"] == game.dtm(table) <= cfg.max_dtm
            assert len(task.answer.split()) == task.spec["dtm"]
            verdict = gen.verify(task, gen.reference_response(task))
            assert verdict.passed and verdict.details["moves"] == task.spec["dtm"]
            assert not gen.verify(task, gen.corrupt_response(task, np.random.default_rng(0))).passed
    assert ChessEndgameGenerator().generate(1, 1) != ChessEndgameGenerator().generate(1, 2)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"pieces": "KBK"}, "pieces"),
        ({"pieces": object()}, "pieces"),
        ({"min_dtm": 0}, "min_dtm"),
        ({"pieces": "KQK", "min_dtm": 11, "max_dtm": 12}, "min_dtm"),
        ({"pieces": "KRK", "max_dtm": 17}, "max_dtm"),
        ({"min_dtm": 4, "max_dtm": 3}, "max_dtm"),
        ({"extra_moves": -1}, "extra_moves"),
        ({"extra_moves": 1.5}, "extra_moves"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        ChessEndgameGenerator(**overrides)
    assert {f.name for f in dataclasses.fields(ChessEndgameGenerator.config_cls)} >= {field}


def test_heldout_split_and_suite_build():
    gen = ChessEndgameGenerator.at_level(1)
    held = list(generate_split(gen, 3, 4, "heldout"))
    assert all(split_of(t) == "heldout" for t in held)
    train_env, held_env = ChessEndgameEnv(level=1), ChessEndgameEnv(level=1, split="heldout")
    for seed in range(10):
        train_env.reset(seed=seed)
        held_env.reset(seed=seed)
        assert split_of(train_env.task) == "train" and split_of(held_env.task) == "heldout"
    suite = build_suite("games/chess_endgame", per_level=2)
    assert sorted({t.meta["level"] for t in suite}) == list(range(6))
    assert all(split_of(t) == "heldout" for t in suite)


def play(env, policy, seed, max_steps=300):
    env.reset(seed=seed)
    for _ in range(max_steps):
        *_, terminated, truncated, _ = env.step(policy())
        if terminated or truncated:
            break
    return env.verdict()


@pytest.mark.parametrize("level", range(6))
def test_oracle_mates_in_exactly_dtm_moves_at_every_level(level):
    env = ChessEndgameEnv(level=level)
    for seed in range(8):
        verdict = play(env, env.oracle_action, seed)
        assert verdict.passed and verdict.details["result"] == "checkmate"
        assert verdict.details["moves_played"] == env.task.spec["dtm"] == verdict.details["dtm"]
        assert verdict.details["efficiency"] == 1.0


def test_random_play_mostly_fails():
    env = ChessEndgameEnv(level=4)
    rng = np.random.default_rng(0)
    results = [play(env, lambda: env.sample_action(rng), seed) for seed in range(20)]
    assert sum(v.passed for v in results) <= 2
    assert {v.details["result"] for v in results} <= {"checkmate", "stalemate", "piece_lost", "budget"}


def test_malformed_and_illegal_moves_are_error_observations():
    env = ChessEndgameEnv(level=3)
    env.reset(seed=0)
    before = env.game.fen()
    for bad in ("", "hello there, I think I will resign now", "[e9e1]", "[Bb2]", "[a1a1]"):
        obs, reward, terminated, truncated, info = env.step(bad)
        assert obs[0].content.startswith("Invalid move") and "action_error" in info
        assert reward == env.format_penalty and not terminated and not truncated
    assert env.game.fen() == before and env.moves == 5 and env.format_errors == 5
    king = square_name(env.game.bk)
    _, _, _, _, info = env.step(f"[K{king}]")  # the king cannot go next to (or onto) the other king
    assert "not a legal move" in info["action_error"]


def test_uci_and_san_replies_play_the_same_move():
    gen = ChessEndgameGenerator(pieces="KRK", min_dtm=2, max_dtm=2)
    task = gen.generate(0, 0)
    game = Endgame.from_spec(task.spec)
    move = game.best_move(tb.load_table("R"))
    outputs = []
    for reply in (f"[{move.uci}]", f"I play [{game.san(move)}].", game.san(move).lower(), move.uci):
        env = ChessEndgameEnv()
        env.reset(seed=0, options={"task": task})
        outputs.append(env.step(reply)[0][0].content)
    assert len(set(outputs)) == 1 and "Black played K" in outputs[0]


def test_stalemate_hanging_piece_and_fifty_moves_are_not_wins():
    gen = ChessEndgameGenerator(pieces="KQK", min_dtm=1, max_dtm=10)
    env = ChessEndgameEnv()
    env.reset(seed=0, options={"task": gen.task_at("b6", "d7", "a8")})
    _, reward, terminated, _, _ = env.step("[Qc7]")
    assert terminated and reward == 0.0 and env.verdict().details["result"] == "stalemate"
    env.reset(seed=0, options={"task": gen.task_at("h1", "a1", "b3")})
    obs, reward, terminated, _, _ = env.step("[a1a2]")
    assert terminated and not env.verdict().passed and "Kxa2" in obs[0].content
    assert env.verdict().details["result"] == "piece_lost"
    game = Endgame("Q", parse_square("h1"), parse_square("d4"), parse_square("a8"), plies=98)
    game.play(game.read("Kg1"), tb.load_table("Q"))
    assert game.result == "fifty_moves"
    with pytest.raises(ValueError):
        gen.task_at("a1", "b2", "a2")  # kings touch


def test_budget_runs_out_and_episodes_are_seeded():
    env = ChessEndgameEnv(level=0, difficulty={"extra_moves": 0})
    env.reset(seed=3)
    for _ in range(env.budget):
        _, _, terminated, truncated, _ = env.step("[nonsense]")
    assert truncated and not terminated and env.verdict().details["result"] == "budget"

    def transcript(seed):
        env = ChessEndgameEnv(level=5)
        rng = np.random.default_rng(seed)
        obs, _ = env.reset(seed=seed)
        out = [m.content for m in obs]
        for _ in range(12):
            obs, reward, terminated, truncated, _ = env.step(env.sample_action(rng))
            out += [obs[0].content, reward]
            if terminated or truncated:
                break
        return out

    assert transcript(7) == transcript(7) and transcript(7) != transcript(8)


def test_registered_env_passes_check_env():
    assert check_env("games/chess-endgame-v0").passed

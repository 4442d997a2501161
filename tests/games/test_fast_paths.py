"""The fast paths taken for speed give exactly what the general code gives.

Covers the ``Env.step`` plain-text path and inline observation check, ``Message``'s written-out
constructor, Minesweeper's incremental board and flood, FrozenLake's board, and the TextArena
adapter's lazily joined history.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import numpy as np
import pytest

from agentgym.core.env import Env, StepResult
from agentgym.core.errors import ConfigError, EnvError
from agentgym.core.messages import ImagePart, Message, TextPart, ToolCall
from agentgym.core.task import Task
from agentgym.environments.games.frozenlake import FrozenLakeEnv
from agentgym.environments.games.minesweeper import MinesweeperEnv
from agentgym.tasks.games.minesweeper_rules import flood

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


class EchoEnv(Env):
    """Echoes the action it received (its type, text and tool calls) and returns what ``reply`` says."""

    step_in_thread = False
    max_action_chars = 50

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Message] = []
        self.reply: Any = None

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        self.task = Task("toy", {"echo": True})
        return [Message("user", "say something")], {}

    def _step(self, action: Message) -> StepResult:
        self.seen.append(action)
        if self.reply is not None:
            return StepResult(self.reply)
        calls = [(c.name, c.arguments) for c in action.tool_calls]
        return StepResult([Message("user", f"{type(action).__name__}|{action.text}|{calls}")], info={"k": 1})


def _run(action: Any) -> tuple[Any, ...]:
    env = EchoEnv()
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)
    seen = [(m.role, m.content, m.tool_calls) for m in env.seen]
    return [m.to_dict() for m in obs], reward, terminated, truncated, info, seen


@pytest.mark.parametrize(
    "text",
    ["[3 4]", "", "x" * 50, "héllo wörld ✓", "lone \ud800 surrogate", "tab\tand\nnewline"],
    ids=["move", "empty", "at-cap", "non-ascii", "surrogate", "whitespace"],
)
def test_plain_text_gives_what_the_equivalent_message_and_dict_give(text):
    as_str = _run(text)
    assert as_str == _run(Message("assistant", text))
    assert as_str == _run({"content": text})
    # The action the env saw is a clean assistant message (lone surrogates replaced).
    assert as_str[-1] == [("assistant", text.replace("\ud800", "\ufffd"), ())]


def test_oversized_and_malformed_actions_get_the_same_error_observations():
    too_long = "y" * 51
    by_str, by_message = _run(too_long), _run(Message("assistant", too_long))
    assert by_str == by_message
    assert by_str[0] == [
        {"role": "user", "content": "Invalid action: the reply is 51 characters long; the limit is 50"}
    ]
    assert by_str[-1] == []  # the env never saw it
    assert _run(Message("user", "hi"))[0][0]["content"].startswith("Invalid action: the reply must have role")
    assert "got int" in _run(42)[0][0]["content"]
    call = ToolCall("1", "f", "{}")
    assert _run(Message("assistant", "", tool_calls=(call,)))[-1] == [("assistant", "", (call,))]


def test_a_str_subclass_takes_the_general_path_with_the_same_result():
    class Reply(str):
        pass

    assert _run(Reply("[1 2]")) == _run("[1 2]")


def test_observations_are_still_checked():
    env = EchoEnv()
    env.reset(seed=0)
    for bad in ([{"role": "user", "content": "x"}], ("not", "a list"), [Message("user", "a"), "b"]):
        env.reply = bad
        with pytest.raises(EnvError, match="invalid observation"):
            env.step("x")
    env.reply = [Message("user", "a"), Message("user", "b")]
    assert [m.text for m in env.step("x")[0]] == ["a", "b"]
    env.reply = []
    assert env.step("x")[0] == []


def test_message_constructor_keeps_the_dataclass_behaviour():
    m = Message("user", "hi")
    assert (m.role, m.content, m.tool_calls, m.tool_call_id, m.name) == ("user", "hi", (), None, None)
    assert m == Message(role="user", content="hi") and hash(m) == hash(Message("user", "hi"))
    assert repr(m) == "Message(role='user', content='hi', tool_calls=(), tool_call_id=None, name=None)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.content = "changed"  # type: ignore[misc]
    assert dataclasses.replace(m, content="yo") == Message("user", "yo")
    assert pickle.loads(pickle.dumps(m)) == m and copy.deepcopy(m) == m
    assert Message.from_dict(m.to_dict()) == m
    # The checks the fast case skips still run when they can fail.
    with pytest.raises(ConfigError, match="role"):
        Message("robot", "x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="content must be"):
        Message("user", 3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="parts"):
        Message("user", ("raw",))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="tool_call_id"):
        Message("tool", "result")
    parts = Message("user", [TextPart("a"), ImagePart(PNG)])  # type: ignore[arg-type]
    assert isinstance(parts.content, tuple) and parts.text == "a" and parts.images == [PNG]
    calls = Message("assistant", "", tool_calls=[ToolCall("1", "f")])  # type: ignore[arg-type]
    assert calls.tool_calls == (ToolCall("1", "f"),)
    assert Message("tool", "r", tool_call_id="1", name="f").to_dict()["name"] == "f"


# ----- Minesweeper ---------------------------------------------------------------------------------
def _full_board(env: MinesweeperEnv, event: str) -> str:
    """The board text rendered from scratch (the renderer before the incremental one)."""
    spec = env.task.spec
    header = "    " + " ".join(f"{c:>2}" for c in range(spec["cols"]))
    rows = [header]
    for r in range(spec["rows"]):
        marks = []
        for c in range(spec["cols"]):
            cell = (r, c)
            if cell == env.hit:
                mark = "*"
            elif cell in env.revealed:
                mark = str(env.revealed[cell])
            else:
                mark = "F" if cell in env.flags else "."
            marks.append(f"{mark:>2}")
        rows.append(f"{r:>2}  " + " ".join(marks))
    safe_left = spec["rows"] * spec["cols"] - spec["mines"] - len(env.revealed)
    return (
        f"{event}\n"
        + "\n".join(rows)
        + f"\nSafe cells left: {safe_left}. Moves used: {env.moves} of {env.budget}."
    )


def test_minesweeper_incremental_board_and_flood_match_a_full_render():
    rng = np.random.default_rng(7)
    env = MinesweeperEnv(level=3)
    steps = boards = 0
    for seed in range(12):
        obs, _ = env.reset(seed=seed)
        assert obs[-1].text == _full_board(env, "The board (a safe area is open):")
        over = False
        while not over:
            r = int(rng.integers(env.task.spec["rows"]))
            c = int(rng.integers(env.task.spec["cols"]))
            move = [f"[{r} {c}]", f"[flag {r} {c}]", f"I pick [{r}, {c}]", f"{r} {c}"][int(rng.integers(4))]
            cell = (r, c)
            expected_new = None
            if cell not in env.revealed and cell not in env.mines and "flag" not in move:
                expected_new = flood(cell, env.numbers, env.mines, set(env.revealed))
            before = set(env.revealed)
            obs, _, terminated, truncated, info = env.step(move)
            steps += 1
            over = terminated or truncated
            if "action_error" in info:
                continue
            event = obs[0].text.split("\n", 1)[0]
            assert obs[0].text == _full_board(env, event)
            boards += 1
            if expected_new is not None:
                assert set(env.revealed) - before == expected_new
                assert list(env.revealed)[len(before) :] == list(expected_new)  # same order as flood()
    assert steps > 100 and boards > 30


@pytest.mark.parametrize(
    ("reply", "cell"),
    [
        ("[3 4]", (3, 4)),
        ("[3,4]", (3, 4)),
        ("[03 , 4]", (3, 4)),
        ("[ 3 4 ]", (3, 4)),
        ("ok [1 1] then [2 2]", (2, 2)),
    ],
)
def test_minesweeper_plain_reveal_parses_like_the_general_parser(reply, cell):
    env = MinesweeperEnv(difficulty={"rows": 8, "cols": 8, "mines": 10})
    env.reset(seed=3)
    hidden = cell not in env.revealed
    obs, *_, info = env.step(reply)
    if hidden:
        assert "action_error" not in info
        assert f" {cell[0]} {cell[1]}" in obs[0].text.split("\n", 1)[0]
    else:
        assert info["action_error"] == f"cell {cell[0]} {cell[1]} is already revealed"


# ----- FrozenLake ----------------------------------------------------------------------------------
def test_frozenlake_board_matches_a_full_render():
    rng = np.random.default_rng(1)
    env = FrozenLakeEnv(level=2)
    for seed in range(6):
        env.reset(seed=seed)
        for _ in range(30):
            obs, _, terminated, truncated, _ = env.step(
                ["[up]", "[down]", "[left]", "[right]"][int(rng.integers(4))]
            )
            grid = env.task.spec["grid"]
            rows = [
                "".join("@" if (r, c) == env.pos else ch for c, ch in enumerate(row))
                for r, row in enumerate(grid)
            ]
            event = obs[0].text.split("\n", 1)[0]
            assert (
                obs[0].text == f"{event}\n" + "\n".join(rows) + f"\nMoves used: {env.moves} of {env.budget}."
            )
            if terminated or truncated:
                break


# ----- TextArena history ---------------------------------------------------------------------------
def test_textarena_history_equals_the_cut_concatenation():
    pytest.importorskip("textarena")
    from agentgym.environments.games.ta_env import HISTORY_CHARS, TextArenaEnv

    env = TextArenaEnv("TicTacToe-v0", num_players=2)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    expected = {0: "", 1: ""}
    for player, text in env._history.items():  # what reset remembered
        expected[player] = "".join(text)
    for i in range(400):
        player = int(rng.integers(2))
        text = "z" * int(rng.integers(0, 700)) + str(i)
        env._remember(player, text)
        expected[player] = (expected[player] + "\n" + text)[-HISTORY_CHARS:]
        assert env.history(player) == expected[player]
    assert env.history(5) == ""

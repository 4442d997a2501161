import json

import pytest

from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message, ToolCall
from agentgym.core.verdict import Verdict
from agentgym.trajectory import Trajectory, TrajectoryStore, Turn


def make_traj(eid="e1"):
    return Trajectory(
        episode_id=eid,
        env_id="toy/x-v0",
        agent="a",
        seed=1,
        task_id="t",
        initial_observation=[Message("system", "s"), Message("user", "u")],
        turns=[
            Turn(
                0,
                [Message("system", "s"), Message("user", "u")],
                Message("assistant", "", tool_calls=(ToolCall("c", "f", "{}"),)),
                0.0,
                token_ids=[1, 2],
                logprobs=[-0.1, -0.2],
            ),
            Turn(
                1,
                [Message("tool", "r", tool_call_id="c")],
                Message("assistant", "done"),
                1.0,
                terminated=True,
            ),
        ],
        final_observation=[Message("user", "bye")],
        verdict=Verdict(1.0, True, "x"),
    )


def test_round_trip_and_conversation_order():
    t = make_traj()
    back = Trajectory.from_dict(t.to_dict())
    assert back == t and back.reward == 1.0 and back.passed
    assert [m.text for m in back.messages()] == ["s", "u", "", "r", "done", "bye"]
    assert back.turns[0].logprobs == [-0.1, -0.2]


def test_store_appends_and_reloads(tmp_path):
    with TrajectoryStore(tmp_path / "run") as store:
        assert store.append(make_traj("a")) and store.append(make_traj("b"))
        assert not store.append(make_traj("a"))
    with TrajectoryStore(tmp_path / "run") as store:
        assert store.episode_ids == {"a", "b"} and "a" in store
        assert [t.episode_id for t in store.load()] == ["a", "b"]


def test_corrupt_middle_line_is_a_clear_error(tmp_path):
    path = tmp_path / "trajectories.jsonl"
    path.write_text('{"episode_id": "a"}\nnot json\n{"episode_id": "b"}\n')
    with pytest.raises(ConfigError, match=r"trajectories.jsonl:2"):
        TrajectoryStore(tmp_path)


def test_file_of_only_a_partial_line_is_emptied(tmp_path):
    path = tmp_path / "trajectories.jsonl"
    path.write_text('{"episode_id": "a", "tru')
    with TrajectoryStore(tmp_path) as store:
        assert len(store) == 0
    assert path.read_text() == ""


def test_the_verdict_stays_typed_and_round_trips_through_the_store(tmp_path):
    t = make_traj()
    t.verdict = Verdict(0.5, False, "rubric", {"items": {"a": {"score": 0.5}}}, None)
    with TrajectoryStore(tmp_path) as store:
        store.append(t)
    (back,) = TrajectoryStore(tmp_path).load()
    assert isinstance(back.verdict, Verdict) and back.verdict == t.verdict and back == t


def test_old_records_with_dict_verdicts_still_load(tmp_path):
    record = make_traj().to_dict()
    record["verdict"] = {"score": 1.0, "passed": True, "kind": "exact", "details": {"x": 1}, "error": None}
    broken = {**record, "episode_id": "old-2", "verdict": {"passed": True}}  # no score: unreadable
    path = tmp_path / "trajectories.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(broken) + "\n")
    first, second = TrajectoryStore(tmp_path).load()
    assert first.verdict == Verdict(1.0, True, "exact", {"x": 1}) and first.passed
    assert second.verdict is not None and second.verdict.unscored and not second.passed

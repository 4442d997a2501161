"""Plain progress lines when stderr is not a terminal: one per finished env and agent, heartbeats."""

import io
import re

import agentgym.progress as progress
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.eval.runner import run_eval
from agentgym.progress import RolloutProgress
from agentgym.trajectory import Trajectory, Turn
from tests.eval.helpers import counting_oracle, tiny_suite


def _traj(env_id: str, passed: bool) -> Trajectory:
    turn = Turn(0, [], Message("assistant", "x"), reward=float(passed), terminated=True)
    verdict = Verdict(float(passed), passed, "x")
    return Trajectory(f"{env_id}-{passed}", env_id, "agent", 0, turns=[turn], verdict=verdict)


def test_plain_mode_prints_a_line_per_finished_env_and_a_last_line():
    out = io.StringIO()
    with RolloutProgress(3, "eval demo", "oracle", per_env={"a/x-v0": 2, "b/y-v0": 1}, stream=out) as bar:
        assert bar.plain and not bar.visible
        bar.advance(_traj("a/x-v0", True))
        assert out.getvalue().count("\n") == 1  # only the start line: a/x-v0 is not done yet
        bar.advance(_traj("b/y-v0", False))
        bar.advance(_traj("a/x-v0", False))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("eval demo · oracle: started, 3 to do")
    assert lines[1].startswith("eval demo · oracle: b/y-v0 done (1 episodes) · success 0% · reward 0.00")
    assert lines[2].startswith("eval demo · oracle: a/x-v0 done (2 episodes) · success 50% · reward 0.50")
    assert re.match(r"eval demo · oracle: finished, 3/3 done · success 33% · reward 0\.33 · \d+s$", lines[3])
    assert len(lines) == 4


def test_plain_mode_heartbeat_breaks_a_long_silence(monkeypatch):
    clock = iter([0.0, 10.0, 70.0, 71.0, 200.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    bar = RolloutProgress(3, "puzzles/sat-v0", "random", stream=out)
    bar.advance(_traj("puzzles/sat-v0", True))  # t=10: quiet
    bar.advance(_traj("puzzles/sat-v0", True))  # t=70: 60 s since the last line
    lines = out.getvalue().splitlines()
    assert lines == ["puzzles/sat-v0 · random: 2/3 done · success 100% · reward 1.00 · 1m11s"]


def test_disabled_progress_prints_nothing():
    out = io.StringIO()
    with RolloutProgress(1, "x", "y", enabled=False, stream=out) as bar:
        bar.advance(_traj("x", True))
    assert out.getvalue() == ""


def test_eval_logs_one_line_per_env_and_agent_when_not_on_a_terminal(tmp_path, capsys):
    run_eval(tiny_suite(), [counting_oracle()], tmp_path / "eval", progress=True)
    err = capsys.readouterr().err.splitlines()
    done = [line for line in err if " done (" in line]
    assert sorted(line.split(": ")[1].split(" done")[0] for line in done) == [
        "puzzles/knights-knaves-v0",
        "puzzles/maze-v0",
        "puzzles/sat-v0",
    ]
    assert any("finished, 6/6 done · success 100%" in line for line in err)


def test_plain_mode_heartbeat_runs_while_nothing_finishes(monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.05)
    out = io.StringIO()
    with RolloutProgress(2, "search/qa-v0", "bundled", stream=out):
        deadline = progress.time.monotonic() + 10
        while out.getvalue().count("0/2 done") < 2 and progress.time.monotonic() < deadline:
            progress.time.sleep(0.01)
    assert out.getvalue().count("0/2 done") >= 2

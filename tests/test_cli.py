import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentgym.cli.main import main
from agentgym.cli.run_cmd import parse_difficulty
from agentgym.core.errors import ConfigError
from tests.fake_openai_server import Delay, FakeOpenAIServer, Reply

AGENTGYM = [sys.executable, "-m", "agentgym.cli.main"]


def cli(*args):
    return subprocess.run([*AGENTGYM, *args], capture_output=True, text=True, timeout=120)


def run_main(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main([*args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_list_json(capsys):
    main(["list", "--json"])
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"family": "puzzles", "max_turns": 3}.items() <= rows["puzzles/sat-v0"].items()


def test_run_oracle_then_show(tmp_path, capsys):
    main(
        [
            "run",
            "puzzles/sat-v0",
            "--agent",
            "oracle",
            "-n",
            "12",
            "-c",
            "4",
            "--out",
            str(tmp_path),
            "--json",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["episodes"] == 12 and summary["mean_reward"] == 1.0
    main(["show", str(tmp_path), "--index", "3"])
    shown = capsys.readouterr().out
    assert "t000003-s000" in shown and "<answer>" in shown and "passed True" in shown


def test_run_random_is_low_and_difficulty_is_passed(tmp_path, capsys):
    main(
        [
            "run",
            "puzzles/sat-v0",
            "--agent",
            "random",
            "-n",
            "40",
            "-d",
            "n_vars=10",
            "--out",
            str(tmp_path),
            "--json",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["mean_reward"] < 0.3
    record = json.loads((tmp_path / "trajectories.jsonl").read_text().splitlines()[0])
    assert record["task"]["spec"]["n_vars"] == 10


def test_resuming_into_a_dir_of_another_run_is_refused(tmp_path, capsys):
    main(["run", "puzzles/sat-v0", "--agent", "oracle", "-n", "2", "--out", str(tmp_path), "--json"])
    code, _, err = run_main(
        capsys, "run", "puzzles/sat-v0", "--agent", "random", "-n", "2", "--out", str(tmp_path)
    )
    assert code == 2 and "different agent" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "puzzles/sat-v9", "--agent", "oracle"], "did you mean 'puzzles/sat-v0'"),
        (["run", "puzzles/sat-v0", "--agent", "gpt4"], "unknown agent spec 'gpt4'"),
        (["run", "puzzles/sat-v0", "--agent", "oracle", "-d", "n_var=3"], "n_var"),
        (["run", "puzzles/sat-v0", "--agent", "oracle", "-c", "0"], "concurrency must be >= 1"),
        (["show", "/nonexistent/dir"], "does not exist"),
        (["check", "nope/x-v0"], "unknown env id"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args, message):
    out = cli(*args)
    assert out.returncode == 2, out
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2  # one message, possibly soft-wrapped once


def test_debug_shows_the_traceback():
    out = cli("--debug", "run", "puzzles/sat-v9", "--agent", "oracle")
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_check_command(capsys):
    main(["check", "puzzles/sat-v0"])
    assert "malformed:one_megabyte" in capsys.readouterr().out


def test_help_teaches():
    out = cli("run", "--help")
    assert out.returncode == 0 and "--concurrency" in out.stdout and "resume" in out.stdout.lower()


def test_parse_difficulty():
    assert parse_difficulty(["n_vars=8", "name=abc", "flag=true"]) == {
        "n_vars": 8,
        "name": "abc",
        "flag": True,
    }
    with pytest.raises(ConfigError):
        parse_difficulty(["novalue"])


@pytest.mark.slow
def test_ctrl_c_flushes_finished_episodes_and_the_rerun_completes(tmp_path):
    out_dir = tmp_path / "run"
    args = [
        "run",
        "puzzles/sat-v0",
        "--agent",
        "openai:fake-model",
        "-n",
        "60",
        "-c",
        "2",
        "--out",
        str(out_dir),
        "--no-progress",
        "-d",
        "n_vars=3",
    ]
    with FakeOpenAIServer() as srv:
        for _ in range(200):
            srv.script.append(Delay(0.05, then=Reply(text="<answer>1 0 1</answer>")))
        proc = subprocess.Popen(
            [*AGENTGYM, *args, "--base-url", srv.base_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OPENAI_API_KEY": "x"},
        )
        path = out_dir / "trajectories.jsonl"
        deadline = time.time() + 60
        while (not path.exists() or len(path.read_text().splitlines()) < 6) and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted" in stdout + stderr
    stored = [json.loads(line) for line in path.read_text().splitlines()]
    assert 6 <= len(stored) < 60
    with FakeOpenAIServer() as srv:
        for _ in range(200):
            srv.script.append(Reply(text="<answer>1 0 1</answer>"))
        done = subprocess.run(
            [*AGENTGYM, *args, "--base-url", srv.base_url],
            capture_output=True,
            text=True,
            env={**os.environ, "OPENAI_API_KEY": "x"},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert len(srv.requests) == 60 - len(stored)
    ids = [json.loads(line)["episode_id"] for line in Path(path).read_text().splitlines()]
    assert len(ids) == 60 == len(set(ids))


def test_curriculum_state_is_saved_and_restored_with_the_run(tmp_path, capsys):
    args = ["run", "puzzles/sat-v0", "--agent", "oracle", "--curriculum", "threshold", "--out", str(tmp_path)]
    main([*args, "-n", "36", "--json", "--no-progress"])
    first = json.loads((tmp_path / "curriculum.json").read_text())
    main([*args, "-n", "50", "--json", "--no-progress"])
    second = json.loads((tmp_path / "curriculum.json").read_text())
    capsys.readouterr()
    assert first["draws"] == 36 and second["draws"] == 50  # the resumed run continued the saved state
    records = (tmp_path / "trajectories.jsonl").read_text().splitlines()
    levels = [json.loads(line)["task"]["difficulty"]["n_vars"] for line in records]
    assert levels[0] == 3 and max(levels) > 3  # promoted by the oracle's successes
    plain = ["run", "puzzles/sat-v0", "--agent", "oracle", "-n", "50", "--out", str(tmp_path)]
    code, _, err = run_main(capsys, *plain)
    assert code == 2 and "curriculum" in err  # resuming without the curriculum is refused

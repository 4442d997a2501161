"""Export applies the run's reward config and writes each task's real split (no model needed)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import agentgym.train.export as export
from agentgym.core.env import TURN_SCORE_KEY
from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.tasks.splits import split_of
from agentgym.train.rewards import RewardConfig
from agentgym.trajectory import Trajectory, TrajectoryStore, Turn

IDS = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(200)]  # task ids are hashes
HELDOUT = next(i for i in IDS if split_of(i) == "heldout")
TRAIN = next(i for i in IDS if split_of(i) == "train")


def _traj(episode: str, task_id: str, status: str = "ok") -> Trajectory:
    turns = [
        Turn(i, [Message("user", "q")], Message("assistant", str(i)), reward=0.1 * (i + 1),
             info={TURN_SCORE_KEY: 1.0})
        for i in range(2)
    ]  # fmt: skip
    return Trajectory(
        episode, "puzzles/guess-number-v0", "a", 0, task_id=task_id, turns=turns,
        initial_observation=[Message("user", "q")], verdict=Verdict(0.5, False, "x"), status=status,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    stub = SimpleNamespace(input_ids=[1, 2, 3], loss_mask=[0, 1, 1], turn_spans=[(1, 3)])
    monkeypatch.setattr(export, "assemble", lambda traj, tokenizer: stub)
    with TrajectoryStore(tmp_path) as store:
        for traj in (_traj("e0", TRAIN), _traj("e1", HELDOUT), _traj("e2", TRAIN, "truncated")):
            store.append(traj)
    return tmp_path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rows_carry_the_real_split_and_outcome_rewards(run_dir: Path) -> None:
    summary = export.export_run(run_dir, "trl", None, run_dir / "out.jsonl")
    rows = _rows(run_dir / "out.jsonl")
    assert [r["split"] for r in rows] == ["train", "heldout"] and summary["splits"] == {
        "heldout": 1,
        "train": 1,
    }
    assert all(r["turn_rewards"] == [0.0, 0.5] and r["reward"] == 0.5 for r in rows)
    assert summary["skipped"] == 1 and summary["reward"] == "outcome"


def test_the_runs_reward_config_is_applied(run_dir: Path) -> None:
    config = RewardConfig(kind="turn", trainable_statuses=("ok", "truncated"))
    saved = {"reward": {**config.__dict__, "turn_score_key": "valid_guess"}}  # an older run's file
    (run_dir / "config.json").write_text(json.dumps(saved))
    assert export.run_reward_config(run_dir) == config
    summary = export.export_run(run_dir, "trl", None, run_dir / "out.jsonl")
    rows = _rows(run_dir / "out.jsonl")
    assert summary["rows"] == 3 and rows[0]["turn_rewards"] == [0.1, 0.2]
    gra = export.export_run(
        run_dir, "trl", None, run_dir / "gra.jsonl", RewardConfig(kind="gra", gra_threshold=0.5)
    )
    assert gra["rows"] == 2 and gra["reward"] == "gra"
    with pytest.raises(ConfigError, match="igpo"):
        export.export_run(run_dir, "trl", None, run_dir / "x.jsonl", RewardConfig(kind="igpo"))


def test_verl_rows_name_the_agentgym_agent_loop_and_the_episode_they_replay(run_dir: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    (run_dir / "config.json").write_text(json.dumps({"env_kwargs": {"max_guesses": 3}}))
    export.export_run(run_dir, "verl", None, run_dir / "out.parquet")
    rows = pq.read_table(str(run_dir / "out.parquet")).to_pylist()
    assert [r["agent_name"] for r in rows] == ["agentgym", "agentgym"]
    refs = [json.loads(r["agentgym"]) for r in rows]
    assert [(ref["env_id"], ref["seed"], ref["kwargs"]) for ref in refs] == [
        ("puzzles/guess-number-v0", 0, {"max_guesses": 3})
    ] * 2
    assert [r["extra_info"]["split"] for r in rows] == ["train", "heldout"]

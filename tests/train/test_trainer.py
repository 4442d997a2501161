"""The training loop (1 step each, tiny sizes) through the CLI and the API; exports of its run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from agentgym.cli.main import main

pytestmark = [pytest.mark.model, pytest.mark.slow]
torch = pytest.importorskip("torch")
TINY = ["--tasks", "1", "--group", "2", "--max-new-tokens", "4", "--steps", "1", "--train-layers", "1"]


@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory: pytest.TempPathFactory, agent: Any) -> Path:
    out = tmp_path_factory.mktemp("grpo")
    main(["train", "--env", "puzzles/guess-number-v0", "--algo", "grpo", "--out", str(out), *TINY])
    return out  # main() returns on success and exits with code 2 on errors


def test_cli_grpo_step_writes_metrics_and_checkpoint(grpo_run: Path) -> None:
    lines = (grpo_run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1
    m = json.loads(lines[0])
    assert m["step"] == 0 and m["episodes"] == 2 and 0.0 <= m["mean_reward"] <= 1.0
    assert {"loss", "kl", "clip_frac", "agent_tokens"} <= set(m)
    assert abs(m["ratio_mean"] - 1.0) < 1e-2  # on-policy: sampler and learner agree
    ck = grpo_run / "checkpoint-final"
    assert (ck / "config.json").is_file() and (ck / "tokenizer_config.json").is_file()
    from agentgym.agents.hf_agent import HFAgent

    reloaded = HFAgent(str(ck))
    reloaded.load()  # a checkpoint loads as hf:DIR
    assert reloaded.model.config.hidden_size == 576


def test_archer_step_trains_critic_and_drops_failed_episodes(tmp_path: Path, agent: Any) -> None:
    from agentgym.train.config import TrainConfig
    from agentgym.train.trainer import Trainer

    config = TrainConfig(
        algo="archer",
        out_dir=str(tmp_path),
        steps=1,
        tasks_per_step=1,
        group_size=2,
        max_new_tokens=4,
        train_layers=1,
        progress=False,
    )
    trainer = Trainer(config)
    before = [p.detach().clone() for p in trainer.model.model.layers[-1].parameters()]
    frozen = trainer.model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    trajs = trainer.rollout(0)
    failed = dataclasses.replace(trajs[0], status="env_error")
    episodes, _rewards = trainer.prepare([failed, *trajs[1:]])
    assert [e.episode_id for e in episodes] == [t.episode_id for t in trajs[1:]]
    m = trainer.step(1)
    assert m["trainable"] == m["episodes"] == 2 and "critic_q_loss" in m
    assert len(trainer.critic.buffer) == round(m["mean_turns"] * m["episodes"])  # one transition per turn
    after = list(trainer.model.model.layers[-1].parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert torch.equal(frozen, trainer.model.model.layers[0].self_attn.q_proj.weight)


def test_cli_ppo_full_loop_trains_policy_and_value_head(tmp_path: Path, agent: Any) -> None:
    """``agentgym train --algo ppo`` end to end: rollouts, turn GAE, clipped update, value head saved.

    (Token-level GAE and LoRA are covered in test_algorithms.py.) Replies of 8 tokens so that the
    bundled model states a guess, and run seed 2, whose two sampled episodes (CPU sampling is seeded)
    guess in range and earn graded rewards (0.11, 0.22): the value head then has a target.
    """
    out = tmp_path / "ppo"
    args = ["--tasks", "1", "--group", "2", "--max-new-tokens", "8", "--steps", "1", "--train-layers", "1"]
    args += ["--seed", "2", "--gae", "turn", "--out", str(out)]
    main(["train", "--env", "puzzles/guess-number-v0", "--algo", "ppo", *args])
    m = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert m["episodes"] == 2 and {"loss", "value_loss", "kl", "clip_frac"} <= set(m)
    assert m["mean_reward"] > 0
    assert m["value_loss"] > 0 and abs(m["ratio_mean"] - 1.0) < 1e-2
    ck = out / "checkpoint-final"
    head = torch.load(ck / "value_head.pt")
    assert head["linear.weight"].shape == (1, 576) and head["linear.weight"].abs().sum() > 0


@pytest.mark.parametrize("fmt", ["verl", "trl", "openrlhf"])
def test_export_formats(grpo_run: Path, tmp_path: Path, fmt: str, tokenizer: Any) -> None:
    suffix = "parquet" if fmt == "verl" else "jsonl"
    out = tmp_path / f"data.{suffix}"
    main(["export", str(grpo_run), "--format", fmt, "--tokenizer", "bundled", "--out", str(out)])
    if fmt == "verl":
        import pyarrow.parquet as pq

        rows = pq.read_table(out).to_pylist()
        assert {"data_source", "prompt", "ability", "reward_model", "extra_info"} <= set(rows[0])
        r = rows[0]
        assert r["reward_model"]["style"] == "rule" and r["reward_model"]["ground_truth"].isdigit()
        assert r["prompt"][0]["role"] == "system" and r["extra_info"]["split"] in ("train", "heldout")
        ids, mask = r["extra_info"]["input_ids"], r["extra_info"]["loss_mask"]
    else:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        r = rows[0]
        if fmt == "trl":
            assert r["prompt"][-1]["role"] == "user" and r["completion"][0]["role"] == "assistant"
            ids, mask = r["input_ids"], r["completion_mask"]
        else:
            assert r["input"].endswith("<|im_start|>assistant\n") and r["label"].isdigit()
            first_reply = next(m["content"] for m in r["messages"] if m["role"] == "assistant")
            assert first_reply in r["output"]
            ids, mask = [0, 1], [0, 1]  # text layout: the token data is in the other formats
    assert len(rows) == 2 and len(ids) == len(mask) and 0 < sum(mask) < len(ids)

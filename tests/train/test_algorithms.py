"""PPO (token and turn GAE) with LoRA, and GRPO with IGPO rewards, on real episodes (no rollout)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agentgym.train.config import TrainConfig
from agentgym.train.rewards import RewardConfig
from agentgym.trajectory import Trajectory

pytestmark = [pytest.mark.model, pytest.mark.slow]
torch = pytest.importorskip("torch")


def test_ppo_with_lora_updates_adapter_and_value_head_only(
    tmp_path: Path, agent: Any, rollouts: list[Trajectory]
) -> None:
    from agentgym.train.policy import collate
    from agentgym.train.trainer import Trainer

    config = TrainConfig(
        algo="ppo", lora=True, train_layers=2, out_dir=str(tmp_path), max_new_tokens=8, progress=False
    )
    trainer = Trainer(config)
    lora = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert lora and all("lora_" in n for n in lora)
    base_w = (
        trainer.model.get_base_model().model.layers[-1].self_attn.q_proj.base_layer.weight.detach().clone()
    )
    episodes, rewards = trainer.prepare(rollouts)
    assert len(episodes) == len(rollouts)
    batch = collate(episodes, [np.zeros(len(e)) for e in episodes])
    ref_logp, _ = trainer.reference_forward(batch)
    for gae in ("token", "turn"):
        trainer.config.gae = gae  # type: ignore[assignment]
        adv, ret, _ = trainer.advantages(episodes, rewards, batch)
        assert ret is not None
        for e, a in zip(episodes, adv, strict=True):
            off = [i for i, m in enumerate(e.loss_mask) if not m]
            assert not np.any(a[off])  # advantages only on the agent's tokens
    stats = trainer.update(collate(episodes, adv, ret), ref_logp)
    assert {"loss", "value_loss", "kl"} <= set(stats)
    changed = [n for n, p in trainer.model.named_parameters() if n in lora and not torch.equal(p, lora[n])]
    assert changed
    assert torch.equal(
        base_w, trainer.model.get_base_model().model.layers[-1].self_attn.q_proj.base_layer.weight
    )
    assert trainer.value_head is not None and trainer.value_head.linear.weight.abs().sum() > 0
    folder = trainer.save(tmp_path / "ck")  # LoRA merged into a plain transformers folder
    assert (folder / "value_head.pt").is_file() and not (folder / "adapter_config.json").exists()


def test_grpo_with_igpo_rewards_gives_turn_credit(tmp_path: Path, rollouts: list[Trajectory]) -> None:
    from agentgym.train.trainer import Trainer

    config = TrainConfig(
        algo="grpo",
        out_dir=str(tmp_path),
        train_layers=1,
        max_new_tokens=8,
        reward=RewardConfig(kind="igpo"),
        progress=False,
    )
    trainer = Trainer(config)
    episodes, rewards = trainer.prepare(rollouts)
    multi = [r for r in rewards if len(r) > 1]
    assert multi and any(abs(x) > 0 for r in multi for x in r[:-1])  # information gain on early turns
    from agentgym.train.policy import collate

    batch = collate(episodes, [np.zeros(len(e)) for e in episodes])
    adv, _, _ = trainer.advantages(episodes, rewards, batch)
    per_turn = [
        sorted({round(float(a[s]), 6) for s, _ in e.turn_spans}) for e, a in zip(episodes, adv, strict=True)
    ]
    assert any(len(v) > 1 for v in per_turn)  # turns of one episode get different advantages

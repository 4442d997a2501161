"""The trainer's typed configuration."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from agentgym.core.errors import ConfigError
from agentgym.train.rewards import RewardConfig

Algo = Literal["grpo", "ppo", "archer"]


@dataclass
class TrainConfig:
    """What ``agentgym train`` runs. Sizes default to a CPU-sized smoke run.

    Each step rolls out ``tasks_per_step`` tasks x ``group_size`` samples with the current policy,
    scores them (``reward``), computes advantages (``algo``: ``grpo`` group-normalized; ``ppo`` with
    a value head and GAE over tokens or turns, ``gae``; ``archer`` with an utterance-level critic),
    and takes ``ppo_epochs`` clipped policy-gradient passes with a KL penalty (``kl_coef``) to the
    frozen initial model.
    """

    env_id: str = "puzzles/guess-number-v0"
    algo: Algo = "grpo"
    model: str = "bundled"
    out_dir: str = "runs/train"
    steps: int = 20
    tasks_per_step: int = 2
    group_size: int = 4
    temperature: float = 1.0
    max_new_tokens: int = 16
    max_tokens: int = 1024
    truncation: Literal["turns", "tail", "drop"] = "turns"
    lr: float = 2e-5
    clip: float = 0.2
    kl_coef: float = 0.02
    ppo_epochs: int = 1
    minibatch_size: int = 8
    gamma: float = 1.0
    lam: float = 0.95
    gae: Literal["token", "turn"] = "token"
    credit: Literal["auto", "episode", "turn"] = "auto"
    vf_coef: float = 0.5
    critic_lr: float = 1e-3
    critic_gamma: float = 0.95
    critic_updates: int = 20
    lora: bool = False
    lora_rank: int = 8
    #: Train only the top ``train_layers`` decoder layers (0: all); cuts the backward pass on CPU.
    train_layers: int = 0
    seed: int = 0
    save_every: int = 0
    device: str = "cpu"
    #: Per-turn time limit of rollouts (None: none). A timed-out episode is masked out of training.
    turn_timeout_s: float | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    reward: RewardConfig = field(default_factory=RewardConfig)
    progress: bool = True

    def validate(self) -> None:
        """Raise ConfigError naming the first bad field."""
        if self.algo not in ("grpo", "ppo", "archer"):
            raise ConfigError(f"unknown algo {self.algo!r}; use grpo, ppo or archer")
        for name in (
            "steps",
            "tasks_per_step",
            "group_size",
            "max_new_tokens",
            "ppo_epochs",
            "minibatch_size",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.algo == "grpo" and self.group_size < 2:
            raise ConfigError("grpo needs group_size >= 2 (advantages are relative within a group)")
        if self.temperature <= 0:
            raise ConfigError("training samples from the policy: temperature must be > 0")
        if self.lr <= 0 or self.clip <= 0 or self.kl_coef < 0:
            raise ConfigError("need lr > 0, clip > 0 and kl_coef >= 0")
        if not 0 <= self.gamma <= 1 or not 0 <= self.lam <= 1 or not 0 <= self.critic_gamma <= 1:
            raise ConfigError("gamma, lam and critic_gamma must lie in [0, 1]")
        if self.gae not in ("token", "turn") or self.credit not in ("auto", "episode", "turn"):
            raise ConfigError("gae must be token|turn and credit auto|episode|turn")
        self.reward.validate()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (written to ``DIR/config.json``)."""
        return asdict(self)

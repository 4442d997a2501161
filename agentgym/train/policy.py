"""Torch pieces of the trainer: batches, per-token log-probs, the clipped loss, a value head.

Positions are aligned to ``input_ids``: ``logprobs[:, j]`` is the log-probability of token ``j``
given tokens ``< j`` (position 0 has none and is 0), so the loss mask, the sampler's log-probs and
the advantages of a :class:`~agentgym.train.tokens.TokenEpisode` index the same positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from agentgym.train.tokens import TokenEpisode


@dataclass
class Batch:
    """Right-padded tensors for a list of episodes (all ``[batch, length]``)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    loss_mask: torch.Tensor
    old_logprobs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor

    def to(self, device: str | torch.device) -> Batch:
        """The batch on ``device``."""
        return Batch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


def collate(
    episodes: Sequence[TokenEpisode],
    advantages: Sequence[np.ndarray],
    returns: Sequence[np.ndarray] | None = None,
    pad_id: int = 0,
) -> Batch:
    """Pad ``episodes`` (and their per-position advantages/returns) into a :class:`Batch`."""
    width = max(len(e) for e in episodes)
    n = len(episodes)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    attn = torch.zeros((n, width), dtype=torch.long)
    mask = torch.zeros((n, width))
    old = torch.zeros((n, width))
    adv = torch.zeros((n, width))
    ret = torch.zeros((n, width))
    for i, e in enumerate(episodes):
        k = len(e)
        ids[i, :k] = torch.tensor(e.input_ids)
        attn[i, :k] = 1
        mask[i, :k] = torch.tensor(e.loss_mask, dtype=torch.float32)
        if e.logprobs is not None:
            old[i, :k] = torch.tensor(e.logprobs)
        adv[i, :k] = torch.as_tensor(advantages[i][:k], dtype=torch.float32)
        if returns is not None:
            ret[i, :k] = torch.as_tensor(returns[i][:k], dtype=torch.float32)
    return Batch(ids, attn, mask, old, adv, ret)


def token_logprobs(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    temperature: float = 1.0,
    want_hidden: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-position log-probs of ``input_ids`` under ``model`` at ``temperature`` (and last hidden states).

    Matches what :class:`~agentgym.agents.hf_agent.HFAgent` reports for the tokens it samples:
    ``log_softmax(logits / T)`` (``T = 1`` for greedy decoding).
    """
    out = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=want_hidden)
    logits = out.logits[:, :-1].float()
    if temperature > 0 and temperature != 1.0:
        logits = logits / temperature
    target = input_ids[:, 1:].unsqueeze(-1)
    picked = logits.gather(-1, target).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    logp = torch.cat([torch.zeros_like(picked[:, :1]), picked], dim=1)
    hidden = out.hidden_states[-1] if want_hidden else None
    return logp, hidden


def clipped_policy_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    ref_logp: torch.Tensor | None,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip: float = 0.2,
    kl_coef: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO's clipped surrogate plus ``kl_coef`` times the k3 KL estimate to the reference, token-mean.

    Only positions where ``mask`` is 1 contribute; with an all-zero mask the loss is 0 and has no
    gradient path to the policy's parameters besides multiplication by 0.
    """
    n = mask.sum().clamp(min=1.0)
    ratio = torch.exp(logp - old_logp)
    surrogate = torch.minimum(ratio * advantages, torch.clamp(ratio, 1 - clip, 1 + clip) * advantages)
    per_token = -surrogate
    kl = torch.zeros_like(logp)
    if ref_logp is not None:
        diff = ref_logp - logp
        kl = torch.exp(diff) - diff - 1.0
        per_token = per_token + kl_coef * kl
    loss = (per_token * mask).sum() / n
    with torch.no_grad():
        clipped = ((ratio - 1.0).abs() > clip).float()
        stats = {
            "pg_loss": float((-surrogate * mask).sum() / n),
            "kl": float((kl * mask).sum() / n),
            "clip_frac": float((clipped * mask).sum() / n),
            "ratio_mean": float((ratio * mask).sum() / n),
        }
    return loss, stats


class ValueHead(nn.Module):
    """A linear value head on the policy's last hidden states (PPO's critic)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """Values per position, ``[batch, length]``."""
        return self.linear(hidden.float()).squeeze(-1)


def state_values(values: torch.Tensor) -> torch.Tensor:
    """Shift per-position head outputs so position ``j`` holds the value of the state before token ``j``."""
    return torch.cat([torch.zeros_like(values[:, :1]), values[:, :-1]], dim=1)

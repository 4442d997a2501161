"""ArCHer's high level: an utterance-level critic trained off-policy by TD on turn transitions.

After *ArCHer: Training Language Model Agents via Hierarchical Multi-Turn RL* (Zhou et al., 2024).
The critic has two heads on frozen text features: ``Q(s, a)`` on (state, state + utterance) and
``V(s)`` on the state. Each turn ``t`` of an episode is a transition ``(s_t, a_t, r_t, s_{t+1},
done)``; transitions go to a replay buffer and the critic is trained by TD:

- ``Q(s_t, a_t) -> r_t + gamma * (1 - done) * V_target(s_{t+1})``
- ``V(s_t) -> Q_target(s_t, a_t)`` (the sampled action stands in for ``E_{a~pi} Q(s_t, a)``)

with Polyak-averaged target heads. The low level (the token policy) then takes
``A_t = Q(s_t, a_t) - V(s_t)`` as the advantage of every token of utterance ``t``.

Features: the last hidden state of a frozen model (the trainer's reference model) at the last
token before the utterance (state) and at the utterance's last token (state + action), as ArCHer
uses a separate encoder for its critic.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from agentgym.train.tokens import TokenEpisode


@dataclass
class Transition:
    """One turn: state and state+action features, reward, next state features, episode end."""

    state: torch.Tensor
    action: torch.Tensor
    reward: float
    next_state: torch.Tensor
    done: bool


def turn_transitions(
    episode: TokenEpisode, hidden: torch.Tensor, rewards: Sequence[float], terminal: bool = True
) -> list[Transition]:
    """The transitions of one episode from its hidden states ``[length, hidden]`` (no batch dim)."""
    out = []
    spans = episode.turn_spans
    for t, (start, end) in enumerate(spans):
        state = hidden[max(start - 1, 0)]
        action = hidden[max(end - 1, 0)]
        last = t + 1 == len(spans)
        nxt = hidden[max(spans[t + 1][0] - 1, 0)] if not last else torch.zeros_like(state)
        out.append(Transition(state, action, float(rewards[t]), nxt, last and terminal))
    return out


def _mlp(n_in: int, width: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1)
    )


class UtteranceCritic(nn.Module):
    """``Q(s, a)`` and ``V(s)`` heads on state and state+utterance features."""

    def __init__(self, hidden_size: int, width: int = 256) -> None:
        super().__init__()
        self.q = _mlp(2 * hidden_size, width)
        self.v = _mlp(hidden_size, width)

    def q_value(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Q per row."""
        return self.q(torch.cat([state, action], dim=-1)).squeeze(-1)

    def value(self, state: torch.Tensor) -> torch.Tensor:
        """V per row."""
        return self.v(state).squeeze(-1)


class ArcherCritic:
    """The critic, its target copy, a replay buffer of transitions and the TD updates."""

    def __init__(
        self,
        hidden_size: int,
        gamma: float = 0.95,
        tau: float = 0.1,
        lr: float = 1e-3,
        buffer_size: int = 4096,
        width: int = 256,
        seed: int = 0,
    ) -> None:
        torch.manual_seed(seed)
        self.net = UtteranceCritic(hidden_size, width)
        self.target = copy.deepcopy(self.net).requires_grad_(False)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.gamma, self.tau = gamma, tau
        self.buffer: deque[Transition] = deque(maxlen=buffer_size)
        self.rng = np.random.default_rng(seed)

    def add(self, transitions: Sequence[Transition]) -> None:
        """Append transitions (features detached, on CPU) to the replay buffer."""
        for tr in transitions:
            self.buffer.append(
                Transition(
                    tr.state.detach().float().cpu(),
                    tr.action.detach().float().cpu(),
                    tr.reward,
                    tr.next_state.detach().float().cpu(),
                    tr.done,
                )
            )

    def td_loss(self, batch: Sequence[Transition]) -> tuple[torch.Tensor, dict[str, float]]:
        """The TD loss of Q and V on ``batch`` against the target heads."""
        s = torch.stack([b.state for b in batch])
        a = torch.stack([b.action for b in batch])
        r = torch.tensor([b.reward for b in batch])
        s2 = torch.stack([b.next_state for b in batch])
        done = torch.tensor([float(b.done) for b in batch])
        with torch.no_grad():
            q_target = r + self.gamma * (1.0 - done) * self.target.value(s2)
            v_target = self.target.q_value(s, a)
        q = self.net.q_value(s, a)
        v = self.net.value(s)
        q_loss = ((q - q_target) ** 2).mean()
        v_loss = ((v - v_target) ** 2).mean()
        return q_loss + v_loss, {
            "critic_q_loss": float(q_loss.detach()),
            "critic_v_loss": float(v_loss.detach()),
        }

    def update(self, steps: int = 20, batch_size: int = 64) -> dict[str, float]:
        """Run ``steps`` TD updates on replay samples; soft-update the target after each."""
        stats: dict[str, float] = {}
        if not self.buffer:
            return stats
        items = list(self.buffer)
        for _ in range(steps):
            idx = self.rng.integers(0, len(items), size=min(batch_size, len(items)))
            loss, stats = self.td_loss([items[i] for i in idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            with torch.no_grad():
                for p, tp in zip(self.net.parameters(), self.target.parameters(), strict=True):
                    tp.mul_(1 - self.tau).add_(self.tau * p)
        return stats

    @torch.no_grad()
    def advantages(self, transitions: Sequence[Transition]) -> list[float]:
        """``Q(s, a) - V(s)`` per transition (the utterance-level advantage)."""
        if not transitions:
            return []
        s = torch.stack([t.state.float().cpu() for t in transitions])
        a = torch.stack([t.action.float().cpu() for t in transitions])
        return (self.net.q_value(s, a) - self.net.value(s)).tolist()

    def state_dict(self) -> dict[str, object]:
        """Weights of the critic and its target (for checkpoints)."""
        return {"net": self.net.state_dict(), "target": self.target.state_dict()}

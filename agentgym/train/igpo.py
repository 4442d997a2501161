"""IGPO's scorer: the policy's log-probability of the gold answer, by teacher forcing, turn by turn.

For an episode with ``T`` turns, :meth:`AnswerScorer.score` renders ``T + 1`` contexts (the first
prompt; then the conversation after each turn, including the env's reply to it), appends the gold
answer as the assistant's reply, and returns the mean log-probability of the answer's tokens in
each context. :func:`agentgym.train.rewards.igpo_rewards` turns those into per-turn information
gains. The gold answer is the task's ``answer`` (``Trajectory.task["answer"]``), which the env never
shows the agent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.train.tokens import template_dicts_with_images
from agentgym.trajectory import Trajectory


def gold_answer(traj: Trajectory) -> str:
    """The task's answer as text; ConfigError when the trajectory has none."""
    answer = (traj.task or {}).get("answer")
    if answer is None:
        raise ConfigError(f"episode {traj.episode_id} has no task answer to score (IGPO needs Task.answer)")
    return answer if isinstance(answer, str) else str(answer)


def contexts(traj: Trajectory) -> list[list[Message]]:
    """The ``T + 1`` conversations before turn 0 and after each turn (with the env's reply)."""
    convo = list(traj.initial_observation)
    out = [list(convo)]
    for i, turn in enumerate(traj.turns):
        after = traj.turns[i + 1].observation if i + 1 < len(traj.turns) else traj.final_observation
        convo = [*convo, turn.action, *after]
        out.append(list(convo))
    return out


class AnswerScorer:
    """Scores the gold answer under a causal LM (the policy, or any scorer model) by teacher forcing.

    ``answer_format`` turns the answer into the assistant reply that is scored (default: the answer
    itself); ``temperature`` matches the policy's sampling temperature.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        answer_format: Callable[[str], str] = str,
        temperature: float = 1.0,
        max_tokens: int = 4096,
    ) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.answer_format, self.temperature, self.max_tokens = answer_format, temperature, max_tokens

    def _pair(self, convo: Sequence[Message], answer: str) -> tuple[list[int], int]:
        dicts = template_dicts_with_images(convo)
        prompt = self.tokenizer.apply_chat_template(dicts, tokenize=False, add_generation_prompt=True)
        p_ids = list(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        a_ids = list(self.tokenizer(answer, add_special_tokens=False)["input_ids"])
        if not a_ids:
            raise ConfigError("the gold answer tokenizes to nothing")
        keep = max(1, self.max_tokens - len(a_ids))
        return p_ids[-keep:] + a_ids, len(a_ids)

    @torch.no_grad()
    def score(self, traj: Trajectory) -> list[float]:
        """Mean log-prob of the gold answer in each of the episode's ``T + 1`` contexts."""
        answer = self.answer_format(gold_answer(traj))
        pairs = [self._pair(c, answer) for c in contexts(traj)]
        width = max(len(p) for p, _ in pairs)
        device = next(self.model.parameters()).device
        ids = torch.zeros((len(pairs), width), dtype=torch.long)
        attn = torch.zeros((len(pairs), width), dtype=torch.long)
        for i, (p, _) in enumerate(pairs):
            ids[i, : len(p)] = torch.tensor(p)
            attn[i, : len(p)] = 1
        logits = self.model(input_ids=ids.to(device), attention_mask=attn.to(device)).logits.float()
        if self.temperature > 0:
            logits = logits / self.temperature
        logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].to(device).unsqueeze(-1))
        logp = logp.squeeze(-1).cpu()
        out = []
        for i, (p, n_answer) in enumerate(pairs):
            end = len(p) - 1  # logp index j scores token j + 1
            out.append(float(logp[i, end - n_answer : end].mean()))
        return out

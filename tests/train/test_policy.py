"""The sampler's log-probs against recomputed ones; failed episodes add no gradient; IGPO's scorer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agentgym.train.tokens import assemble
from agentgym.trajectory import Trajectory

pytestmark = pytest.mark.model
torch = pytest.importorskip("torch")


def test_sampler_logprobs_equal_recomputed(agent: Any, rollouts: list[Trajectory]) -> None:
    """Each turn's log-probs recomputed on exactly what the sampler saw, and on assembled sequences.

    A spliced turn's log-probs were computed on the sampler's own (re-rendered) prompt, so the
    whole-sequence comparison covers the episodes without splices.
    """
    from agentgym.train.policy import collate, token_logprobs

    tol = 2e-3
    for traj in rollouts:  # per turn: the exact prompt + completion the sampler saw
        for turn in traj.turns:
            ids = torch.tensor([(turn.prompt_token_ids or []) + (turn.token_ids or [])])
            with torch.no_grad():
                logp, _ = token_logprobs(agent.model, ids, torch.ones_like(ids), agent.temperature)
            got = logp[0, -len(turn.token_ids or []) :]
            assert (got - torch.tensor(turn.logprobs)).abs().max().item() < tol
    eps = [e for e in (assemble(t, agent.tokenizer) for t in rollouts) if e.spliced_turns == 0]
    assert eps, "no episode without spliced turns"
    batch = collate(eps, [np.zeros(len(e)) for e in eps])
    with torch.no_grad():
        logp, _ = token_logprobs(agent.model, batch.input_ids, batch.attention_mask, agent.temperature)
    mask = batch.loss_mask.bool()
    assert mask.sum() == sum(e.n_agent_tokens for e in eps)
    diff = (logp - batch.old_logprobs)[mask].abs()
    assert diff.max().item() < tol, diff.max().item()
    assert logp[mask].mean().item() < 0  # real log-probs, not zeros


def _grads(model: Any, loss: Any) -> list[Any]:
    model.zero_grad()
    loss.backward()
    return [p.grad.clone() for p in model.parameters() if p.grad is not None]


def test_failed_episode_contributes_no_gradient(agent: Any, rollouts: list[Trajectory]) -> None:
    """A failed episode is dropped before batching; even if its tokens were batched, mask 0 adds nothing."""
    import dataclasses

    from agentgym.train.policy import clipped_policy_loss, collate, token_logprobs
    from agentgym.train.rewards import RewardConfig, episode_rewards

    ok, other = rollouts[0], rollouts[1]
    failed = dataclasses.replace(other, status="agent_error")
    assert episode_rewards(failed, RewardConfig()) is None
    model = agent.model
    layer = model.model.layers[-1]
    model.requires_grad_(False)
    layer.requires_grad_(True)  # the gradient of one layer keeps the test light
    try:
        ep_ok = assemble(ok, agent.tokenizer)
        ep_bad = assemble(failed, agent.tokenizer)
        ep_bad.loss_mask = [0] * len(ep_bad)  # what masking a failed episode means for its tokens
        adv = [np.ones(len(ep_ok)), np.full(len(ep_bad), 5.0)]

        def loss_of(eps: list[Any], advs: list[Any]) -> Any:
            b = collate(eps, advs)
            logp, _ = token_logprobs(model, b.input_ids, b.attention_mask)
            loss, _ = clipped_policy_loss(logp, b.old_logprobs, None, b.advantages, b.loss_mask)
            return loss

        alone = _grads(model, loss_of([ep_ok], adv[:1]))
        mixed = _grads(model, loss_of([ep_ok, ep_bad], adv))
        assert any(g.abs().sum() > 0 for g in alone)
        for a, m in zip(alone, mixed, strict=True):
            assert torch.allclose(a, m, atol=1e-5)
        only_bad = _grads(model, loss_of([ep_bad], adv[1:]))
        assert all(g.abs().sum() == 0 for g in only_bad)
    finally:
        model.zero_grad(set_to_none=True)
        model.requires_grad_(True)


def test_igpo_scorer_matches_direct_teacher_forcing(agent: Any, rollouts: list[Trajectory]) -> None:
    from agentgym.agents.chat_format import template_dicts
    from agentgym.train.igpo import AnswerScorer, contexts, gold_answer
    from agentgym.train.rewards import igpo_rewards

    traj = max(rollouts, key=lambda t: len(t.turns))
    scorer = AnswerScorer(agent.model, agent.tokenizer, temperature=1.0)
    scores = scorer.score(traj)
    assert len(scores) == len(traj.turns) + 1
    answer = gold_answer(traj)
    tok = agent.tokenizer
    for convo, got in zip(contexts(traj), scores, strict=True):
        text = tok.apply_chat_template(template_dicts(convo), tokenize=False, add_generation_prompt=True)
        p = tok(text, add_special_tokens=False)["input_ids"]
        a = tok(answer, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([p + a])
        with torch.no_grad():
            logp = torch.log_softmax(agent.model(ids).logits[0, :-1].float(), -1)
        want = float(np.mean([logp[len(p) - 1 + j, t].item() for j, t in enumerate(a)]))
        assert got == pytest.approx(want, abs=1e-4)
    rewards = igpo_rewards(traj, scores)
    assert len(rewards) == len(traj.turns) and rewards[-1] == pytest.approx(traj.verdict.score)

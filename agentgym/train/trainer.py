"""The RL loop: rollouts through the runner, rewards, advantages, clipped updates, KL, checkpoints.

One step: the current policy (an :class:`~agentgym.agents.hf_agent.HFAgent` whose model is the one
being trained) plays ``tasks_per_step x group_size`` episodes through
:func:`~agentgym.rollout.run_rollouts`; each trainable episode becomes a token sequence
(:func:`~agentgym.train.tokens.assemble`, the sampled ids), gets per-turn rewards
(:mod:`agentgym.train.rewards`) and per-token advantages (:mod:`agentgym.train.advantages`, or the
ArCHer critic), and the policy takes ``ppo_epochs`` passes of the clipped loss with a KL penalty to
the frozen initial model. Episodes that failed (status not trainable) are left out of the batch:
they add no gradient. Metrics go to ``DIR/metrics.jsonl`` (one line per step), checkpoints to
``DIR/checkpoint-N`` (a transformers folder, loadable as ``hf:DIR/checkpoint-N``), trajectories
to ``DIR/rollouts/trajectories.jsonl``.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentgym.agents.hf_agent import HFAgent
from agentgym.core.errors import ConfigError
from agentgym.rollout import RolloutConfig, run_rollouts
from agentgym.train import advantages as adv
from agentgym.train.archer import ArcherCritic, turn_transitions
from agentgym.train.config import TrainConfig
from agentgym.train.policy import Batch, ValueHead, clipped_policy_loss, collate, state_values, token_logprobs
from agentgym.train.rewards import episode_rewards
from agentgym.train.tokens import TokenEpisode, assemble, truncate
from agentgym.trajectory import Trajectory, TrajectoryStore


def make_policy_agent(config: TrainConfig) -> HFAgent:
    """The sampling agent for ``config.model`` (``bundled`` or ``hf:PATH``) at the training temperature."""
    kwargs: dict[str, Any] = {
        "temperature": config.temperature,
        "max_new_tokens": config.max_new_tokens,
        "seed": config.seed,
        "device": config.device,
        "max_batch_size": config.tasks_per_step * config.group_size,
    }
    if config.model == "bundled":
        from agentgym.agents.bundled import BundledAgent

        return BundledAgent(**kwargs)
    kind, _, path = config.model.partition(":")
    if kind != "hf" or not path:
        raise ConfigError(f"--model must be 'bundled' or 'hf:PATH', got {config.model!r}")
    return HFAgent(path, **kwargs)


def _top_layers(model: Any, k: int) -> list[int] | None:
    """Indices of the top ``k`` decoder layers (None: all layers train)."""
    if k <= 0:
        return None
    n = len(model.model.layers)
    return list(range(max(0, n - k), n))


class Trainer:
    """Runs :class:`TrainConfig` (see the module docstring)."""

    def __init__(self, config: TrainConfig, agent: HFAgent | None = None) -> None:
        config.validate()
        self.config = config
        self.out = Path(config.out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(config.seed)
        self.agent = agent or make_policy_agent(config)
        self.agent.load()
        self.tokenizer = self.agent.tokenizer
        base = self.agent.model
        if config.lora:
            from peft import LoraConfig, get_peft_model

            targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
            layers = _top_layers(base, config.train_layers)
            lora = LoraConfig(
                r=config.lora_rank,
                lora_alpha=2 * config.lora_rank,
                target_modules=targets,
                layers_to_transform=layers,
            )
            self.model = get_peft_model(base, lora)
            self.reference = None  # the base model with the adapter disabled
        else:
            self.model = base
            self.reference = copy.deepcopy(base).eval().requires_grad_(False)
            layers = _top_layers(base, config.train_layers)
            if layers is not None:  # full weights of the top layers only; backward stops there
                base.requires_grad_(False)
                for i in layers:
                    base.model.layers[i].requires_grad_(True)
        self.model.eval()  # no dropout: recomputed log-probs must match the sampler's
        self.agent._model = self.model  # the agent samples from the model being trained
        hidden = int(base.config.hidden_size)
        self.value_head = ValueHead(hidden).to(config.device) if config.algo == "ppo" else None
        params = [p for p in self.model.parameters() if p.requires_grad]
        if self.value_head is not None:
            params += list(self.value_head.parameters())
        self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
        self.critic = (
            ArcherCritic(hidden, gamma=config.critic_gamma, lr=config.critic_lr, seed=config.seed)
            if config.algo == "archer"
            else None
        )
        self.pad_id = self.tokenizer.pad_token_id or 0
        self.store = TrajectoryStore(self.out / "rollouts")
        (self.out / "config.json").write_text(json.dumps(config.to_dict(), indent=2, default=str))

    # -- one step ------------------------------------------------------------------------------
    def rollout(self, step: int) -> list[Trajectory]:
        """Play this step's episodes with the current policy (stored under ``rollouts/``)."""
        c = self.config
        rc = RolloutConfig(
            episodes=c.tasks_per_step,
            samples_per_task=c.group_size,
            concurrency=c.tasks_per_step * c.group_size,
            seed=c.seed * 1_000_003 + step,
            env_kwargs=dict(c.env_kwargs),
            progress=False,
            turn_timeout_s=c.turn_timeout_s,
            episode_timeout_s=None,
        )
        trajs = run_rollouts(c.env_id, self.agent, rc).trajectories
        for t in trajs:
            t.episode_id = f"step{step:05d}-{t.episode_id}"
            t.group_id = step * c.tasks_per_step + t.group_id
            self.store.append(t)
        return trajs

    def prepare(self, trajs: list[Trajectory]) -> tuple[list[TokenEpisode], list[list[float]]]:
        """Token episodes and per-turn rewards of the trainable trajectories (others dropped)."""
        episodes, rewards = [], []
        for traj in trajs:
            r = episode_rewards(traj, self.config.reward, self._answer_scorer())
            if r is None:
                continue
            ep = truncate(assemble(traj, self.tokenizer), self.config.max_tokens, self.config.truncation)
            if ep is None or not ep.turn_spans:
                continue
            episodes.append(ep)
            rewards.append(r[: len(ep.turn_spans)])
        return episodes, rewards

    def _answer_scorer(self) -> Any:
        if self.config.reward.kind != "igpo":
            return None
        from agentgym.train.igpo import AnswerScorer

        return AnswerScorer(self.model, self.tokenizer, temperature=self.config.temperature).score

    def _credit(self) -> str:
        if self.config.credit != "auto":
            return self.config.credit
        return "episode" if self.config.reward.kind == "outcome" else "turn"

    def advantages(
        self, episodes: list[TokenEpisode], rewards: list[list[float]], batch: Batch, hidden: Any = None
    ) -> tuple[list[np.ndarray], list[np.ndarray] | None, dict[str, float]]:
        """Per-position advantages (and value targets for PPO) of each episode.

        ``hidden``: the reference model's last hidden states of ``batch`` (ArCHer's critic features).
        """
        c, stats = self.config, {}
        lengths = [len(e) for e in episodes]
        if c.algo == "grpo":
            groups = [e.group_id for e in episodes]
            if self._credit() == "episode":
                a = adv.grpo_advantages([sum(r) for r in rewards], groups)
                return (
                    [
                        adv.broadcast_to_tokens([a[i]] * len(e.turn_spans), e.turn_spans, lengths[i])
                        for i, e in enumerate(episodes)
                    ],
                    None,
                    stats,
                )
            # turn credit (IGPO's): normalize all turn rewards in the group, then discounted sums
            flat = [x for r in rewards for x in r]
            flat_groups = [g for g, r in zip(groups, rewards, strict=True) for _ in r]
            z = adv.grpo_advantages(flat, flat_groups)
            out, k = [], 0
            for i, e in enumerate(episodes):
                n = len(rewards[i])
                out.append(
                    adv.broadcast_to_tokens(
                        adv.discounted_returns(z[k : k + n], c.gamma), e.turn_spans, lengths[i]
                    )
                )
                k += n
            return out, None, stats
        if c.algo == "archer":
            if hidden is None:
                _, hidden = self.reference_forward(batch, want_hidden=True)
            assert self.critic is not None
            per_ep = [turn_transitions(e, hidden[i], rewards[i]) for i, e in enumerate(episodes)]
            self.critic.add([t for ts in per_ep for t in ts])
            stats.update(self.critic.update(c.critic_updates))
            out = [
                adv.broadcast_to_tokens(self.critic.advantages(ts), e.turn_spans, lengths[i])
                for i, (e, ts) in enumerate(zip(episodes, per_ep, strict=True))
            ]
            return out, None, stats
        assert self.value_head is not None
        with torch.no_grad():
            b = batch.to(c.device)
            _, h = token_logprobs(self.model, b.input_ids, b.attention_mask, c.temperature, True)
            values = state_values(self.value_head(h)).cpu().numpy()  # type: ignore[arg-type]
        out, rets = [], []
        for i, e in enumerate(episodes):
            if c.gae == "token":
                tr = adv.token_rewards(rewards[i], e.turn_spans, lengths[i])
                a, r = adv.token_gae(tr, values[i, : lengths[i]], e.loss_mask, c.gamma, c.lam)
            else:
                v_turn = [float(values[i, s]) for s, _ in e.turn_spans]
                a_t, r_t = adv.gae(rewards[i], v_turn, c.gamma, c.lam)
                a = adv.broadcast_to_tokens(a_t, e.turn_spans, lengths[i])
                r = adv.broadcast_to_tokens(r_t, e.turn_spans, lengths[i])
            out.append(a)
            rets.append(r)
        return out, rets, stats

    @torch.no_grad()
    def _fill_old_logprobs(self, episodes: list[TokenEpisode], batch: Batch) -> None:
        """Recompute "old" log-probs where the sampler's do not apply to the assembled sequence.

        A spliced turn was sampled on a re-rendered prompt and a text-only episode has none; the
        policy has not been updated since it sampled, so its log-probs on the assembled sequence
        are the right reference for the ratio.
        """
        rows = [i for i, e in enumerate(episodes) if e.spliced_turns or e.logprobs is None]
        if not rows:
            return
        idx = torch.as_tensor(rows)
        dev = self.config.device
        ids, attn = batch.input_ids[idx].to(dev), batch.attention_mask[idx].to(dev)
        logp, _ = token_logprobs(self.model, ids, attn, self.config.temperature)
        batch.old_logprobs[idx] = logp.cpu()

    @torch.no_grad()
    def reference_forward(self, batch: Batch, want_hidden: bool = False) -> tuple[torch.Tensor, Any]:
        """Log-probs (and last hidden states) under the frozen initial policy.

        Without LoRA that is a frozen copy of the initial model; with LoRA it is the base model
        with the adapter disabled.
        """
        b = batch.to(self.config.device)
        args = (b.input_ids, b.attention_mask, self.config.temperature, want_hidden)
        if self.reference is not None:
            return token_logprobs(self.reference, *args)
        with self.model.disable_adapter():
            return token_logprobs(self.model, *args)

    def update(self, batch: Batch, ref_logp: torch.Tensor | None = None) -> dict[str, float]:
        """``ppo_epochs`` passes of clipped minibatch updates; returns averaged stats."""
        c = self.config
        dev = c.device
        n = batch.input_ids.shape[0]
        mask = batch.loss_mask
        if c.algo in ("ppo", "archer"):  # GRPO's advantages are already group-scaled
            whitened = adv.whiten(batch.advantages.numpy(), mask.numpy())
            batch.advantages = torch.as_tensor(whitened, dtype=torch.float32)
        totals: dict[str, float] = {}
        count = 0
        rng = np.random.default_rng(c.seed)
        for _ in range(c.ppo_epochs):
            order = rng.permutation(n)
            for lo in range(0, n, c.minibatch_size):
                idx = torch.as_tensor(order[lo : lo + c.minibatch_size])
                mb = Batch(*(getattr(batch, f)[idx].to(dev) for f in Batch.__dataclass_fields__))
                want = self.value_head is not None
                logp, hidden = token_logprobs(
                    self.model, mb.input_ids, mb.attention_mask, c.temperature, want
                )
                ref = ref_logp[idx].to(dev) if ref_logp is not None else None
                loss, stats = clipped_policy_loss(
                    logp, mb.old_logprobs, ref, mb.advantages, mb.loss_mask, c.clip, c.kl_coef
                )
                if self.value_head is not None and hidden is not None:
                    values = state_values(self.value_head(hidden))
                    v_loss = (((values - mb.returns) ** 2) * mb.loss_mask).sum() / mb.loss_mask.sum().clamp(
                        min=1
                    )
                    loss = loss + c.vf_coef * v_loss
                    stats["value_loss"] = float(v_loss.detach())
                self.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(
                    [p for g in self.optimizer.param_groups for p in g["params"]], 1.0
                )
                self.optimizer.step()
                stats["loss"] = float(loss.detach())
                for k, v in stats.items():
                    totals[k] = totals.get(k, 0.0) + v
                count += 1
        return {k: v / max(count, 1) for k, v in totals.items()}

    def step(self, step: int) -> dict[str, Any]:
        """One full step; returns its metrics (also appended to ``metrics.jsonl``)."""
        c = self.config
        t0 = time.perf_counter()
        trajs = self.rollout(step)
        t1 = time.perf_counter()
        episodes, rewards = self.prepare(trajs)
        scores = [t.reward for t in trajs if t.status == "ok"]
        metrics: dict[str, Any] = {
            "step": step,
            "episodes": len(trajs),
            "trainable": len(episodes),
            "mean_reward": float(np.mean(scores)) if scores else 0.0,
            "success": float(np.mean([t.passed for t in trajs])) if trajs else 0.0,
            "mean_turns": float(np.mean([len(t.turns) for t in trajs])) if trajs else 0.0,
            "rollout_s": t1 - t0,
        }
        if episodes:
            batch = collate(episodes, [np.zeros(len(e)) for e in episodes], pad_id=self.pad_id)
            ref_logp, hidden = None, None
            if c.kl_coef > 0 or c.algo == "archer":  # one reference pass: KL and critic features
                ref_logp, hidden = self.reference_forward(batch, want_hidden=c.algo == "archer")
            a, r, stats = self.advantages(episodes, rewards, batch, hidden)
            batch = collate(episodes, a, r, pad_id=self.pad_id)
            self._fill_old_logprobs(episodes, batch)
            metrics.update(stats)
            metrics.update(self.update(batch, ref_logp if c.kl_coef > 0 else None))
            metrics["agent_tokens"] = int(sum(e.n_agent_tokens for e in episodes))
        metrics["step_s"] = time.perf_counter() - t0
        with (self.out / "metrics.jsonl").open("a") as fh:
            fh.write(json.dumps(metrics) + "\n")
        if c.save_every and (step + 1) % c.save_every == 0:
            self.save(self.out / f"checkpoint-{step + 1}")
        return metrics

    def save(self, folder: Path) -> Path:
        """Write a transformers folder (LoRA merged) with the tokenizer, and the critic/value head."""
        folder.mkdir(parents=True, exist_ok=True)
        model = self.model
        if self.config.lora:
            model = copy.deepcopy(self.model).merge_and_unload()
        model.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))
        if self.critic is not None:
            torch.save(self.critic.state_dict(), folder / "archer_critic.pt")
        if self.value_head is not None:
            torch.save(self.value_head.state_dict(), folder / "value_head.pt")
        return folder

    def run(self) -> list[dict[str, Any]]:
        """All steps, with a progress bar; a final checkpoint in ``DIR/checkpoint-final``."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        history = []
        columns = (
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, disable=not self.config.progress) as bar:
            task = bar.add_task("train", total=self.config.steps, stats="")
            for step in range(self.config.steps):
                m = self.step(step)
                history.append(m)
                bar.update(task, advance=1, stats=f"reward {m['mean_reward']:.3f} kl {m.get('kl', 0):.4f}")
        self.save(self.out / "checkpoint-final")
        self.store.close()
        return history

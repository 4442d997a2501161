"""The TRL ``rollout_func``: whole AgentGym episodes played by the model ``GRPOTrainer`` trains.

Built by :func:`agentgym.integrations.trl.rollout_func` (see that module for how prompts pose
tasks and how rewards pass). Each call plays one episode per prompt through the runner
(:func:`~agentgym.rollout.arun_episode`, so failures end up as statuses, not exceptions) with an
:class:`~agentgym.agents.hf_agent.HFAgent` sampling from ``trainer.model``, and turns each episode
into TRL's fields with :func:`~agentgym.train.tokens.assemble` (the ids the model sampled, no
re-tokenization): ``prompt_ids`` (the first prompt), ``completion_ids`` (everything after it:
the model's turns and the env's messages between them), ``env_mask`` (1 exactly on the model's
tokens) and ``logprobs`` (the sampler's, 0 on env tokens). Needs torch and transformers.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from typing import Any

from agentgym.agents.hf_agent import HFAgent
from agentgym.core.errors import ConfigError
from agentgym.core.task import Task, canonical_json
from agentgym.integrations.trl import as_task, derive_seed
from agentgym.registry import make
from agentgym.rollout import EpisodePlan, RolloutConfig, arun_episode
from agentgym.train.rewards import outcome_score
from agentgym.train.tokens import TokenEpisode, assemble, truncate
from agentgym.trajectory import Trajectory

_SEED_TEXT = re.compile(r"\d{1,19}")


class _PolicyAgent(HFAgent):
    """An HFAgent on a model and tokenizer already loaded (the trainer's), not on a folder."""

    def __init__(self, model: Any, tokenizer: Any, **kwargs: Any) -> None:
        self._given = (model, tokenizer)
        super().__init__(str(getattr(model, "name_or_path", "") or "trl-policy"), name="trl-policy", **kwargs)

    def _check_model_dir(self) -> None:
        """Nothing to check: the model is in memory."""

    def load(self) -> None:
        """Adopt the given model and tokenizer (the same stop ids and pad id as HFAgent.load)."""
        if self._model is not None:
            return
        model, tok = self._given
        if not tok.chat_template:
            raise ConfigError("the trainer's tokenizer has no chat template")
        eos = model.generation_config.eos_token_id
        stops = [eos] if isinstance(eos, int) else list(eos or [])
        if tok.eos_token_id is not None and tok.eos_token_id not in stops:
            stops.append(tok.eos_token_id)
        if not stops:
            raise ConfigError("the trained model defines no end-of-sequence token")
        self._stop_ids = stops
        self._pad_id = tok.pad_token_id if tok.pad_token_id is not None else stops[0]
        template = tok.chat_template if isinstance(tok.chat_template, str) else json.dumps(tok.chat_template)
        self._native_tools = "tools" in template
        self._tokenizer, self._model = tok, model


def _prompt_text(prompt: Any) -> str:
    """The text of a prompt's last message (or of a plain-text prompt)."""
    if isinstance(prompt, str):
        return prompt
    if not prompt:
        return ""
    content = prompt[-1].get("content", "")
    if isinstance(content, str):
        return content
    return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))


class TRLRollout:
    """A TRL ``rollout_func``: ``(prompts, trainer) -> dict`` (see the module docstring).

    Args:
        env_id: the registered env to play.
        seed: mixed into the env seeds of prompts that do not carry one, and the sampling seeds.
        max_new_tokens: tokens per model turn (default: the trainer's ``max_completion_length``).
        env_kwargs: passed to :func:`~agentgym.registry.make`.
        scored_statuses: episode statuses that get a reward; others (``env_error``,
            ``agent_error``, ``timeout``, ``verifier_error``) get None, TRL's missing reward.
        max_prompt_tokens: the agent drops old messages beyond this (such turns are spliced).

    ``last_trajectories`` and ``last_episodes`` keep the latest call's episodes (for logging and
    checks); completions longer than ``max_completion_length`` are cut at its end.
    """

    def __init__(
        self,
        env_id: str,
        *,
        seed: int = 0,
        max_new_tokens: int | None = None,
        env_kwargs: dict[str, Any] | None = None,
        scored_statuses: Sequence[str] = ("ok", "truncated"),
        max_prompt_tokens: int = 4096,
    ) -> None:
        self.env_id, self.seed, self.max_new_tokens = env_id, seed, max_new_tokens
        self.env_kwargs = dict(env_kwargs or {})
        self.scored_statuses = tuple(scored_statuses)
        self.max_prompt_tokens = max_prompt_tokens
        make(env_id, **self.env_kwargs).close()  # a bad id or kwargs fail here, not mid-training
        self.calls = 0
        self.last_trajectories: list[Trajectory] = []
        self.last_episodes: list[TokenEpisode | None] = []
        self.__name__ = f"agentgym_rollout[{env_id}]"

    def pose(self, prompt: Any) -> tuple[int, Task | None]:
        """The env seed and task (None: the env draws one from the seed) that ``prompt`` names."""
        text = _prompt_text(prompt).strip()
        if _SEED_TEXT.fullmatch(text):
            return int(text) % 2**63, None
        if text.startswith("{"):
            try:
                task = as_task(text)
            except Exception:  # any other JSON text is a plain key
                task = None
            if task is not None:
                return derive_seed(self.seed, task.id), task
        return derive_seed(self.seed, canonical_json(prompt)), None

    def plans(self, prompts: Sequence[Any], step: int) -> list[tuple[EpisodePlan, Task | None]]:
        """One plan per prompt; equal prompts share a group (and a task) and differ in sample index."""
        groups: dict[str, int] = {}
        counts: dict[str, int] = {}
        out = []
        for i, prompt in enumerate(prompts):
            key = canonical_json(prompt)
            group = groups.setdefault(key, len(groups))
            sample = counts[key] = counts.get(key, -1) + 1
            env_seed, task = self.pose(prompt)
            agent_seed = derive_seed(self.seed, "agent", step, self.calls, i) % 2**32
            plan = EpisodePlan(
                f"trl-{step:06d}-{self.calls:06d}-{i:04d}", group, sample, env_seed, agent_seed
            )
            out.append((plan, task))
        return out

    def reward(self, traj: Trajectory) -> float | None:
        """The episode's outcome, or None when its status is not scored (e.g. an unscored verdict)."""
        if traj.status not in self.scored_statuses or not traj.turns:
            return None
        if traj.verdict is not None and traj.verdict.unscored:
            return None
        return outcome_score(traj)

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        """Play one episode per prompt with ``trainer.model``; return TRL's rollout fields."""
        step = int(getattr(getattr(trainer, "state", None), "global_step", 0) or 0)
        tokenizer = getattr(trainer.processing_class, "tokenizer", trainer.processing_class)
        model = trainer.accelerator.unwrap_model(trainer.model)
        budget = int(trainer.max_completion_length)
        agent = _PolicyAgent(
            model,
            tokenizer,
            max_new_tokens=self.max_new_tokens or budget,
            temperature=float(trainer.temperature),
            top_p=float(getattr(trainer, "top_p", 1.0) or 1.0),
            max_batch_size=max(1, len(prompts)),
            seed=derive_seed(self.seed, "sampler", step, self.calls),
            device=str(model.device),
            max_prompt_tokens=self.max_prompt_tokens,
        )
        config = RolloutConfig(
            env_kwargs=self.env_kwargs, progress=False, turn_timeout_s=None, episode_timeout_s=None
        )
        trajs = asyncio.run(self._play(self.plans(prompts, step), agent, config))
        self.calls += 1
        out: dict[str, list[Any]] = {
            k: [] for k in ("prompt_ids", "completion_ids", "logprobs", "env_mask", "env_reward")
        }
        out["env_status"], out["env_turn_rewards"] = [], []
        episodes: list[TokenEpisode | None] = []
        fallback = agent._pad_id
        for traj in trajs:
            ep = self._episode(traj, tokenizer, budget)
            episodes.append(ep)
            if ep is None:  # no turn to train on: one masked token keeps TRL's shapes; no reward
                prompt, completion, logps, mask = [fallback], [fallback], [0.0], [0]
            else:
                start = ep.turn_spans[0][0]
                prompt, completion = ep.input_ids[:start], ep.input_ids[start:]
                mask = ep.loss_mask[start:]
                logps = ep.logprobs[start:] if ep.logprobs is not None else [float("nan")] * len(completion)
            out["prompt_ids"].append(prompt)
            out["completion_ids"].append(completion)
            out["logprobs"].append(logps)
            out["env_mask"].append(mask)
            out["env_reward"].append(self.reward(traj) if ep is not None else None)
            out["env_status"].append(traj.status)
            out["env_turn_rewards"].append([float(t.reward) for t in traj.turns])
        self.last_trajectories, self.last_episodes = trajs, episodes
        return out

    async def _play(
        self, plans: list[tuple[EpisodePlan, Task | None]], agent: HFAgent, config: RolloutConfig
    ) -> list[Trajectory]:
        def factory() -> Any:
            return make(self.env_id, **self.env_kwargs)

        try:
            runs = [arun_episode(plan, factory, self.env_id, agent, config, task) for plan, task in plans]
            return list(await asyncio.gather(*runs))
        finally:
            await agent.aclose()

    @staticmethod
    def _episode(traj: Trajectory, tokenizer: Any, budget: int) -> TokenEpisode | None:
        """The episode's token sequence, its completion cut to ``budget`` tokens; None without turns."""
        if not traj.turns:
            return None
        try:
            ep = assemble(traj, tokenizer)
        except ConfigError:  # e.g. a template that cannot be spliced: no tokens to train on
            return None
        if not ep.turn_spans:
            return None
        return truncate(ep, ep.turn_spans[0][0] + budget, "tail")

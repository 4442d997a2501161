"""verl's agent loop for every AgentGym env: ``agent_name: "agentgym"`` in a verl dataset row.

verl (>= 0.9) plugs an external environment in as an ``AgentLoopBase`` registered by name; each
dataset row names its loop in ``agent_name``. :class:`AgentGymAgentLoop` is registered as
``"agentgym"``. For each row it rebuilds the env from the row's episode column
(:class:`~agentgym.train.trainer_rows.EpisodeRef`: env id, seed, kwargs, task), plays it turn by
turn with verl's ``server_manager.generate`` (token ids in, token ids and log-probs out), and returns
an ``AgentLoopOutput``:

- ``prompt_ids``: the first observation rendered with the chat template; ``response_ids``: every
  later token, the model's completions (``response_mask`` 1) and the env's messages between them
  (mask 0). The tokens are assembled by the connector (:func:`agentgym.train.tokens.assemble`,
  one implementation for every path): each turn's prompt is the previous prompt plus the sampled
  completion plus :func:`~agentgym.train.tokens.env_segment` (the end of the turn, the env's new
  messages and the next generation header), so nothing the model sampled is re-tokenized.
- ``response_logprobs``: the server's log-probs on the model's tokens (0 on the env's), or None
  when the server returns none (verl asks for them with ``rollout.calculate_log_probs``).
- ``reward_score``: the sum of the per-turn rewards of :func:`agentgym.train.rewards.episode_rewards`
  under the loop's :class:`~agentgym.train.rewards.RewardConfig` (default ``outcome``: the
  final verdict's score); the per-turn rewards are in ``extra_fields["turn_scores"]``.
- ``num_turns``: chat turns as verl counts them (first prompt, each reply, each observation
  between replies: twice the agent's turns).

**Unscored episodes** (a status the reward config does not train on: ``verifier_error``,
``env_error``, ``agent_error``, and by default ``truncated``) return ``reward_score=0.0`` with an
all-zero ``response_mask``: verl's loss aggregation leaves fully masked sequences out, so they carry
no gradient; ``extra_fields["agentgym_scored"]`` is False and ``extra_fields["agentgym_status"]``
says why. (A group baseline such as GRPO's still counts the 0.) An episode is cut, with status
``truncated`` and the env's verdict of the episode so far, when the response would pass
``rollout.response_length`` or the loop's ``max_turns``. Errors of the inference server propagate.

Images in observations become ``<image>`` placeholders (text models; pixels are not sent).

Use it from a verl config with ``actor_rollout_ref.rollout.agent.agent_loop_config_path`` pointing
at the file :func:`write_agent_loop_config` writes (verl's workers import the class from there);
rows come from :func:`agentgym.train.trainer_rows.verl_row`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput, register

from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.tools import ToolSpec, tools_prompt
from agentgym.core.verdict import as_verdict
from agentgym.registry import make, unwrap
from agentgym.train.rewards import DEFAULT_TRAINABLE, RewardConfig, episode_rewards
from agentgym.train.tokens import (
    TokenEpisode,
    _encode,
    _render,
    assemble,
    env_segment,
    template_dicts_with_images,
)
from agentgym.train.trainer_rows import AGENT_NAME, EPISODE_COLUMN, EpisodeRef
from agentgym.trajectory import Trajectory, Turn

__all__ = ["AGENT_NAME", "AgentGymAgentLoop", "EpisodeLimits", "VerlEpisode", "play", "to_output"]


@dataclass(frozen=True)
class EpisodeLimits:
    """Token and turn budgets of one episode (verl's ``prompt_length``/``response_length``)."""

    prompt_length: int
    response_length: int
    max_turns: int | None = None


@dataclass
class VerlEpisode:
    """A played episode: its trajectory (with sampled ids), the assembled tokens, timings."""

    trajectory: Trajectory
    tokens: TokenEpisode | None
    generate_s: float = 0.0
    env_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def with_tools(messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[Message]:
    """The first observation with the env's tools described in its system message (text tool form)."""
    if not tools:
        return list(messages)
    described = tools_prompt(tools)
    if messages and messages[0].role == "system":
        return [Message("system", f"{messages[0].text}\n\n{described}".strip()), *messages[1:]]
    return [Message("system", described), *messages]


def prompt_ids(tokenizer: Any, messages: Sequence[Message]) -> list[int]:
    """The first prompt's ids, rendered as :mod:`agentgym.train.tokens` renders (placeholders for images)."""
    return _encode(
        tokenizer, _render(tokenizer, template_dicts_with_images(messages), generation_prompt=True)
    )


async def play(
    ref: EpisodeRef,
    server_manager: Any,
    tokenizer: Any,
    sampling_params: Mapping[str, Any],
    limits: EpisodeLimits,
    request_id: str | None = None,
) -> VerlEpisode:
    """Play one episode of ``ref`` with ``server_manager.generate``; env failures end up as statuses."""
    request_id = request_id or uuid4().hex
    traj = Trajectory(episode_id=request_id, env_id=ref.env_id, agent="verl", seed=ref.seed)
    episode = VerlEpisode(traj, None)
    try:
        env = await asyncio.to_thread(make, ref.env_id, **dict(ref.env_kwargs))
    except Exception as exc:
        return _failed(episode, "env_error", f"make failed: {type(exc).__name__}: {exc}")
    try:
        await _turns(episode, env, ref, server_manager, tokenizer, sampling_params, limits, request_id)
    finally:
        try:
            env.close()
        except Exception as exc:  # closing must not lose the episode
            traj.error = traj.error or f"close failed: {exc}"
    if traj.turns:
        episode.tokens = assemble(traj, tokenizer)
    return episode


async def _turns(
    episode: VerlEpisode,
    env: Any,
    ref: EpisodeRef,
    server_manager: Any,
    tokenizer: Any,
    sampling_params: Mapping[str, Any],
    limits: EpisodeLimits,
    request_id: str,
) -> None:
    traj = episode.trajectory
    base = unwrap(env)
    try:
        obs, _ = await env.areset(seed=ref.seed, options=ref.reset_options())
    except Exception as exc:
        _failed(episode, "env_error", f"reset failed: {type(exc).__name__}: {exc}")
        return
    traj.task_id = base.task.id if base.task is not None else None
    traj.task = base.task.to_dict() if base.task is not None else None
    history = with_tools(obs, base.tools)
    traj.initial_observation = list(history)
    ids = prompt_ids(tokenizer, history)
    if len(ids) > limits.prompt_length:
        _failed(episode, "agent_error", f"the first prompt has {len(ids)} tokens > prompt_length")
        episode.extra["prompt_ids"] = ids[-limits.prompt_length :]
        return
    start, shown = len(ids), list(history)
    while True:
        remaining = limits.response_length - (len(ids) - start)
        if remaining <= 0 or (limits.max_turns is not None and len(traj.turns) >= limits.max_turns):
            traj.status, traj.verdict = "truncated", base.verdict()
            traj.final_observation = shown
            return
        params = {
            **sampling_params,
            "max_tokens": min(int(sampling_params.get("max_tokens", remaining)), remaining),
        }
        t0 = time.perf_counter()
        out = await server_manager.generate(
            request_id=request_id, prompt_ids=list(ids), sampling_params=params
        )
        t1 = time.perf_counter()
        completion = [int(i) for i in out.token_ids]
        logprobs = [float(x) for x in out.log_probs] if getattr(out, "log_probs", None) else None
        action = Message("assistant", tokenizer.decode(completion, skip_special_tokens=True))
        try:
            obs, reward, terminated, truncated, info = await env.astep(action)
        except Exception as exc:
            _failed(episode, "env_error", f"step failed: {type(exc).__name__}: {exc}")
            return
        t2 = time.perf_counter()
        episode.generate_s, episode.env_s = episode.generate_s + t1 - t0, episode.env_s + t2 - t1
        verdict = as_verdict(info.pop("verdict", None))
        traj.turns.append(
            Turn(
                index=len(traj.turns),
                observation=shown,
                action=action,
                reward=float(reward),
                terminated=terminated,
                truncated=truncated,
                token_ids=completion,
                logprobs=logprobs,
                prompt_token_ids=list(ids),
                agent_s=t1 - t0,
                env_s=t2 - t1,
                info=info,
            )
        )
        ids = ids + completion
        if terminated or truncated:
            traj.final_observation, traj.verdict = list(obs), verdict
            if verdict is not None and verdict.unscored:
                traj.status, traj.error = "verifier_error", str(verdict.error)
            else:
                traj.status = "ok" if terminated else "truncated"
            return
        ids = ids + env_segment(tokenizer, [*history, action], obs, completion)
        history, shown = [*history, action, *obs], list(obs)


def _failed(episode: VerlEpisode, status: str, error: str) -> VerlEpisode:
    episode.trajectory.status = status  # type: ignore[assignment]
    episode.trajectory.error = error[:2000]
    return episode


def to_output(
    episode: VerlEpisode, tokenizer: Any, reward: RewardConfig, response_length: int
) -> AgentLoopOutput:
    """The ``AgentLoopOutput`` of a played episode (see the module docstring for each field)."""
    traj, ep = episode.trajectory, episode.tokens
    rewards = episode_rewards(traj, reward) if ep is not None else None
    if ep is not None:
        cut = len(ep.prompt_ids())
        prompt, response = ep.input_ids[:cut], ep.input_ids[cut:][:response_length]
        mask = ep.loss_mask[cut:][:response_length] if rewards is not None else [0] * len(response)
        logprobs = ep.logprobs[cut:][:response_length] if ep.logprobs is not None else None
    else:  # no turn was played: one end-of-sequence token, masked, keeps verl's shapes sane
        prompt = list(episode.extra.get("prompt_ids", []))
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        response, mask, logprobs = [eos], [0], None
    n = len(traj.turns)
    extra = {
        "turn_scores": list(rewards) if rewards is not None else [float(t.reward) for t in traj.turns],
        "agentgym_scored": rewards is not None,
        "agentgym_status": traj.status,
        "agentgym_error": traj.error,
        "agentgym_task_id": traj.task_id,
        "agentgym_verdict": traj.verdict.to_dict() if traj.verdict is not None else None,
    }
    return AgentLoopOutput(
        prompt_ids=prompt,
        response_ids=response,
        response_mask=mask,
        response_logprobs=logprobs,
        reward_score=float(sum(rewards)) if rewards is not None else 0.0,
        num_turns=2 * n if n else 1,
        metrics=AgentLoopMetrics(generate_sequences=episode.generate_s, tool_calls=episode.env_s),
        extra_fields=extra,
    )


@register(AGENT_NAME)
class AgentGymAgentLoop(AgentLoopBase):
    """verl agent loop playing the AgentGym episode a row names (see the module docstring).

    Extra options (keys next to ``_target_`` in the agent-loop config file): ``max_turns`` (default
    ``rollout.multi_turn.max_assistant_turns``, else the env's own cap), ``reward`` (a
    :class:`~agentgym.train.rewards.RewardConfig` as a dict, default ``outcome``) and
    ``trainable_statuses`` (shortcut for the reward config's; default ``["ok"]``).
    """

    def __init__(
        self,
        *args: Any,
        max_turns: int | None = None,
        reward: Mapping[str, Any] | None = None,
        trainable_statuses: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        multi_turn = self.rollout_config.get("multi_turn", None) or {}
        max_turns = max_turns or multi_turn.get("max_assistant_turns", None)
        self.limits = EpisodeLimits(
            int(self.rollout_config.prompt_length), int(self.rollout_config.response_length), max_turns
        )
        config = dict(reward or {})
        if trainable_statuses is not None:
            config["trainable_statuses"] = list(trainable_statuses)
        config.setdefault("trainable_statuses", list(DEFAULT_TRAINABLE))
        self.reward = RewardConfig.from_dict(config)
        if self.reward.kind == "igpo":
            raise ConfigError("igpo rewards need the policy's answer scores; use outcome, turn or gra")

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        """Play the row's episode (its ``agentgym`` column) and return verl's output."""
        ref = EpisodeRef.parse(kwargs.get(EPISODE_COLUMN))
        episode = await play(ref, self.server_manager, self.tokenizer, sampling_params, self.limits)
        return to_output(episode, self.tokenizer, self.reward, self.limits.response_length)


def agent_loop_config(**options: Any) -> list[dict[str, Any]]:
    """The entry of verl's ``agent_loop_config_path`` file naming the AgentGym loop (plus options)."""
    return [{"name": AGENT_NAME, "_target_": f"{__name__}.{AgentGymAgentLoop.__qualname__}", **options}]


def write_agent_loop_config(path: str | Path, **options: Any) -> Path:
    """Write the agent-loop config file verl reads (``rollout.agent.agent_loop_config_path``)."""
    import yaml

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(agent_loop_config(**options), sort_keys=False), encoding="utf-8")
    return out

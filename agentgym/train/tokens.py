"""Token-exact training data: one trajectory becomes one token sequence with a loss mask.

:func:`assemble` turns a :class:`~agentgym.trajectory.Trajectory` into a :class:`TokenEpisode`:
``input_ids``, a ``loss_mask`` that is 1 exactly on the tokens the agent sampled, the sampler's
log-probs aligned to them, and each turn's ``(start, end)`` span.

Two sources:

- **Sampled ids** (the HF/bundled agent stores ``prompt_token_ids``, ``token_ids`` and
  ``logprobs`` on each turn). The sequence starts with turn 0's prompt; each later prompt must
  extend what came before (prompt + sampled completion), and only its new suffix (the env's
  messages and the next generation header) is appended. No text is re-tokenized, so there is no
  drift. Where a chat template re-renders earlier turns differently (the later prompt does not
  extend the sequence, e.g. re-tokenized text merged differently, or old messages were dropped to
  fit the context), the turn is **spliced**: the sampled ids are kept and only the new env messages
  are rendered (:func:`env_segment`); ``spliced_turns`` counts those turns. The log-probs of a
  spliced turn were computed by the sampler on its own (re-rendered) prompt; the trainer
  recomputes them on the assembled sequence before using them as the ratio's reference.
- **Text only** (e.g. an OpenAI agent): :func:`assemble_text` renders the conversation with the
  chat template one message at a time and checks that the segments, tokenized apart, concatenate
  to exactly the tokenization of the whole rendering (:class:`TemplateMismatch` otherwise).

Images are not tokenized by text models: they are kept as ``<image>`` placeholders in rendered
text and their PNG bytes are carried in ``images`` alongside. :func:`truncate` applies a policy to
over-long episodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.trajectory import Trajectory

IMAGE_PLACEHOLDER = "<image>"
_SENTINEL = "\u2063AGENTGYM-SPLICE\u2063"
TruncationPolicy = Literal["turns", "tail", "drop"]


class TemplateMismatch(ConfigError):
    """A chat template renders a conversation in a way its segments cannot reproduce."""


@dataclass(frozen=True)
class ImageRef:
    """An image shown to the agent: the turn whose observation held it, and its PNG bytes."""

    turn: int
    png: bytes


@dataclass
class TokenEpisode:
    """One episode as one token sequence (see the module docstring)."""

    episode_id: str
    group_id: int
    input_ids: list[int]
    loss_mask: list[int]
    logprobs: list[float] | None
    turn_spans: list[tuple[int, int]]
    status: str = "ok"
    spliced_turns: int = 0
    dropped_turns: int = 0
    images: list[ImageRef] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def n_agent_tokens(self) -> int:
        """How many tokens carry loss (the agent's own)."""
        return sum(self.loss_mask)

    def prompt_ids(self) -> list[int]:
        """The ids before the first agent token (the first prompt)."""
        return self.input_ids[: self.turn_spans[0][0]] if self.turn_spans else list(self.input_ids)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (images omitted; they travel apart)."""
        return {
            "episode_id": self.episode_id,
            "group_id": self.group_id,
            "input_ids": self.input_ids,
            "loss_mask": self.loss_mask,
            "logprobs": self.logprobs,
            "turn_spans": [list(s) for s in self.turn_spans],
            "status": self.status,
            "spliced_turns": self.spliced_turns,
            "dropped_turns": self.dropped_turns,
            "n_images": len(self.images),
            "meta": self.meta,
        }


def _images(traj: Trajectory) -> list[ImageRef]:
    out = [ImageRef(0, png) for m in traj.initial_observation for png in m.images]
    for t in traj.turns[1:]:
        out.extend(ImageRef(t.index, png) for m in t.observation for png in m.images)
    return out


def template_dicts_with_images(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Chat-template dicts in the text tool form, with an ``<image>`` placeholder per image."""
    from agentgym.agents.chat_format import template_dicts

    dicts = template_dicts(messages)
    for entry, m in zip(dicts, messages, strict=True):
        n = len(m.images)
        if n:
            entry["content"] = IMAGE_PLACEHOLDER * n + entry["content"]
    return dicts


def _render(tokenizer: Any, dicts: list[dict[str, Any]], generation_prompt: bool) -> str:
    return str(tokenizer.apply_chat_template(dicts, tokenize=False, add_generation_prompt=generation_prompt))


def _encode(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []


def env_segment(
    tokenizer: Any, history: Sequence[Message], observation: Sequence[Message], sampled_ids: Sequence[int]
) -> list[int]:
    """Token ids of what follows a sampled completion: end-of-turn, the env's messages, next header.

    ``history`` ends with the assistant message whose completion was ``sampled_ids``. The template
    renders the conversation with a sentinel in place of that message's content; the text after
    the sentinel is the template's closing of the turn plus the new messages and the generation
    prompt. Closing text the sampler already produced (e.g. an end-of-turn token) is not repeated.
    """
    if not history or history[-1].role != "assistant":
        raise ConfigError("env_segment needs a history ending with the assistant's message")
    dicts = template_dicts_with_images([*history[:-1], Message("assistant", _SENTINEL), *observation])
    rendered = _render(tokenizer, dicts, generation_prompt=True)
    at = rendered.rfind(_SENTINEL)
    if at < 0:
        raise TemplateMismatch("the chat template dropped the assistant's message")
    tail = rendered[at + len(_SENTINEL) :]
    if sampled_ids:
        last = tokenizer.convert_ids_to_tokens([sampled_ids[-1]])[0]
        special = set(getattr(tokenizer, "all_special_tokens", ()))
        # Some tokenizers (e.g. SmolLM2's under transformers < 5.11) leave the end-of-turn token
        # out of all_special_tokens while flagging it special among the added tokens.
        added = getattr(tokenizer, "added_tokens_decoder", None) or {}
        special.update(t.content for t in added.values() if getattr(t, "special", False))
        if last in special and tail.startswith(last):
            tail = tail[len(last) :]
    return _encode(tokenizer, tail)


def assemble(traj: Trajectory, tokenizer: Any = None) -> TokenEpisode:
    """Build the token sequence of a trajectory from the ids its agent sampled.

    Falls back to :func:`assemble_text` (needs ``tokenizer``) when the turns carry no token ids.
    A ``tokenizer`` is needed only for spliced turns (see the module docstring).
    """
    turns = traj.turns
    if not turns or any(t.token_ids is None or t.prompt_token_ids is None for t in turns):
        if tokenizer is None:
            raise ConfigError(f"episode {traj.episode_id} has no sampled token ids; pass a tokenizer")
        return assemble_text(traj, tokenizer)
    ids: list[int] = []
    mask: list[int] = []
    logps: list[float] | None = []
    spans: list[tuple[int, int]] = []
    spliced = 0
    history: list[Message] = list(traj.initial_observation)
    for t in turns:
        prompt = t.prompt_token_ids or []
        n = len(ids)
        if n == 0:
            new = list(prompt)
        elif prompt[:n] == ids:
            new = prompt[n:]
        else:
            if tokenizer is None:
                msg = f"episode {traj.episode_id} turn {t.index}: prompt does not extend the sequence"
                raise TemplateMismatch(msg + "; pass a tokenizer to splice")
            new = env_segment(tokenizer, history, t.observation, turns[t.index - 1].token_ids or [])
            spliced += 1
        if t.index > 0:
            history.extend(t.observation)
        ids.extend(new)
        mask.extend([0] * len(new))
        completion = t.token_ids or []
        start = len(ids)
        ids.extend(completion)
        mask.extend([1] * len(completion))
        spans.append((start, len(ids)))
        history.append(t.action)
        if logps is not None:
            if t.logprobs is None or len(t.logprobs) != len(completion):
                logps = None
            else:
                logps.extend([0.0] * len(new))
                logps.extend(t.logprobs)
    return TokenEpisode(
        traj.episode_id,
        traj.group_id,
        ids,
        mask,
        logps,
        spans,
        status=traj.status,
        spliced_turns=spliced,
        images=_images(traj),
        meta={"task_id": traj.task_id, "env_id": traj.env_id},
    )


def assemble_text(traj: Trajectory, tokenizer: Any) -> TokenEpisode:
    """Build the token sequence by rendering the conversation with the chat template.

    Segment ``k`` is the text the template adds for message ``k`` (for the agent's messages: their
    content and the turn's closing). Raises :class:`TemplateMismatch` unless every rendering
    extends the previous one and the segments, tokenized apart, equal the whole tokenized.
    """
    messages: list[Message] = list(traj.initial_observation)
    agent_at: list[int] = []
    for t in traj.turns:
        if t.index > 0:
            messages.extend(t.observation)
        agent_at.append(len(messages))
        messages.append(t.action)
    dicts = template_dicts_with_images(messages)
    ids: list[int] = []
    mask: list[int] = []
    spans: list[tuple[int, int]] = []
    texts: list[str] = []
    done = ""
    agent = set(agent_at)
    for k in range(len(dicts)):
        if k in agent:
            prompt = _render(tokenizer, dicts[:k], generation_prompt=True)
            _extend(texts, ids, mask, done, prompt, 0, tokenizer)
            done = prompt
        rendered = _render(tokenizer, dicts[: k + 1], generation_prompt=False)
        start = len(ids)
        _extend(texts, ids, mask, done, rendered, int(k in agent), tokenizer)
        if k in agent:
            spans.append((start, len(ids)))
        done = rendered
    if _encode(tokenizer, done) != ids:
        raise TemplateMismatch(f"episode {traj.episode_id}: segments tokenize differently from the whole")
    return TokenEpisode(
        traj.episode_id,
        traj.group_id,
        ids,
        mask,
        None,
        spans,
        status=traj.status,
        images=_images(traj),
        meta={"task_id": traj.task_id, "env_id": traj.env_id, "rendered": True},
    )


def _extend(
    texts: list[str], ids: list[int], mask: list[int], done: str, rendered: str, flag: int, tokenizer: Any
) -> None:
    if not rendered.startswith(done):
        raise TemplateMismatch("the chat template re-renders earlier messages when one is added")
    piece = rendered[len(done) :]
    texts.append(piece)
    new = _encode(tokenizer, piece)
    ids.extend(new)
    mask.extend([flag] * len(new))


def truncate(ep: TokenEpisode, max_tokens: int, policy: TruncationPolicy = "turns") -> TokenEpisode | None:
    """Fit ``ep`` into ``max_tokens``; returns None when the policy drops it.

    ``turns`` keeps the longest run of whole turns that fits (None if not even the first does);
    ``tail`` cuts the sequence at ``max_tokens`` (a cut turn keeps its first tokens); ``drop``
    drops any episode that is too long.
    """
    if max_tokens < 1:
        raise ConfigError(f"max_tokens must be >= 1, got {max_tokens}")
    if policy not in ("turns", "tail", "drop"):
        raise ConfigError(f"unknown truncation policy {policy!r}; use turns, tail or drop")
    if len(ep) <= max_tokens:
        return ep
    if policy == "drop":
        return None
    if policy == "turns":
        keep = [s for s in ep.turn_spans if s[1] <= max_tokens]
        if not keep:
            return None
        cut = keep[-1][1]
    else:
        cut = max_tokens
        keep = [(a, min(b, cut)) for a, b in ep.turn_spans if a < cut]
    return TokenEpisode(
        ep.episode_id,
        ep.group_id,
        ep.input_ids[:cut],
        ep.loss_mask[:cut],
        ep.logprobs[:cut] if ep.logprobs is not None else None,
        keep,
        status=ep.status,
        spliced_turns=ep.spliced_turns,
        dropped_turns=ep.dropped_turns + len(ep.turn_spans) - len(keep),
        images=[im for im in ep.images if im.turn < len(keep)],
        meta=dict(ep.meta),
    )

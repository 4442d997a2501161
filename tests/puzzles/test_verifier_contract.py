"""Every generator-backed env scores its terminal verdict through the verifier contract.

A generator whose verify raises, hangs or returns junk gives an unscored verdict (``error`` set):
not a crash and not a silent 0; the runner records the episode as ``verifier_error``. A 10 MB reply
never reaches the verifier (an error observation, no crash).
"""

from __future__ import annotations

import threading

import pytest

import agentgym.environments.search.qa as qa_module
from agentgym.agents.scripted import OracleAgent
from agentgym.core.verdict import Verdict
from agentgym.registry import make, unwrap
from agentgym.rollout import RolloutConfig, run_rollouts
from agentgym.verifiers.wrapped import GeneratorVerifier

RELEASE = threading.Event()


@pytest.fixture(autouse=True, scope="module")
def _release_hung_threads():
    yield
    RELEASE.set()


def _raise(*args, **kwargs) -> Verdict:
    raise RuntimeError("scorer exploded")


def _hang(*args, **kwargs) -> Verdict:
    RELEASE.wait(30)
    return Verdict(1.0, True, "late")


def _junk(*args, **kwargs) -> Verdict:
    return {"score": 1.0}  # type: ignore[return-value]


BROKEN = {
    "raises": (_raise, "scorer exploded"),
    "hangs": (_hang, "timed out"),
    "junk": (_junk, "not a Verdict"),
}
GENERATED = ["puzzles/countdown-v0", "puzzles/sudoku-v0", "rg/basic_arithmetic-v0"]


def _broken_env(env_id: str, how: str, monkeypatch: pytest.MonkeyPatch):
    fn, _ = BROKEN[how]
    env = make(env_id)
    base = unwrap(env)
    assert isinstance(base.verifier, GeneratorVerifier)  # type: ignore[attr-defined]
    monkeypatch.setattr(type(base.generator), "verify", fn)  # type: ignore[attr-defined]
    base.verifier = GeneratorVerifier(base.generator, timeout_s=0.3)  # type: ignore[attr-defined]
    return env, base


@pytest.mark.parametrize("how", sorted(BROKEN))
@pytest.mark.parametrize("env_id", GENERATED)
def test_generated_task_env_verdict_is_unscored(env_id, how, monkeypatch):
    env, base = _broken_env(env_id, how, monkeypatch)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(base.oracle_action())
    verdict = info["verdict"]
    assert terminated and isinstance(verdict, Verdict) and verdict.unscored
    assert BROKEN[how][1] in verdict.error and reward == 0.0


def test_the_runner_records_a_verifier_error_not_a_zero(monkeypatch):
    monkeypatch.setattr(type(make("puzzles/countdown-v0").unwrapped.generator), "verify", _raise)
    result = run_rollouts(
        "puzzles/countdown-v0", OracleAgent(), RolloutConfig(2, seed=0, concurrency=1, progress=False)
    )
    for traj in result.trajectories:
        assert traj.status == "verifier_error" and traj.verdict is not None and traj.verdict.unscored


@pytest.mark.parametrize("env_id", [*GENERATED, "search/qa-v0"])
def test_a_10mb_reply_is_an_error_observation(env_id):
    env = make(env_id)
    env.reset(seed=0)
    obs, _, terminated, _, info = env.step("<answer>" + "9" * 10_000_000 + "</answer>")
    assert not terminated and "limit" in obs[0].text and "action_error" in info


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_search_qa_answer_is_scored_under_the_contract(how, monkeypatch):
    monkeypatch.setattr(qa_module, "score_response", BROKEN[how][0])
    env = make("search/qa-v0")
    base = unwrap(env)
    base.scorer.timeout_s = 0.3
    env.reset(seed=0)
    _, _, terminated, _, info = env.step(f"<answer>{base.gold_answers()[0]}</answer>")
    assert terminated and info["verdict"].unscored and BROKEN[how][1] in info["verdict"].error

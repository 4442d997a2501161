import pytest

from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import make_verifier, reference_task
from agentgym.verifiers.process import TurnVerifier, gated_accumulation, turn_scores


def test_turn_verifier_scores_each_assistant_turn():
    fmt = TurnVerifier(make_verifier("format", tags=["answer"]))
    task = reference_task("")
    verdicts = fmt.score_turns(
        task, [Message("assistant", "<answer>1</answer>"), "no tags", "<answer>x</answer>"]
    )
    assert [v.passed for v in verdicts] == [True, False, True]
    assert fmt.name == "turns:format"


def test_gated_accumulation_counts_step_rewards_only_when_the_outcome_passes():
    steps = [0.5, 1.0, 0.0]
    assert gated_accumulation(steps, outcome=1.0) == [0.5, 1.0, 1.0]
    assert gated_accumulation(steps, outcome=0.0) == [
        0.0,
        0.0,
        0.0,
    ]  # failed goal: no farming of step rewards
    assert gated_accumulation(steps, outcome=0.6, threshold=0.5, weight=0.1) == pytest.approx(
        [0.05, 0.1, 0.6]
    )
    assert gated_accumulation([], outcome=1.0) == []


def test_unscored_turns_count_as_zero():
    assert turn_scores([Verdict(1.0, True, "x"), Verdict.failed("x", "down")]) == [1.0, 0.0]

"""The JSON-answer verifier and the judge's reply parser go through the bounded decoder."""

from __future__ import annotations

import pytest

from agentgym.core.task import Task
from agentgym.verifiers.model.judge_prompt import parse_verdict
from agentgym.verifiers.rule.structure import JsonVerifier, parse_json_answer

TASK = Task("toy", {"q": 1})


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[" * 100_000, "deeper"),
        ('{"a": ' * 70 + "1" + "}" * 70, "deeper"),
        ('{"x": NaN}', "NaN"),
        ("[1e400]", "NaN and Infinity"),
        ("1" * 5000, "not valid JSON"),
        ('{"a": "\\ud800"', "not valid JSON"),
    ],
    ids=["array-100000", "object-70", "nan", "overflow", "long-int", "truncated"],
)
def test_hostile_json_answers_are_format_errors_not_exceptions(text, says):
    verdict = JsonVerifier(source="whole").verify(TASK, text)
    assert not verdict.passed and verdict.error is None
    assert says in verdict.details["format_error"]
    with pytest.raises(ValueError, match="JSON"):
        parse_json_answer(text)


def test_valid_json_answers_still_parse():
    assert parse_json_answer('```json\n{"a": [1, 2.5, "\\u00e9"]}\n```') == {"a": [1, 2.5, "é"]}
    assert JsonVerifier(source="whole").verify(TASK, '{"a": 1}').passed


def test_judge_json_verdicts_skip_what_does_not_decode():
    assert parse_verdict('{"verdict": "correct"}').correct
    assert parse_verdict('{"verdict": true, "n": ' + "1" * 5000 + "}") is None
    assert parse_verdict('{"verdict": "no"} {"x": ' + "9" * 20_000 + "}").correct is False

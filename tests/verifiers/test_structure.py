import time

import pytest

from agentgym.core.errors import VerifierError
from agentgym.verifiers.base import make_verifier, reference_task, register_verifier
from agentgym.verifiers.rule.structure import FormatVerifier, JsonVerifier, json_depth, parse_json_answer

TASK = reference_task(None)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("<think>hmm</think><answer>5</answer>", True),
        ("\n<think>\nhmm\n</think>\n\n<answer>5</answer>\n", True),
        ("<THINK>hmm</THINK><answer>5</answer>", True),
        ("<think>hmm</think><answer>5</answer> trailing", False),
        ("intro <think>hmm</think><answer>5</answer>", False),
        ("<think>hmm</think> between <answer>5</answer>", False),
        ("<answer>5</answer><think>hmm</think>", False),
        ("<think></think><answer>5</answer>", False),
        ("<think>hmm</think><answer>  </answer>", False),
        ("<think>a</think><think>b</think><answer>5</answer>", False),
        ("<think>a</think><answer>5</answer><answer>6</answer>", False),
        ("<think>a<answer>5</answer></think>", False),
        ("<think>hmm<answer>5</answer>", False),
        ("hmm</think><answer>5</answer>", False),
        ("<think>hmm</think>", False),
        ("<answer>5</answer>", False),
        ("", False),
    ],
)
def test_default_format_is_think_then_answer(response, expected):
    verdict = FormatVerifier().verify(TASK, response)
    assert verdict.passed is expected and verdict.score == float(expected)
    assert verdict.error is None
    assert bool(verdict.details["problems"]) is not expected


def test_format_options():
    assert FormatVerifier(prefill="<think>").verify(TASK, "hmm</think><answer>5</answer>").passed
    assert (
        FormatVerifier(text_outside=True).verify(TASK, "Sure! <think>a</think> so <answer>5</answer>.").passed
    )
    unordered = FormatVerifier(ordered=False)
    assert unordered.verify(TASK, "<answer>5</answer><think>hmm</think>").passed
    assert FormatVerifier(nonempty=False).verify(TASK, "<think></think><answer>5</answer>").passed
    three = FormatVerifier(tags=("plan", "code", "answer"))
    assert three.verify(TASK, "<plan>p</plan><code>c</code><answer>a</answer>").passed
    assert not three.verify(TASK, "<plan>p</plan><answer>a</answer>").passed
    for bad in ((), ("think", "think"), ("no spaces",)):
        with pytest.raises(VerifierError):
            FormatVerifier(tags=bad)


def test_format_scans_hostile_input_quickly():
    start = time.perf_counter()
    for text in ("<think>" * 20_000, "</answer>" * 10_000, "<" * 100_000):
        assert not FormatVerifier().verify(TASK, text).passed
    assert time.perf_counter() - start < 2.0


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ('<answer>{"name": "Ada", "age": 36}</answer>', True),
        ('Here you go:\n```json\n{"name": "Ada", "age": 36}\n```', True),
        ('{"name": "Ada", "age": 36}', True),
        ('<answer>```json\n{"name": "Ada", "age": 36}\n```</answer>', True),
        ('<answer>{"name": "Ada"}</answer>', False),
        ('<answer>{"name": "Ada", "age": -1}</answer>', False),
        ('<answer>{"name": "Ada", "age": 36, "x": 1}</answer>', False),
        ('<answer>{"name": "Ada", "age": "36"}</answer>', False),
        ('<answer>{"name": "Ada", "age": 36</answer>', False),
        ('<answer>{"name": "Ada", "age": NaN}</answer>', False),
        ('<answer>{"a": 1}</answer> then <answer>{"b": 2}</answer>', False),  # two different answers
    ],
)
def test_json_schema(response, expected):
    verdict = JsonVerifier().verify(reference_task(None, schema=SCHEMA), response)
    assert verdict.passed is expected and verdict.error is None


def test_json_options_and_caps():
    assert JsonVerifier(schema=SCHEMA).verify(TASK, '{"name": "Ada", "age": 1}').passed
    assert JsonVerifier().verify(TASK, "[1, 2, 3]").passed  # no schema: parsing is enough
    assert not JsonVerifier(source="final").verify(TASK, "[1, 2, 3]").passed
    assert not JsonVerifier(source="whole").verify(TASK, "<answer>[1]</answer>").passed
    matcher = JsonVerifier(match_answer=True)
    assert matcher.verify(reference_task({"a": [1, 2]}), '<answer>{"a": [1, 2]}</answer>').passed
    assert not matcher.verify(reference_task({"a": [1, 2]}), '<answer>{"a": [2, 1]}</answer>').passed
    deep = "[" * 100 + "]" * 100
    assert "deeper" in JsonVerifier().verify(TASK, deep).details["format_error"]
    assert "longer" in JsonVerifier(max_chars=10).verify(TASK, "[" + "1," * 20 + "1]").details["format_error"]
    assert json_depth('{"a": "[[[[", "b": [1, {"c": 2}]}') == 3
    assert parse_json_answer('```\n{"a": 1}\n```') == {"a": 1}
    with pytest.raises(ValueError):
        parse_json_answer("1" * 5000)  # more digits than Python's int() accepts
    with pytest.raises(VerifierError):
        JsonVerifier(source="anywhere")


def test_invalid_schema_is_unscored():
    verdict = JsonVerifier().verify(reference_task(None, schema={"type": "bogus"}), '{"a": 1}')
    assert verdict.unscored and "invalid JSON schema" in verdict.error


@pytest.fixture
def isolated_registry(monkeypatch):
    """Register into a copy of the registry so that other tests see the real one."""
    import agentgym.verifiers.builtin  # noqa: F401  (the built-ins register into the real registry first)
    from agentgym.verifiers import base

    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))


def test_registration_lines_work(isolated_registry):
    register_verifier("format", "agentgym.verifiers.rule.structure:FormatVerifier")
    register_verifier("json", "agentgym.verifiers.rule.structure:JsonVerifier")
    assert isinstance(make_verifier("format", tags=["answer"]), FormatVerifier)
    assert isinstance(make_verifier("json", schema=SCHEMA), JsonVerifier)

import contextlib
import time

import pytest

from agentgym.verifiers.rule.answer import AnswerFormatError
from agentgym.verifiers.rule.extract import (
    MAX_FINAL_CHARS,
    FinalAnswerError,
    extract_final,
    final_candidates,
    normalize_answer,
)


@pytest.mark.parametrize(
    ("text", "expected", "source"),
    [
        (r"so the answer is \boxed{42}.", "42", "boxed"),
        (r"$\boxed{\frac{1}{2}}$", r"\frac{1}{2}", "boxed"),
        (r"\boxed{\frac{\sqrt{3}}{2}}", r"\frac{\sqrt{3}}{2}", "boxed"),
        (r"\boxed{\{1, 2\}}", r"\{1, 2\}", "boxed"),  # escaped braces do not count
        (r"\boxed{\left\{ x \right.}", r"\left\{ x \right.", "boxed"),
        (r"\fbox{7}", "7", "boxed"),
        (r"\boxed {7}", "7", "boxed"),
        (r"\boxed 7", "7", "boxed"),
        (r"\boxed{\boxed{3}}", "3", "boxed"),
        (r"\boxed{5} ... and again \boxed{ 5 }", "5", "boxed"),  # the same answer repeated
        (r"\boxed{\dfrac{1}{2}} i.e. \boxed{\frac{1}{2}}", r"\frac{1}{2}", "boxed"),
        (r"\boxed{1}, \boxed{2}", "1, 2", "boxed"),  # side by side: one list answer
        (r"$\boxed{1}$ and $\boxed{2}$", "1, 2", "boxed"),
        ("<answer> 12 </answer>", "12", "answer"),
        ("<ANSWER>12</Answer>", "12", "answer"),
        (r"<think>x</think><answer>The answer is \boxed{3}.</answer>", "3", "answer"),
        (r"\boxed{3} so <answer>3</answer>", "3", "answer"),
        ("I will write the result in \\boxed{} form: \\boxed{9}", "9", "boxed"),  # empty box ignored
        (r"we use \boxed notation: \boxed{9}", "9", "boxed"),  # \boxed named in prose
        (r"\boxed{ oops ... later \boxed{4}", "4", "boxed"),  # unterminated box BEFORE the final one
    ],
)
def test_the_last_complete_final_answer_is_extracted(text, expected, source):
    final = extract_final(text)
    assert final.text == expected
    assert final.source == source
    assert text[final.start : final.end]  # the span points into the reply


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "none"),
        ("the answer is 42", "none"),
        (r"\boxed{}", "none"),
        (r"\boxed{2} ... \boxed{3}", "conflict"),
        (r"\boxed{2} then <answer>3</answer>", "conflict"),
        (r"<answer>1</answer><answer>2</answer>", "conflict"),
        (r"\boxed{x} ... \boxed{X}", "conflict"),  # case matters in mathematics
        (r"\boxed{12} vs \boxed{1 2}", "conflict"),  # digits split by a space are a different answer
        (r"\boxed{5} and then \boxed{", "unterminated"),
        (r"\boxed{5} and then \boxed{6", "unterminated"),
        (r"\boxed{5} and then <answer>6", "unterminated"),
        (r"\boxed{\frac{1}{2}", "unterminated"),
        ("<answer>5", "unterminated"),
        (r"ends with \boxed", "unterminated"),
    ],
)
def test_missing_truncated_or_conflicting_answers_fail(text, reason):
    with pytest.raises(FinalAnswerError) as info:
        extract_final(text)
    assert info.value.reason == reason
    assert isinstance(info.value, AnswerFormatError)  # one error family for every rule verifier


def test_conflicts_keep_the_distinct_candidates_in_order():
    with pytest.raises(FinalAnswerError) as info:
        extract_final(r"\boxed{1/2} hmm \boxed{0.5} hmm \boxed{1/2}")
    assert info.value.candidates == ("1/2", "0.5")


def test_candidates_and_normalization():
    found, unterminated = final_candidates(r"\boxed{1} <answer>2</answer> \boxed{")
    assert [f.text for f in found] == ["1", "2"]
    assert unterminated > found[-1].start
    assert normalize_answer(r"$\dfrac{1}{2}$.") == normalize_answer(r"\frac{1}{2}")
    assert normalize_answer(r"\text{ B }") == "B"
    assert normalize_answer(r"\left( 1, 2 \right)") == "(1,2)"
    assert normalize_answer("1 2") != normalize_answer("12")
    assert normalize_answer("x + 1") == normalize_answer("x+1")
    assert extract_final(r"\boxed{5}", max_chars=1).text == "5"


def test_too_long_final_answer_fails():
    with pytest.raises(FinalAnswerError) as info:
        extract_final(r"\boxed{" + "1" * (MAX_FINAL_CHARS + 1) + "}")
    assert info.value.reason == "too_long"


@pytest.mark.parametrize(
    "text",
    [
        "\\boxed{" * 15_000,
        "{" * 100_000,
        "\\" * 100_000,
        "<answer>" * 12_000,
        "\\boxed{1}" * 11_000,
        "<answer>1</answer>" * 5_000,
        "word " * 20_000 + "\\boxed{42}",
        "\\boxed{" + "\\frac{" * 8_000 + "1" + "}{2}" * 8_000 + "}",
        "\\boxed{" * 9_000 + "1" + "}" * 9_000,
    ],
)
def test_hostile_100kb_inputs_scan_in_linear_time(text):
    start = time.perf_counter()
    with contextlib.suppress(FinalAnswerError):
        extract_final(text)
    assert time.perf_counter() - start < 0.5

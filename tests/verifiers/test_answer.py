import pytest

from agentgym.verifiers.rule.answer import (
    MAX_ANSWER_CHARS,
    AnswerFormatError,
    extract_answer,
    last_answer_block,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<answer>42</answer>", "42"),
        ("draft <answer>1</answer> final <ANSWER> 2 </Answer>", "2"),
        ("<answer>1</answer> then <answer>2", "1"),  # an unterminated last block does not count
        ("<answer><answer>inner</answer>", "inner"),
        ("<answer>\n multi\nline \n</answer>", "multi\nline"),
    ],
)
def test_last_complete_block_wins(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize("text", ["", "42", "<answer>42", "42</answer>", "</answer><answer>"])
def test_no_complete_block_is_a_format_error(text):
    with pytest.raises(AnswerFormatError, match="no <answer>"):
        extract_answer(text)
    assert last_answer_block(text) is None


def test_oversized_answers_are_rejected_and_hostile_input_is_handled():
    with pytest.raises(AnswerFormatError, match="longer than"):
        extract_answer("<answer>" + "x" * (MAX_ANSWER_CHARS + 1) + "</answer>")
    with pytest.raises(AnswerFormatError):
        extract_answer("<answer>" * 50_000)  # many unclosed openings: linear, no backtracking blow-up

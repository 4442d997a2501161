"""Strict final-answer extraction shared by the rule verifiers.

The final answer is the body of the last complete ``<answer>...</answer>`` block. A reply without
one (or with only an unterminated one) has no final answer; a body over ``MAX_ANSWER_CHARS`` is
rejected before any parsing, so hostile replies cost nothing.
"""

from __future__ import annotations

__all__ = ["MAX_ANSWER_CHARS", "AnswerFormatError", "extract_answer", "last_answer_block"]

MAX_ANSWER_CHARS = 200_000
_OPEN, _CLOSE = "<answer>", "</answer>"


class AnswerFormatError(ValueError):
    """The reply holds no readable final answer; the message says what is wrong."""


def last_answer_block(text: str) -> str | None:
    """The raw body of the last complete ``<answer>`` block, or None (linear time, no size cap)."""
    low = text.lower()
    end = low.rfind(_CLOSE)
    start = low.rfind(_OPEN, 0, end) if end >= 0 else -1
    return text[start + len(_OPEN) : end] if start >= 0 else None


def extract_answer(text: str) -> str:
    """The body of the last complete ``<answer>`` block; raises AnswerFormatError if there is none.

    Linear time: the last closing tag, then the nearest opening tag before it (a regex over many
    unclosed openings would be quadratic).
    """
    block = last_answer_block(text)
    if block is None:
        raise AnswerFormatError("no <answer>...</answer> block found")
    body = block.strip()
    if len(body) > MAX_ANSWER_CHARS:
        raise AnswerFormatError(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
    return body

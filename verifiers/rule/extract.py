r"""Strict extraction of a reply's final answer: the last complete ``\boxed{}`` or ``<answer>`` block.

Rules (the same for every rule verifier that reads a final answer):

* a final answer is a complete ``\boxed{...}`` / ``\fbox{...}`` (brace-matched, nested braces and
  escaped ``\{ \}`` allowed; the short form ``\boxed 5`` too) or a complete ``<answer>...</answer>``
  block (case-insensitive tags). A box inside an answer block is that block's answer; boxes side by
  side separated only by commas / "and" (``\boxed{1}, \boxed{2}``) form one answer ``1, 2``;
  empty boxes (``\boxed{}``, as in "I will write \boxed{}") are ignored;
* the reply fails with :class:`FinalAnswerError` when it has no final answer, when an unterminated
  ``\boxed{`` or ``<answer>`` starts after the start of the last complete one (a truncated reply), or
  when it holds several *different* final answers (compared after :func:`normalize_answer`; the
  same answer repeated is fine). The error keeps the distinct candidates so that a verifier which
  can prove them equivalent (``\frac12`` and ``0.5``) may still accept them.

Scanning is linear in the reply: one pass for braces, one for tags, no backtracking regexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentgym.verifiers.rule.answer import AnswerFormatError

__all__ = [
    "MAX_FINAL_CHARS",
    "FinalAnswer",
    "FinalAnswerError",
    "extract_final",
    "final_candidates",
    "normalize_answer",
]

#: Longest final answer accepted (longer ones fail before any parsing).
MAX_FINAL_CHARS = 20_000
_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_TAG = re.compile(r"<(/?)answer>", re.IGNORECASE)
_BRACE_TOKENS = re.compile(r"\\.|[{}]", re.DOTALL)
#: The short form ``\boxed 5`` / ``\boxed A``: a number or one letter (``in \boxed form`` is prose).
_SHORT_TOKEN = re.compile(r"-?\d+(?:[.,/]\d+)*|[A-Za-z](?![A-Za-z0-9])")
_BETWEEN_BOXES = re.compile(r"(?:\s|,|;|\$|\\[,;:! ]|\\quad|\\qquad|\band\b|\\text\{\s*and\s*\})*")
_INNER_BOX = re.compile(r"\\(?:boxed|fbox)\s*")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_SPACING = re.compile(r"\$|\\[,;:! ]|\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\displaystyle")
_WORD_GAP = re.compile(r"(?<=\w)\s+(?=\w)")
_OTHER_GAP = re.compile(r"(?<!\w)\s+|\s+(?!\w)")
_MAX_SEPARATOR = 40


class FinalAnswerError(AnswerFormatError):
    """No usable final answer; ``reason`` is ``none``, ``unterminated``, ``conflict`` or ``too_long``."""

    def __init__(self, reason: str, message: str, candidates: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.candidates = candidates


@dataclass(frozen=True)
class FinalAnswer:
    """The reply's final answer: its text, where it came from (``boxed``/``answer``) and its span."""

    text: str
    source: str
    start: int
    end: int
    #: How many final answers the reply gave (all equal after normalization).
    occurrences: int = 1


def normalize_answer(text: str) -> str:
    r"""The comparison key of an answer: drops ``$``, ``\left``, ``\text{}``, spacing (``1 2`` stays)."""
    text = _SPACING.sub(" ", _TEXT_CMD.sub(r"\1", text))
    text = _OTHER_GAP.sub("", _WORD_GAP.sub(" ", text))
    return text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").rstrip(".")


def _brace_matches(text: str, start: int) -> dict[int, int]:
    """Map every ``{`` at or after ``start`` to its matching ``}`` (escaped braces are skipped)."""
    matches: dict[int, int] = {}
    stack: list[int] = []
    for token in _BRACE_TOKENS.finditer(text, start):
        char = token.group()
        if char == "{":
            stack.append(token.start())
        elif char == "}" and stack:
            matches[stack.pop()] = token.start()
    return matches


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    value: str


def _scan_boxes(text: str, unwrap: bool = True) -> tuple[list[_Span], int]:
    """Top-level complete boxes in order, and the start of the last unterminated box (or -1)."""
    first = _BOX.search(text)
    if first is None:
        return [], -1
    matches = _brace_matches(text, first.end())
    boxes: list[_Span] = []
    unterminated, covered_to = -1, -1
    for hit in _BOX.finditer(text, first.start()):
        pos = hit.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text) and text[pos] == "{":
            close = matches.get(pos)
            if close is None:
                unterminated = hit.start()
                continue
            value, end = text[pos + 1 : close], close + 1
        elif pos >= len(text):
            unterminated = hit.start()  # the reply ends right after \boxed: truncated
            continue
        else:
            token = _SHORT_TOKEN.match(text, pos)
            if token is None:
                continue  # "\boxed" named in prose, not a box
            value, end = token.group(), token.end()
        if hit.start() < covered_to:
            continue  # a box nested in a complete box belongs to the outer one
        covered_to = end
        value = _unwrap(value) if unwrap else value.strip()
        if value:
            boxes.append(_Span(hit.start(), end, value))
    return boxes, unterminated


def _unwrap(value: str) -> str:
    r"""``\boxed{\boxed{3}}`` -> ``3``; other boxes inside an answer lose just their command."""
    value = value.strip()
    for _ in range(4):
        if not _BOX.match(value):
            break
        inner, _ = _scan_boxes(value, unwrap=False)
        if len(inner) != 1 or inner[0].end != len(value):
            break
        value = inner[0].value
    return _INNER_BOX.sub("", value).strip()


def _scan_answer_tags(text: str) -> tuple[list[_Span], int]:
    """Complete ``<answer>`` blocks in order, and the start of a trailing unclosed one (or -1)."""
    blocks: list[_Span] = []
    open_at, open_end = -1, -1
    for tag in _TAG.finditer(text):
        if not tag.group(1):
            open_at, open_end = tag.start(), tag.end()
        elif open_at >= 0:
            blocks.append(_Span(open_at, tag.end(), text[open_end : tag.start()].strip()))
            open_at = -1
    return blocks, open_at


def _group_boxes(text: str, boxes: list[_Span]) -> list[_Span]:
    r"""Merge boxes separated only by commas / "and" (``\boxed{1}, \boxed{2}``) into one answer."""
    groups: list[list[_Span]] = []
    for box in boxes:
        if groups:
            prev = groups[-1][-1]
            gap = box.start - prev.end
            if gap <= _MAX_SEPARATOR and _BETWEEN_BOXES.fullmatch(text, prev.end, box.start):
                groups[-1].append(box)
                continue
        groups.append([box])
    merged = []
    for group in groups:
        values = list(dict.fromkeys(b.value for b in group))
        merged.append(_Span(group[0].start, group[-1].end, ", ".join(values)))
    return merged


def final_candidates(response: str) -> tuple[list[FinalAnswer], int]:
    """Every final answer of ``response`` in order, and the start of the last unterminated one (or -1)."""
    boxes, open_box = _scan_boxes(response)
    blocks, open_tag = _scan_answer_tags(response)
    found: list[FinalAnswer] = []
    box_i = 0
    grouped = _group_boxes(response, boxes)
    for block in blocks:
        inside: list[_Span] = []
        while box_i < len(grouped) and grouped[box_i].start < block.end:
            box = grouped[box_i]
            if box.start >= block.start:
                inside.append(box)
            else:
                found.append(FinalAnswer(box.value, "boxed", box.start, box.end))
            box_i += 1
        # Boxes inside an answer block are that block's answer (several different ones conflict).
        for box in inside or [block]:
            found.append(FinalAnswer(box.value, "answer", block.start, block.end))
    found.extend(FinalAnswer(b.value, "boxed", b.start, b.end) for b in grouped[box_i:])
    found = [f for f in found if f.text]
    return found, max(open_box, open_tag)


def extract_final(response: str, *, max_chars: int = MAX_FINAL_CHARS) -> FinalAnswer:
    r"""The reply's final answer; raises :class:`FinalAnswerError` when there is no single one.

    >>> extract_final(r"so $x = \boxed{\frac{1}{2}}$.").text
    '\\frac{1}{2}'
    >>> try:
    ...     extract_final(r"\boxed{2} ... \boxed{3}")
    ... except FinalAnswerError as exc:
    ...     print(exc.reason, exc.candidates)
    conflict ('2', '3')
    """
    found, unterminated = final_candidates(response)
    if not found:
        if unterminated >= 0:
            raise FinalAnswerError("unterminated", "the final answer is unterminated (truncated reply?)")
        raise FinalAnswerError("none", r"no final answer (\boxed{...} or <answer>...</answer>) found")
    last = found[-1]
    if unterminated >= last.start:
        raise FinalAnswerError(
            "unterminated", "an unterminated \\boxed{ or <answer> follows the last complete final answer"
        )
    distinct = list(dict.fromkeys(normalize_answer(f.text) for f in found))
    if len(distinct) > 1:
        texts: dict[str, str] = {}
        for f in found:
            texts.setdefault(normalize_answer(f.text), f.text)
        shown = ", ".join(repr(t[:40]) for t in list(texts.values())[:4])
        raise FinalAnswerError(
            "conflict",
            f"the reply gives {len(distinct)} different final answers: {shown}",
            tuple(texts.values()),
        )
    if len(last.text) > max_chars:
        raise FinalAnswerError("too_long", f"the final answer is longer than {max_chars} characters")
    return FinalAnswer(last.text, last.source, last.start, last.end, occurrences=len(found))

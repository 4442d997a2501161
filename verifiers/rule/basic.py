r"""Simple answer verifiers: ``exact``, ``numeric``, ``choice`` and ``set``.

Each reads the reply's final answer with the strict :func:`~agentgym.verifiers.rule.extract.extract_final`
(no answer, a truncated one or several different ones score 0 with ``format_error`` in the
details) and compares it with ``task.answer``. A reference that cannot be read makes the verdict
unscored. A list reference holds accepted alternatives (for ``set``: the elements).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from agentgym.core.errors import VerifierError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier
from agentgym.verifiers.limits import LimitExceeded
from agentgym.verifiers.rule.extract import FinalAnswerError, extract_final
from agentgym.verifiers.rule.math import PERCENT_MODES, gold_alternatives, quick_equal, sympy_compare
from agentgym.verifiers.rule.math_text import NumberLiteral, clean_answer, parse_number, split_top_level

__all__ = ["ChoiceVerifier", "ExactVerifier", "NumericVerifier", "SetVerifier", "normalize_text"]

_TEXT_WRAP = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_SPACES = re.compile(r"\s+")


def _final(verifier: Verifier, response: str) -> str | Verdict:
    """The final answer text, or a failing verdict saying why there is none."""
    try:
        return extract_final(response).text
    except FinalAnswerError as exc:
        return Verdict(0.0, False, verifier.name, {"format_error": str(exc), "reason": exc.reason})


def normalize_text(text: str, *, case_sensitive: bool = False, punctuation: bool = False) -> str:
    r"""Strip ``$``, ``\text{}`` wrappers, spacing and a final period; casefold; drop punctuation if asked."""
    text = _TEXT_WRAP.sub(r"\1", unicodedata.normalize("NFKC", text)).replace("$", "")
    text = _SPACES.sub(" ", text).strip().rstrip(".").strip()
    if punctuation:
        text = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
        text = _SPACES.sub(" ", text).strip()
    return text if case_sensitive else text.casefold()


class ExactVerifier(Verifier):
    """``exact``: the final answer equals the reference as normalized text."""

    name = "exact"

    def __init__(self, *, case_sensitive: bool = False, punctuation: bool = False) -> None:
        self.case_sensitive, self.punctuation = case_sensitive, punctuation

    def _norm(self, text: str) -> str:
        return normalize_text(text, case_sensitive=self.case_sensitive, punctuation=self.punctuation)

    def _verify(self, task: Task, response: str) -> Verdict:
        golds = [self._norm(g) for g in gold_alternatives(task.answer)]
        final = _final(self, response)
        if isinstance(final, Verdict):
            return final
        passed = self._norm(final) in golds
        return Verdict(float(passed), passed, self.name, {"extracted": final})


def _fraction(value: float) -> Fraction:
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


class NumericVerifier(Verifier):
    """``numeric``: the final answer is a number within tolerance of the reference.

    ``|pred - gold| <= max(rel_tol * max(|pred|, |gold|), abs_tol)``, computed exactly. An integer
    reference written without decimals needs an exactly equal answer (``integer_exact``), so big
    integers are never blurred. Numbers may carry thousands separators, scientific notation,
    fractions, a currency sign, unit words; ``50%`` reads as 50 or 0.5 (``percent="lenient"``)
    or only 0.5 (``percent="value"``).
    """

    name = "numeric"

    def __init__(
        self,
        *,
        rel_tol: float = 1e-6,
        abs_tol: float = 0.0,
        integer_exact: bool = True,
        percent: str = "lenient",
    ) -> None:
        if rel_tol < 0 or abs_tol < 0:
            raise VerifierError("rel_tol and abs_tol must be >= 0")
        if percent not in PERCENT_MODES:
            raise VerifierError(f"percent must be one of {PERCENT_MODES}, got {percent!r}")
        self.rel_tol, self.abs_tol = _fraction(rel_tol), _fraction(abs_tol)
        self.integer_exact, self.percent = integer_exact, percent

    def _gold(self, value: Any) -> NumberLiteral:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return NumberLiteral(_fraction(value), decimal=isinstance(value, float))
        number = parse_number(clean_answer(value)) if isinstance(value, str) else None
        if number is None:
            raise VerifierError(f"the reference {value!r:.60} is not a number")
        return number

    def _close(self, gold: NumberLiteral, pred: Fraction) -> bool:
        if self.integer_exact and gold.integer and not gold.percent:
            return pred == gold.value
        values = [gold.value]
        if gold.percent:
            values = [gold.value / 100] + ([gold.value] if self.percent == "lenient" else [])
        tol = [max(self.rel_tol * max(abs(v), abs(pred)), self.abs_tol) for v in values]
        return any(abs(v - pred) <= t for v, t in zip(values, tol, strict=True))

    def _verify(self, task: Task, response: str) -> Verdict:
        raw = task.answer if isinstance(task.answer, list) else [task.answer]
        golds = [self._gold(v) for v in raw]
        final = _final(self, response)
        if isinstance(final, Verdict):
            return final
        pred = parse_number(clean_answer(final))
        if pred is None:
            return Verdict(
                0.0,
                False,
                self.name,
                {"format_error": "the final answer is not a number", "extracted": final},
            )
        preds = [pred.value]
        if pred.percent:
            preds = [pred.value / 100] + ([pred.value] if self.percent == "lenient" else [])
        passed = any(self._close(g, p) for g in golds for p in preds)
        return Verdict(float(passed), passed, self.name, {"extracted": final, "value": str(pred.value)})


_CHOICE_PREFIX = re.compile(
    r"^(?:(?:the\s+)?(?:final\s+)?(?:correct\s+)?(?:answer|option|choice)(?:\s+is)?\s*[:=]?\s*)+"
    r"|^(?:option|choice)\s+",
    re.IGNORECASE,
)
_LETTER = re.compile(r"^\(?([A-Za-z])\)?(?=$|[\s.:),;])[.:)]?\s*(.*)$", re.DOTALL)
_MORE_LETTERS = re.compile(r"^(?:,|;|/|&|and\b|or\b)\s*\(?[A-Za-z]\)?(?:$|[\s.:),;])", re.IGNORECASE)


class ChoiceVerifier(Verifier):
    r"""``choice``: the chosen option letter matches the reference.

    Reads ``B``, ``(B)``, ``B)``, ``B.``, ``Answer: B``, ``\textbf{B}``, ``B. <option text>``, or the
    text of one option when ``task.spec["options"]`` (a list for A, B, ... or a letter -> text
    mapping; ``"choices"`` also works) lists them. Several letters, or a letter followed by the text
    of a different option, fail. The reference is a letter, an option text, or a 0-based index.
    """

    name = "choice"

    def _options(self, task: Task) -> dict[str, str]:
        raw = task.spec.get("options", task.spec.get("choices"))
        if raw is None:
            return {}
        if isinstance(raw, dict):
            return {str(k).strip().upper(): str(v) for k, v in raw.items()}
        if isinstance(raw, list) and len(raw) <= 26:
            return {chr(ord("A") + i): str(v) for i, v in enumerate(raw)}
        raise VerifierError("task.spec options must be a list (A, B, ...) or a letter -> text mapping")

    @staticmethod
    def _key(text: str) -> str:
        return normalize_text(clean_answer(text), punctuation=True)

    def _by_text(self, text: str, options: dict[str, str]) -> list[str]:
        key, number = self._key(text), parse_number(clean_answer(text))
        hits = []
        for letter, option in options.items():
            other = parse_number(clean_answer(option))
            if key and (key == self._key(option) or (number and other and number.value == other.value)):
                hits.append(letter)
        return hits

    def _gold(self, task: Task, options: dict[str, str]) -> str:
        answer = task.answer
        if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < len(options):
            return list(options)[answer]
        if isinstance(answer, str):
            match = _LETTER.match(normalize_text(answer, case_sensitive=True))
            if match and not match.group(2) and (not options or match.group(1).upper() in options):
                return match.group(1).upper()
            hits = self._by_text(answer, options)
            if len(hits) == 1:
                return hits[0]
        raise VerifierError(f"the reference {answer!r:.60} is not one of the options")

    def _choice(self, final: str, options: dict[str, str]) -> str:
        """The chosen letter; raises ValueError with the reason when there is none."""
        text = _CHOICE_PREFIX.sub("", normalize_text(final, case_sensitive=True).strip("*").strip())
        match = _LETTER.match(text)
        valid = options or {chr(c): "" for c in range(ord("A"), ord("Z") + 1)}
        if match and (match.group(1).isupper() or len(text) <= 3):
            letter, rest = match.group(1).upper(), match.group(2).strip()
            if letter in valid:
                if _MORE_LETTERS.match(rest):
                    raise ValueError("the answer names several options")
                if rest and options and (hits := self._by_text(rest, options)) and letter not in hits:
                    raise ValueError(f"option {letter} is followed by the text of option {hits[0]}")
                return letter
        hits = self._by_text(text, options)
        if len(hits) == 1:
            return hits[0]
        raise ValueError("no option letter found in the final answer")

    def _verify(self, task: Task, response: str) -> Verdict:
        options = self._options(task)
        gold = self._gold(task, options)
        final = _final(self, response)
        if isinstance(final, Verdict):
            return final
        try:
            letter = self._choice(final, options)
        except ValueError as exc:
            return Verdict(0.0, False, self.name, {"format_error": str(exc), "extracted": final})
        passed = letter == gold
        return Verdict(float(passed), passed, self.name, {"extracted": final, "choice": letter, "gold": gold})


_EMPTY = {"\\emptyset", "\\varnothing", "\\{\\}", "{}", "none", "nosolution", "nosolutions", "\\text{none}"}
_LEFT_RIGHT = re.compile(r"\\(?:left|right)(?![A-Za-z])")
_SET_WRAP = re.compile(r"^\\\{(.*)\\\}$|^\{(.*)\}$|^\[(.*)\]$", re.DOTALL)
_SET_PREFIX = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?\s*(?:=|\\in)\s*")
_WORD_SEPARATORS = re.compile(r"\\text\{\s*(?:and|or)\s*\}|\s+(?:and|or)\s+|\\quad|\\qquad")


def set_elements(text: str, max_elements: int = 100) -> list[str]:
    r"""Split a "find all" answer into elements: ``"x = 1, x = -2"``, ``"\{1, -2\}"``, ``"\pm 3"``."""
    text = clean_answer(_LEFT_RIGHT.sub("", text))
    text = _SET_PREFIX.sub("", text, count=1).strip()
    if match := _SET_WRAP.match(text):
        text = next(g for g in match.groups() if g is not None).strip()  # \{..\}, {..} or a [..] list
    if text.replace(" ", "").casefold() in _EMPTY or not text:
        return []
    elements: list[str] = []
    for part in split_top_level(_WORD_SEPARATORS.sub(",", text)):
        part = clean_answer(_SET_PREFIX.sub("", part, count=1))
        if not part:
            raise ValueError("the answer has an empty element")
        if part.startswith("\\pm"):
            elements += [part[3:].strip(), "-" + part[3:].strip()]
        else:
            elements.append(part)
        if len(elements) > max_elements:
            raise ValueError(f"the answer has more than {max_elements} elements")
    return elements


class SetVerifier(Verifier):
    """``set``: a "find all" answer equals the reference as a set (order-free; subsets and supersets fail).

    Elements are compared with the ``math`` equivalence (exact numbers in-process, everything else
    with sympy in the worker pool under ``compare_timeout_s``; a timeout makes the verdict unscored).
    """

    name = "set"

    def __init__(
        self, *, compare_timeout_s: float = 5.0, percent: str = "lenient", max_elements: int = 50
    ) -> None:
        if percent not in PERCENT_MODES:
            raise VerifierError(f"percent must be one of {PERCENT_MODES}, got {percent!r}")
        self.compare_timeout_s, self.percent, self.max_elements = compare_timeout_s, percent, max_elements
        self.timeout_s = compare_timeout_s + 60.0

    def _golds(self, answer: Any) -> list[str]:
        if isinstance(answer, list):
            return [clean_answer(g) for g in gold_alternatives(answer)] if answer else []
        return set_elements(gold_alternatives(answer)[0], self.max_elements)

    async def _averify(self, task: Task, response: str) -> Verdict:
        golds = self._golds(task.answer)
        final = _final(self, response)
        if isinstance(final, Verdict):
            return final
        try:
            preds = set_elements(final, self.max_elements)
        except ValueError as exc:
            return Verdict(0.0, False, self.name, {"format_error": str(exc), "extracted": final})
        equal = await self._matrix(golds, preds)
        if isinstance(equal, Verdict):
            return equal
        missing = [g for i, g in enumerate(golds) if not any(equal[i])]
        extra = [p for j, p in enumerate(preds) if not any(row[j] for row in equal)]
        passed = not missing and not extra
        details = {"extracted": final, "elements": preds, "missing": missing, "extra": extra}
        return Verdict(float(passed), passed, self.name, details)

    async def _matrix(self, golds: Sequence[str], preds: Sequence[str]) -> list[list[bool]] | Verdict:
        equal = [[False] * len(preds) for _ in golds]
        pending = []
        for i, g in enumerate(golds):
            for j, p in enumerate(preds):
                quick = quick_equal(g, p, self.percent)
                if quick is None:
                    pending.append((i, j))
                else:
                    equal[i][j] = quick
        if pending:
            try:
                results = await sympy_compare(
                    [(golds[i], preds[j]) for i, j in pending], self.percent, self.compare_timeout_s
                )
            except LimitExceeded as exc:
                return Verdict.failed(self.name, f"set comparison stopped: {exc}")
            for (i, j), (outcome, _, _) in zip(pending, results, strict=True):
                if outcome.startswith("error") or outcome == "gold_unparsed":
                    return Verdict.failed(
                        self.name, f"cannot compare {golds[i]!r:.40} with {preds[j]!r:.40}: {outcome}"
                    )
                equal[i][j] = outcome == "equal"
        return equal

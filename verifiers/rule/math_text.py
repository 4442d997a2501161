r"""Cheap text helpers shared by the math, numeric, set and choice verifiers (no sympy here).

* :func:`parse_number` reads one plain number exactly (a :class:`fractions.Fraction`): integers with
  thousands separators (``1,234`` / ``1{,}234`` / ``1\,234``), decimals, scientific notation
  (``1.5e-3``, ``1.5 \times 10^{-3}``), fractions (``3/4``, ``\frac{3}{4}``, ``\dfrac34``), a sign,
  a currency sign and a trailing percent sign (reported apart, never folded into the value).
* :func:`clean_answer` strips what is not the answer: math delimiters, an "The answer is" prefix,
  a final period, unit words after a number, and rewrites ``1e-8`` so that LaTeX parsers read it.
* :func:`floats_close` is the one rule for comparing a decimal answer with an exact value.

Every regex here is anchored or linear; inputs are length-capped by the callers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "FLOAT_ABS_TOL",
    "FLOAT_REL_TOL",
    "NumberLiteral",
    "clean_answer",
    "floats_close",
    "parse_number",
    "split_top_level",
]

#: A decimal answer equals an exact value when it agrees to 6 decimal places *and* within a
#: relative 1e-5 (so ``0.333333`` = 1/3, but ``1e-8`` != ``2e-8`` and ``12345678.9`` != ``12345679``).
FLOAT_ABS_TOL = Fraction(1, 10**6)
FLOAT_REL_TOL = Fraction(1, 10**5)
MAX_NUMBER_CHARS = 400
MAX_EXPONENT = 400

_INT = r"\d{1,3}(?:(?:,|\{,\}|\\,|\u2009)\d{3})+|\d+"
_UNSIGNED = rf"(?:(?:{_INT})(?:\.\d*)?|\.\d+)"
_EXP = (
    r"(?:[eE](?P<e1>[+-]?\d{1,4})"
    r"|\s*(?:\\times|\\cdot|\u00d7|\*|\u00b7)\s*10\s*\^\s*\{?\s*(?P<e2>[+-]?\d{1,4})\s*\}?)"
)
_DECIMAL = re.compile(rf"(?P<sign>[+-]?)(?P<num>{_UNSIGNED})(?:{_EXP})?")
_SLASH = re.compile(rf"(?P<sign>[+-]?)\(?(?P<a>[+-]?{_UNSIGNED})\)?\s*/\s*\(?(?P<b>[+-]?{_UNSIGNED})\)?")
_FRAC = re.compile(
    rf"(?P<sign>[+-]?)\\[dt]?frac\s*(?:\{{\s*(?P<a>[+-]?{_UNSIGNED})\s*\}}|(?P<a1>\d))"
    rf"\s*(?:\{{\s*(?P<b>[+-]?{_UNSIGNED})\s*\}}|(?P<b1>\d))"
)
_MIXED = re.compile(r"(?P<sign>[+-]?)(?P<whole>\d+)\s+(?P<a>\d+)\s*/\s*(?P<b>\d+)")
_REPEATING = re.compile(r"(?P<sign>[+-]?)(?P<int>\d*)\.(?P<frac>\d*)\\(?:overline|bar)\{(?P<rep>\d{1,20})\}")
_PERCENT = re.compile(r"(?:\\?%|\\text\{\s*\\?%\s*\}|percent)$", re.IGNORECASE)
_CURRENCY = re.compile(r"^(?:\\\$|\$|\u20ac|\u00a3|\u00a5|\\euro\s*|\\pounds\s*)")
_NOISE = re.compile(r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\!|\\displaystyle|\s+")
_SEPARATORS = re.compile(r",|\{,\}|\\,|\u2009")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00a0": " "})


@dataclass(frozen=True)
class NumberLiteral:
    """A number read from text: its exact value, whether it was written with decimals, and a ``%``."""

    value: Fraction
    decimal: bool = False
    percent: bool = False

    @property
    def integer(self) -> bool:
        """True when the literal is a whole number written without decimals."""
        return not self.decimal and self.value.denominator == 1


def _unsigned(text: str) -> tuple[Fraction, bool]:
    digits = _SEPARATORS.sub("", text)
    return Fraction(digits), "." in digits


def parse_number(text: str) -> NumberLiteral | None:
    r"""Read ``text`` as exactly one number, or None (``"1,234.5"``, ``"-\frac{3}{4}"``, ``"50\%"``)."""
    text = text.translate(_DASHES).strip()
    if not text or len(text) > MAX_NUMBER_CHARS:
        return None
    text = _NOISE.sub(lambda m: " " if m.group().isspace() else "", text).strip().strip("$").strip()
    percent = False
    match = _PERCENT.search(text)
    if match:
        percent, text = True, text[: match.start()].strip()
    text = _CURRENCY.sub("", text).strip()
    if text.startswith("{") and text.endswith("}") and text.count("{") == 1:
        text = text[1:-1].strip()
    try:
        if m := _DECIMAL.fullmatch(text):
            value, decimal = _unsigned(m["num"])
            exp = m["e1"] or m["e2"]
            if exp is not None:
                if abs(int(exp)) > MAX_EXPONENT:
                    return None
                value, decimal = value * Fraction(10) ** int(exp), True
            return NumberLiteral(-value if m["sign"] == "-" else value, decimal, percent)
        if (m := _MIXED.fullmatch(text)) and 0 < int(m["a"]) < int(m["b"]):  # "1 1/2" is 3/2
            value = int(m["whole"]) + Fraction(int(m["a"]), int(m["b"]))
            return NumberLiteral(-value if m["sign"] == "-" else value, False, percent)
        if m := _REPEATING.fullmatch(text):  # 0.1\overline{6} = 1/6, exactly
            head, rep = m["frac"], m["rep"]
            value = Fraction(int(m["int"] or "0")) + Fraction(int(head or "0"), 10 ** len(head))
            value += Fraction(int(rep), 10 ** len(head) * (10 ** len(rep) - 1))
            return NumberLiteral(-value if m["sign"] == "-" else value, False, percent)
        if m := (_FRAC.fullmatch(text) or _SLASH.fullmatch(text)):
            groups = m.groupdict()
            a, a_dec = _unsigned(groups.get("a1") or m["a"])
            b, b_dec = _unsigned(groups.get("b1") or m["b"])
            if b == 0:
                return None
            value = a / b
            return NumberLiteral(-value if m["sign"] == "-" else value, a_dec or b_dec, percent)
    except (ValueError, ZeroDivisionError):  # e.g. more digits than int() accepts
        return None
    return None


def floats_close(a: Fraction, b: Fraction) -> bool:
    """The decimal-answer rule: equal to 6 decimal places and within a relative 1e-5."""
    diff = abs(a - b)
    return diff <= FLOAT_ABS_TOL and diff <= FLOAT_REL_TOL * max(abs(a), abs(b))


_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_PREFIX = re.compile(
    r"^(?:\*\*)?(?:the\s+)?(?:final\s+)?(?:answer|result|solution)\b(?:\s+is)?\s*(?:\*\*)?\s*[:=]?\s*(?:\*\*)?\s*",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_LATEX_THOUSANDS = re.compile(r"(?<=\d)(?:\{,\}|\\,)(?=\d{3})")
_LATEX_SPACE = re.compile(r"(?<!\\)\\[,;: ]|\\q?quad(?![a-zA-Z])")  # not the row break "\\ "
_SCIENTIFIC = re.compile(r"(?<![\w.\\])(\d+(?:\.\d+)?)[eE]([+-]?\d{1,4})(?![\w.])")
_UNIT_WORD = re.compile(r"[A-Za-z]{3,}\.?")
_TEXT_UNIT = re.compile(r"(?<=[\d}) ])\s*\\(?:text|mbox|mathrm)\s*\{[^{}]*\}(?:\s*\^\s*\{?\d\}?)?$")
#: Unit abbreviations of two or more letters (``5 m`` may be a variable, ``5 cm`` is not).
_ABBREVIATION = re.compile(
    r"(?<=[\d}])\s*(?:cm|mm|km|kg|mg|ms|hrs?|min|mins|sec|secs|ft|yd|mi|lbs?|oz|mL|ml|mph|kmh)"
    r"(?:\s*\^\s*\{?[23]\}?|\u00b2|\u00b3)?$"
)
_BARE_PI = re.compile(r"(?<![\\A-Za-z])pi(?![A-Za-z])")
_BOLD = re.compile(r"^\*\*(.*)\*\*$", re.DOTALL)


def clean_answer(text: str) -> str:
    r"""Strip delimiters, an answer prefix, a final period and unit words: ``"$12$ apples."`` -> ``"12"``."""
    text = _LATEX_THOUSANDS.sub("", text.translate(_DASHES).replace("\\!", ""))
    text = _LATEX_SPACE.sub(" ", text).replace("\\varnothing", "\\emptyset")
    text = text.replace("\u00b0", "^\\circ").replace("\\degree", "^\\circ").strip()
    for _ in range(3):
        before = text
        if m := _BOLD.match(text):
            text = m.group(1).strip()
        text = _PREFIX.sub("", text, count=1).strip()
        for left, right in _WRAPPERS:
            if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
                inner = text[len(left) : -len(right)]
                if left not in inner:  # "$a$ and $b$" is not one wrapped expression
                    text = inner.strip()
                break
        text = _strip_unit_words(text.rstrip(".").strip())
        text = _ABBREVIATION.sub("", _TEXT_UNIT.sub("", text)).strip() or text
        if text == before:
            break
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    text = _BARE_PI.sub(r"\\pi", text.replace("**", "^"))
    return _SCIENTIFIC.sub(r"\1\\times 10^{\2}", text)


def _strip_unit_words(text: str) -> str:
    """Drop up to three trailing words of 3+ letters after a plain number (``12 apples`` -> ``12``)."""
    head = text
    for _ in range(3):
        parts = head.rsplit(None, 1)
        if len(parts) != 2 or not _UNIT_WORD.fullmatch(parts[1]):
            break
        head = parts[0]
        if parse_number(head) is not None:
            return head.strip()
    return text


_OPENERS, _CLOSERS = "([{", ")]}"


def split_top_level(text: str, separators: str = ",;") -> list[str]:
    r"""Split at separators outside brackets/braces (``"(1,2), \{3\}"`` -> ``["(1,2)", "\{3\}"]``)."""
    parts: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            depth += 1 if text[i + 1] == "{" else -1
            i += 2
            continue
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        elif char in separators and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]

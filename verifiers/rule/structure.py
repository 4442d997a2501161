"""Structure verifiers: ``format`` (required tags in order) and ``json`` (parses, fits a schema).

Both score 1 or 0; a broken configuration (an invalid schema, jsonschema missing) makes the verdict
unscored. Tag scanning is one linear regex pass; JSON is size- and depth-capped before parsing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agentgym.core.errors import VerifierError
from agentgym.core.safejson import UntrustedJSONError, loads_untrusted
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier
from agentgym.verifiers.rule.extract import FinalAnswerError, extract_final

__all__ = ["FormatVerifier", "JsonVerifier", "json_depth", "parse_json_answer"]

_TAG_NAME = re.compile(r"[A-Za-z][\w-]{0,40}")


class FormatVerifier(Verifier):
    """``format``: each required tag appears exactly once as a complete, non-nested block, in order.

    The default is the R1 layout ``<think>...</think>`` then ``<answer>...</answer>`` with only
    whitespace around and between them. ``prefill`` is prepended to the reply first (for chat
    templates that open ``<think>`` in the prompt). Options: ``tags``, ``ordered``, ``nonempty``,
    ``text_outside`` (allow text before, between and after the blocks).
    """

    name = "format"

    def __init__(
        self,
        *,
        tags: Sequence[str] = ("think", "answer"),
        ordered: bool = True,
        nonempty: bool = True,
        text_outside: bool = False,
        prefill: str = "",
    ) -> None:
        tags = tuple(tags)
        if not tags or len(set(tags)) != len(tags) or not all(_TAG_NAME.fullmatch(t) for t in tags):
            raise VerifierError(f"tags must be distinct plain tag names, got {tags!r}")
        self.tags = tuple(t.lower() for t in tags)
        self.ordered, self.nonempty = ordered, nonempty
        self.text_outside, self.prefill = text_outside, prefill
        names = "|".join(re.escape(t) for t in tags)
        self._pattern = re.compile(rf"<(/?)({names})\s*>", re.IGNORECASE)

    def problems(self, response: str) -> list[str]:
        """What is wrong with the layout of ``response`` (empty when it is well formed)."""
        text = self.prefill + response
        found: list[tuple[str, int, int, int, int]] = []  # tag, open start, open end, close start, close end
        problems: list[str] = []
        open_tag: tuple[str, int, int] | None = None
        for hit in self._pattern.finditer(text):
            closing, tag = bool(hit.group(1)), hit.group(2).lower()
            if not closing:
                if open_tag is not None:
                    problems.append(f"<{tag}> opens inside <{open_tag[0]}>")
                open_tag = (tag, hit.start(), hit.end())
            elif open_tag is None or open_tag[0] != tag:
                problems.append(f"</{tag}> without a matching <{tag}>")
                open_tag = None
            else:
                found.append((tag, open_tag[1], open_tag[2], hit.start(), hit.end()))
                open_tag = None
        if open_tag is not None:
            problems.append(f"<{open_tag[0]}> is never closed")
        names = [f[0] for f in found]
        for tag in self.tags:
            if names.count(tag) != 1:
                problems.append(f"<{tag}> block appears {names.count(tag)} times, expected once")
        if self.ordered and not problems and names != list(self.tags):
            problems.append(f"blocks appear as {names}, expected order {list(self.tags)}")
        for tag, _, body_start, body_end, _ in found:
            if self.nonempty and not text[body_start:body_end].strip():
                problems.append(f"<{tag}> block is empty")
        if not self.text_outside and found and not problems:
            edges = [0, *(x for f in found for x in (f[1], f[4])), len(text)]
            if any(text[a:b].strip() for a, b in zip(edges[::2], edges[1::2], strict=True)):
                problems.append("text outside the tagged blocks")
        return problems

    def _verify(self, task: Task, response: str) -> Verdict:
        problems = self.problems(response)
        passed = not problems
        return Verdict(float(passed), passed, self.name, {"problems": problems[:10]})


def json_depth(text: str) -> int:
    """The deepest bracket nesting of JSON text, ignoring brackets inside strings (linear)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


_FENCE = re.compile(r"```[\w+-]*[ \t]*\n(.*?)```", re.DOTALL)
_WHOLE_FENCE = re.compile(r"```[\w+-]*[ \t]*\n?(.*?)\n?```", re.DOTALL)


def _has_non_finite(value: Any) -> bool:
    """True when ``value`` holds NaN or an infinity (iterative; the depth is already bounded)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json_answer(text: str, *, max_chars: int = 100_000, max_depth: int = 64) -> Any:
    """Parse JSON text (a fenced code block is unwrapped); raises ValueError saying what is wrong."""
    text = text.strip()
    if fenced := _WHOLE_FENCE.fullmatch(text):
        text = fenced.group(1).strip()
    if len(text) > max_chars:
        raise ValueError(f"the JSON is longer than {max_chars} characters")
    if json_depth(text) > max_depth:
        raise ValueError(f"the JSON is nested deeper than {max_depth}")
    try:
        value = loads_untrusted(text, max_bytes=max_chars, max_depth=max_depth, what="the answer")
    except UntrustedJSONError as exc:  # syntax, over-long integers, nesting
        raise ValueError(f"not valid JSON: {exc}"[:300]) from None
    if _has_non_finite(value):
        raise ValueError("not valid JSON: NaN and Infinity are not JSON numbers")
    return value


class JsonVerifier(Verifier):
    r"""``json``: the final answer parses as JSON and validates against a JSON Schema.

    The text is the final answer (``<answer>`` / ``\boxed{}``, strict) when the reply has one, else
    the last fenced code block, else the whole reply (``source="auto"``; or ``"final"``/``"whole"``).
    The schema is ``task.spec["schema"]`` or the ``schema`` option (validated with ``jsonschema``);
    with ``match_answer`` the value must also equal ``task.answer``. Schemas are trusted task data.
    """

    name = "json"

    def __init__(
        self,
        *,
        schema: Mapping[str, Any] | None = None,
        source: str = "auto",
        match_answer: bool = False,
        max_chars: int = 100_000,
        max_depth: int = 64,
    ) -> None:
        if source not in ("auto", "final", "whole"):
            raise VerifierError(f"source must be auto, final or whole, got {source!r}")
        self.schema, self.source, self.match_answer = schema, source, match_answer
        self.max_chars, self.max_depth = max_chars, max_depth

    def _text(self, response: str) -> str:
        if self.source == "whole":
            return response
        try:
            return extract_final(response, max_chars=self.max_chars).text
        except FinalAnswerError as exc:
            if self.source == "final" or exc.reason != "none":
                raise ValueError(str(exc)) from None
        fences = list(_FENCE.finditer(response))
        return fences[-1].group(1) if fences else response

    def _errors(self, value: Any, schema: Mapping[str, Any]) -> list[str]:
        try:
            import jsonschema
        except ImportError:  # pragma: no cover - jsonschema is a dependency of this verifier
            raise VerifierError("the json verifier needs the jsonschema package for schemas") from None
        validator_cls = jsonschema.validators.validator_for(schema)
        try:
            validator_cls.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise VerifierError(f"invalid JSON schema: {exc.message}"[:300]) from None
        errors = sorted(validator_cls(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"[:200] for e in errors[:5]]

    def _verify(self, task: Task, response: str) -> Verdict:
        schema = task.spec.get("schema", self.schema)
        try:
            value = parse_json_answer(
                self._text(response), max_chars=self.max_chars, max_depth=self.max_depth
            )
        except ValueError as exc:
            return Verdict(0.0, False, self.name, {"format_error": str(exc)})
        problems = self._errors(value, schema) if schema is not None else []
        if self.match_answer and value != task.answer:
            problems.append("the JSON value differs from the reference answer")
        passed = not problems
        return Verdict(float(passed), passed, self.name, {"problems": problems})

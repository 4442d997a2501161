"""Countdown (the 24 game, generalised): combine the given numbers with + - * / to hit a target.

The numbers are drawn uniformly from ``[min_value, max_value]``; the target is the value of a random
expression tree built over them, so it is reachable by construction. With ``use_all=True`` (the
default, as in reasoning-gym's ``countdown``) the tree uses every number and so must the answer;
with ``use_all=False`` the tree is built over a random subset of 2..n numbers and the answer may use
any numbers, each at most once. The tree keeps every intermediate value a positive integer
(Countdown's rule) and a tree made only of additions is redrawn (summing would solve it), but any
exact expression is accepted: the answer is parsed with :mod:`ast`
(never evaluated as Python) and computed with fractions. ``CountdownConfig.game24()`` is the 24 game.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import BufferedUniform, DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.verifiers.rule.answer import AnswerFormatError, extract_answer
from agentgym.verifiers.rule.arithmetic import (
    ExpressionError,
    evaluate,
    literals,
    operators,
    parse_expression,
)

KIND = "countdown"
MAX_RESPONSE_CHARS = 100_000
MAX_NUMBERS = 12
MAX_VALUE = 10_000
MAX_ATTEMPTS = 20_000
ALL_OPERATORS = "+-*/"
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


@dataclass(frozen=True)
class CountdownConfig(GeneratorConfig):
    """``n_numbers`` numbers in ``[min_value, max_value]``, a target in ``[min_target, max_target]``."""

    n_numbers: int = 4
    min_value: int = 1
    max_value: int = 100
    min_target: int = 100
    max_target: int = 999
    use_all: bool = True
    operators: str = ALL_OPERATORS

    @classmethod
    def game24(cls) -> CountdownConfig:
        """The 24 game: four numbers in 1..13, every one used, to make exactly 24."""
        return cls(n_numbers=4, min_value=1, max_value=13, min_target=24, max_target=24)

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(2 <= self.n_numbers <= MAX_NUMBERS, self, "n_numbers", f"must be in [2, {MAX_NUMBERS}]")
        require(1 <= self.min_value <= MAX_VALUE, self, "min_value", f"must be in [1, {MAX_VALUE}]")
        require(self.min_value <= self.max_value <= MAX_VALUE, self, "max_value",
                f"must be in [min_value={self.min_value}, {MAX_VALUE}]")  # fmt: skip
        require(self.min_target >= 1, self, "min_target", "must be >= 1")
        reach = max(self.max_value, 2) ** self.n_numbers  # no tree of the numbers gets past this
        require(self.min_target <= reach, self, "min_target",
                f"must be reachable (<= max_value**n_numbers = {reach})")  # fmt: skip
        require(
            self.max_target >= self.min_target, self, "max_target", f"must be >= min_target={self.min_target}"
        )
        require(isinstance(self.use_all, bool), self, "use_all", "must be a bool")
        ops = self.operators
        require(isinstance(ops, str) and 0 < len(ops) == len(set(ops)) and set(ops) <= set(ALL_OPERATORS),
                self, "operators", f"must be distinct characters of {ALL_OPERATORS!r}")  # fmt: skip


def _wrap(text: str, op: str | None, parent: str, right: bool) -> str:
    """Parenthesise a child expression only where precedence or non-associativity needs it."""
    if op is None:
        return text
    if _PRECEDENCE[op] < _PRECEDENCE[parent] or (
        right and parent in "-/" and _PRECEDENCE[op] == _PRECEDENCE[parent]
    ):
        return f"({text})"
    return text


def random_tree(draw: BufferedUniform, numbers: list[int], ops: str) -> tuple[int, str] | None:
    """Combine random pairs of ``numbers`` with random operators into one expression.

    Every intermediate value stays a positive integer (subtraction larger-first, exact division);
    returns ``(value, expression)``, or None when no allowed operator fits some pair.
    """
    pool: list[tuple[int, str, str | None]] = [(v, str(v), None) for v in numbers]
    while len(pool) > 1:
        i = draw.below(len(pool))
        a = pool.pop(i)
        b = pool.pop(draw.below(len(pool)))
        start = draw.below(len(ops))
        for k in range(len(ops)):
            op = ops[(start + k) % len(ops)]
            x, y = (a, b) if a[0] >= b[0] else (b, a)
            if op == "+":
                value = x[0] + y[0]
            elif op == "*":
                value = x[0] * y[0]
            elif op == "-" and x[0] != y[0]:
                value = x[0] - y[0]
            elif op == "/" and x[0] % y[0] == 0:
                value = x[0] // y[0]
            else:
                continue
            if op in "+*" and draw.below(2):
                x, y = y, x  # commutative: either order reads naturally
            text = f"{_wrap(x[1], x[2], op, False)} {op} {_wrap(y[1], y[2], op, True)}"
            pool.append((value, text, op))
            break
        else:
            return None
    return pool[0][0], pool[0][1]


class CountdownGenerator(TaskGenerator):
    """Countdown tasks: reach the target from the numbers with + - * / (exact arithmetic)."""

    id = "puzzles/countdown"
    config_cls = CountdownConfig
    difficulty_attrs = (
        DifficultyAttr("n_numbers", (3, 4, 4, 5, 5, 6, 6), "how many numbers are given"),
        DifficultyAttr("max_value", (10, 13, 25, 50, 100, 100, 100), "largest number drawn"),
        DifficultyAttr("min_target", (10, 24, 100, 100, 100, 250, 500), "smallest target"),
        DifficultyAttr("max_target", (100, 200, 500, 999, 999, 999, 999), "largest target"),
    )
    instructions = (
        "You solve Countdown number puzzles: combine the given numbers with +, -, *, / and parentheses "
        "so that the expression equals the target. Each given number may be used at most once."
    )
    answer_format = (
        "Give only the arithmetic expression inside answer tags, e.g. <answer>(25 - 5) * 4 + 3</answer>. "
        "No '=' and no other text; use * for multiplication and / for division (exact, not rounded)."
    )
    config: CountdownConfig

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        c = self.config
        draw = BufferedUniform(rng, 64)
        span = c.max_value - c.min_value + 1
        can_mix = c.operators != "+"
        for _ in range(MAX_ATTEMPTS):
            numbers = [c.min_value + draw.below(span) for _ in range(c.n_numbers)]
            used = numbers
            if not c.use_all:
                k = 2 + draw.below(c.n_numbers - 1)
                idx = list(range(c.n_numbers))
                for j in range(k):  # partial Fisher-Yates: a uniform k-subset
                    r = j + draw.below(c.n_numbers - j)
                    idx[j], idx[r] = idx[r], idx[j]
                used = [numbers[i] for i in sorted(idx[:k])]
            tree = random_tree(draw, used, c.operators)
            if tree is None or (can_mix and not any(op in tree[1] for op in "-*/")):
                continue  # an all-addition target would be solved by summing; redraw it
            if c.min_target <= tree[0] <= c.max_target:
                spec = {"numbers": numbers, "target": tree[0], "use_all": c.use_all, "operators": c.operators}
                return spec, tree[1]
        raise TaskError(f"no target in [{c.min_target}, {c.max_target}] after {MAX_ATTEMPTS} trees; widen it")

    def prompt(self, task: Task) -> str:
        """The numbers, the target and the rules."""
        s = task.spec
        numbers = ", ".join(map(str, s["numbers"]))
        use = "Use every number exactly once." if s["use_all"] else "Use each number at most once."
        ops = " ".join(s["operators"])
        return f"Numbers: {numbers}\nTarget: {s['target']}\n{use} Allowed operators: {ops} and parentheses."

    def verify(self, task: Task, response: str) -> Verdict:
        """Exact value equal to the target, numbers drawn from the given multiset, allowed operators."""
        return verify_countdown(task, response)

    def reference_response(self, task: Task) -> str:
        """The expression the target was built from."""
        return f"<answer>{task.answer}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The reference with one operator changed so the value misses the target."""
        text = task.answer
        spots = [i for i, ch in enumerate(text) if ch in ALL_OPERATORS]
        for i in rng.permutation(len(spots)).tolist():
            for op in rng.permutation(list(ALL_OPERATORS)).tolist():
                candidate = text[: spots[i]] + op + text[spots[i] + 1 :]
                try:
                    if evaluate(parse_expression(candidate)) != task.spec["target"]:
                        return f"<answer>{candidate}</answer>"
                except ZeroDivisionError:
                    return f"<answer>{candidate}</answer>"
        return f"<answer>({text}) + 1</answer>"  # off by one whatever the numbers allow

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """A random expression over all the numbers."""
        draw = BufferedUniform(rng, 64)
        tree = random_tree(draw, list(task.spec["numbers"]), "+*")  # + and * always apply
        return f"<answer>{tree[1] if tree else task.spec['numbers'][0]}</answer>"


def _fail(message: str, **details: Any) -> Verdict:
    return Verdict(0.0, False, kind=KIND, details={"feedback": message, **details})


def verify_countdown(task: Task, response: str) -> Verdict:
    """Score 1.0 when the final expression meets every rule and equals the target exactly."""
    spec = task.spec
    try:
        if len(response) > MAX_RESPONSE_CHARS:
            raise AnswerFormatError(f"the reply is longer than {MAX_RESPONSE_CHARS} characters")
        body = extract_answer(response)
        left, eq, right = body.partition("=")
        if eq and right.strip() == str(spec["target"]):
            body = left  # tolerate a trailing "= target"
        tree = parse_expression(body)
    except (AnswerFormatError, ExpressionError) as exc:
        return Verdict(0.0, False, kind=KIND, details={"format_error": str(exc)})
    used = Counter(literals(tree))
    given = Counter(spec["numbers"])
    extra = used - given
    if extra:
        number = next(iter(extra))
        return _fail(f"{number} is used more often than it is given (numbers: {spec['numbers']})")
    if spec["use_all"] and used != given:
        missing = sorted((given - used).elements())
        return _fail(f"every number must be used; unused: {missing}")
    bad_ops = operators(tree) - set(spec["operators"])
    if bad_ops:
        return _fail(f"operator(s) {sorted(bad_ops)} not allowed here (allowed: {spec['operators']})")
    try:
        value = evaluate(tree)
    except ZeroDivisionError:
        return _fail("the expression divides by zero")
    if value != spec["target"]:
        shown = str(value) if value.denominator == 1 else f"{value} (= {float(value):.4g})"
        return _fail(f"the expression equals {shown}, not {spec['target']}", value=shown)
    return Verdict(1.0, True, kind=KIND, details={"value": spec["target"]})

"""The guards that keep model text from reaching eval in reasoning-gym scorers (no reasoning_gym needed)."""

import pytest

from agentgym.environments.rg.guards import (
    arithmetic_guard,
    check,
    literal_eval,
    symbolic_guard,
    symbolic_names,
)


@pytest.mark.parametrize(
    "answer", ["49*(85 - 1)/14 - 42 - 73", "8*(5*1 - 2)", " 2.5 * 4 ", "1 +\n2", "", "7//2"]
)
def test_arithmetic_guard_accepts_arithmetic(answer):
    assert arithmetic_guard(answer) is None


@pytest.mark.parametrize(
    "answer",
    [
        "__import__('os').system('id')",
        "2**10",
        "9**9**9",
        "3 \u00d7 8",
        "x+1",
        "1; 2",
        "[1]",
        "lambda: 0",
        "1e5",
        "exit()",
    ],
)
def test_arithmetic_guard_rejects_anything_else(answer):
    assert arithmetic_guard(answer)


@pytest.mark.parametrize(
    ("answer", "names"),
    [
        ("-30400*z**6 + 55138*z**5 - 38000", {"z"}),
        ("7*X**9 - 2*X**6 + C", {"X", "C"}),
        ("exp(x)*sin(x) + exp(x)*cos(x) + C", {"x", "C"}),
        ("-log(cos(x))/3 + sqrt(x) + E**(2*x) + pi + atan(x) + C", {"x", "C"}),
        ("x^2 + 1.5e3*x", {"x"}),
    ],
)
def test_symbolic_guard_accepts_expressions_over_allowed_names(answer, names):
    assert symbolic_guard(answer, names) is None


@pytest.mark.parametrize(
    "answer",
    [
        "__import__('os').system('id')",
        "x.__class__",
        "exec('1')",
        "eval(chr(49))",
        "open('/etc/passwd')",
        "Integral(x, x)",
        "integrate(x, x)",
        "x if x else x",
        "lambda: x",
        "[x]",
        "x[0]",
        "'x'",
        "y + x",  # y is not one of the task's variables
        "x; x",
        "(x",
        "x = 1",
        "x # comment",
        "S(1)",
    ],
)
def test_symbolic_guard_rejects_names_attributes_strings_and_statements(answer):
    assert symbolic_guard(answer, {"x", "C"})


def test_symbolic_names_come_from_the_task_metadata():
    assert symbolic_names({"variable": "X"}) == {"X", "C"}
    assert symbolic_names({"variables": ["x", "y", "__class__", 3]}) == {"x", "y", "C"}
    assert symbolic_names({}) == {"C"}


def test_check_dispatches_by_kind_and_rejects_unknown_kinds():
    assert check("arithmetic", "1+2", {}) is None
    assert check("symbolic", "x + C", {"variable": "x"}) is None
    assert check("symbolic", "x + y", {"variable": "x"})
    with pytest.raises(ValueError, match="unknown guard"):
        check("nope", "1", {})


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
        ("['A', 'B']", ["A", "B"]),
        ("  ['-1.5', '2']", ["-1.5", "2"]),
        ("(1, -2)", (1, -2)),
    ],
)
def test_literal_eval_reads_literals_like_eval(source, value):
    assert literal_eval(source) == value == eval(source.strip())


@pytest.mark.parametrize(
    "source",
    ["__import__('os').system('id')", "[1] * 3", "ABC", "list('abc')", "(" * 300 + ")" * 300, "1 +", 5],
)
def test_literal_eval_refuses_everything_that_is_not_a_literal(source):
    with pytest.raises((ValueError, TypeError)):
        literal_eval(source)

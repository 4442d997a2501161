from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from agentgym.checker import check_env
from agentgym.core.task import Task
from agentgym.registry import unwrap
from agentgym.tasks.puzzles.countdown import CountdownConfig, CountdownGenerator, random_tree
from agentgym.tasks.registry import make_generator
from agentgym.verifiers.rule.arithmetic import (
    ExpressionError,
    evaluate,
    literals,
    parse_expression,
    safe_evaluate,
)

GEN_ID = "puzzles/countdown"
ENV_ID = "puzzles/countdown-v0"


def make_task(numbers, target, use_all=True, operators="+-*/", answer="0"):
    spec = {
        "generator": GEN_ID,
        "numbers": numbers,
        "target": target,
        "use_all": use_all,
        "operators": operators,
    }
    return Task(family="puzzles", spec=spec, answer=answer)


def score(task, body):
    return CountdownGenerator().verify(task, f"<answer>{body}</answer>")


@pytest.mark.parametrize("seed", range(40))
def test_reference_and_oracle_score_one_and_corrupt_scores_below(seed):
    config = {"n_numbers": 3 + seed % 4, "use_all": seed % 3 != 0}
    gen = make_generator(GEN_ID, **config)
    task = gen.generate(seed, seed % 5)
    assert len(task.spec["numbers"]) == config["n_numbers"]
    assert 100 <= task.spec["target"] <= 999
    assert evaluate(parse_expression(task.answer)) == task.spec["target"]
    used = Counter(literals(parse_expression(task.answer)))
    assert not used - Counter(task.spec["numbers"])
    if config["use_all"]:
        assert used == Counter(task.spec["numbers"])
    assert any(op in task.answer for op in "-*/")  # pure sums are redrawn
    assert gen.verify(task, gen.reference_response(task)).score == 1.0
    assert gen.verify(task, gen.oracle_response(task)).score == 1.0
    corrupt = gen.verify(task, gen.corrupt_response(task, np.random.default_rng(seed)))
    assert corrupt.score < 1.0 and "format_error" not in corrupt.details
    assert (
        "format_error" not in gen.verify(task, gen.random_response(task, np.random.default_rng(seed))).details
    )


def test_determinism_and_golden_id():
    gen = CountdownGenerator()
    assert gen.generate(3, 7) == gen.generate(3, 7)
    assert gen.generate(3, 7).id != gen.generate(3, 8).id
    # Drift in numpy streams or in the generator changes this id.
    task = gen.generate(0, 0)
    assert task.id == "f0b04602b08119ef2ba39f542b125965467579a333c0d1a42ee9d0b1f00df03e"
    assert task.spec["numbers"] == [39, 84, 7, 92] and task.answer == "92 + 84 / 7 + 39"


def test_game24_preset():
    gen = CountdownGenerator(CountdownConfig.game24())
    for i in range(20):
        task = gen.generate(0, i)
        assert task.spec["target"] == 24 and len(task.spec["numbers"]) == 4
        assert all(1 <= v <= 13 for v in task.spec["numbers"])
        assert gen.verify(task, gen.reference_response(task)).passed


def test_game24_accepts_fractional_intermediates():
    task = make_task([3, 3, 8, 8], 24)
    assert score(task, "8 / (3 - 8 / 3)").passed


@pytest.mark.parametrize("level", range(CountdownGenerator.n_levels()))
def test_every_difficulty_level_generates_valid_tasks(level):
    gen = CountdownGenerator.at_level(level)
    for i in range(5):
        task = gen.generate(11, i)
        assert gen.config.min_target <= task.spec["target"] <= gen.config.max_target
        assert gen.verify(task, gen.reference_response(task)).score == 1.0


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"n_numbers": 1}, "n_numbers"),
        ({"n_numbers": 13}, "n_numbers"),
        ({"min_value": 0}, "min_value"),
        ({"min_value": 10, "max_value": 5}, "max_value"),
        ({"min_target": 0}, "min_target"),
        ({"min_target": 500, "max_target": 100}, "max_target"),
        ({"n_numbers": 2, "max_value": 3, "min_target": 100}, "min_target"),
        ({"operators": "+^"}, "operators"),
        ({"operators": ""}, "operators"),
        ({"use_all": 1}, "use_all"),
        ({"n_numbers": 4.0}, "n_numbers"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(config, field):
    with pytest.raises(ValueError, match=field):
        CountdownGenerator(**config)


TASK = make_task([25, 5, 4, 3], 83)


@pytest.mark.parametrize(
    "body",
    [
        "(25 - 5) * 4 + 3",
        "3 + 4 * (25 - 5)",
        "((25-5)*4)+3",
        "(25 \u2212 5) \u00d7 4 + 3",  # unicode minus and times
        "(25 - 5) * 4 + 3 = 83",
        "  (25 - 5) * 4 + 3\n",
    ],
)
def test_accepted_answers(body):
    assert score(TASK, body).passed


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("25 * 4 - 5 * 3", "equals 85"),  # wrong value
        ("(25 - 5) * 4", "unused"),  # use_all: 3 missing
        ("(25 - 5) * 4 + 3 + 3", "more often"),  # 3 used twice
        ("(25 - 5) * 4 + 3 - 7 + 7", "more often"),  # numbers not given
        ("25 / (5 - 5) + 4 + 3", "more often"),
    ],
)
def test_wrong_answers_are_readable_and_score_zero(body, why):
    verdict = score(TASK, body)
    assert verdict.score == 0.0 and "format_error" not in verdict.details
    assert why in verdict.details["feedback"]


def test_division_by_zero_is_a_wrong_answer_not_a_crash():
    verdict = score(make_task([5, 5, 4, 3], 7), "4 / (5 - 5) + 3")
    assert verdict.score == 0.0 and "divides by zero" in verdict.details["feedback"]


def test_subset_mode_and_operator_restriction():
    subset = make_task([25, 5, 4, 3], 100, use_all=False)
    assert score(subset, "25 * 4").passed
    assert not score(subset, "25 * 4 * 1").passed  # 1 is not given
    no_div = make_task([8, 2, 3], 12, operators="+-*")
    verdict = score(no_div, "8 * 3 / 2")
    assert verdict.score == 0.0 and "not allowed" in verdict.details["feedback"]
    assert score(no_div, "(8 - 2) * 3").score == 0.0  # 18, and 3... uses all but wrong value
    assert score(make_task([8, 2, 3], 13, operators="+-*"), "8 + 2 + 3").passed


@pytest.mark.parametrize(
    "response",
    [
        "83",
        "<answer>(25 - 5) * 4 + 3",
        "<answer></answer>",
        "<answer>__import__('os').system('x')</answer>",
        "<answer>25 ** 2</answer>",
        "<answer>-25 + 5 * 4 + 3</answer>",
        "<answer>25.0 + 5</answer>",
        "<answer>(25 - 5) * 4 + 3 = 84</answer>",
        "<answer>[25, 5]</answer>",
        "<answer>" + "(" * 300 + "3" + ")" * 300 + "</answer>",
        "<answer>" + " + ".join(["3"] * 200) + "</answer>",  # over 500 characters
        "<answer>" + "+".join(["3"] * 60) + "</answer>",  # nested deeper than 32
        "<answer>x" + "a" * 200_000 + "</answer>",
    ],
)
def test_unreadable_answers_are_format_errors(response):
    verdict = CountdownGenerator().verify(TASK, response)
    assert verdict.score == 0.0 and verdict.details["format_error"]


def test_arithmetic_evaluator_is_exact_and_safe():
    assert safe_evaluate("1 / 3 + 1 / 6") == Fraction(1, 2)
    assert literals(parse_expression("(6 - 2) * 3 / 2")) == [6, 2, 3, 2]
    with pytest.raises(ZeroDivisionError):
        safe_evaluate("1 / (2 - 2)")
    for bad in ("a + 1", "f(1)", "1 if 1 else 2", "1 << 2", "1 % 2", "True + 1", "(1, 2)", "2 // 1", ""):
        with pytest.raises(ExpressionError):
            parse_expression(bad)
    with pytest.raises(ExpressionError, match="deeper"):
        parse_expression(" + ".join(["1"] * 40), max_depth=32)


def test_random_tree_keeps_integers_positive():
    from agentgym.tasks.base import BufferedUniform

    draw = BufferedUniform(np.random.default_rng(0), 64)
    for _ in range(200):
        tree = random_tree(draw, [7, 3, 12, 2, 9], "+-*/")
        if tree is not None:
            assert tree[0] > 0 and evaluate(parse_expression(tree[1])) == tree[0]


def test_env_passes_check_env_and_oracle_wins():
    check_env(ENV_ID)
    import agentgym

    env = agentgym.make(ENV_ID, difficulty={"n_numbers": 5})
    env.reset(seed=0)
    _, reward, terminated, *_ = env.step(unwrap(env).oracle_action())
    assert reward == 1.0 and terminated

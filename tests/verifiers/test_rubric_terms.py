"""Rubric gates, env-scored terms, and the envs whose rewards are rubrics (same numbers as before)."""

from __future__ import annotations

import numpy as np
import pytest

from agentgym.core.errors import VerifierError
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.environments.gui.action_prediction import action_reward, answer_text
from agentgym.environments.gui.actions import parse_action
from agentgym.environments.webshop.reward import (
    attribute_matches,
    option_matches,
    purchase_verdict,
    type_reward,
)
from agentgym.tasks.gui import load_action_tasks
from agentgym.tasks.swe.grading import GradeResult, grade_verdict
from agentgym.tasks.webshop import catalog as cat
from agentgym.tasks.webshop.instructions import InstructionGenerator
from agentgym.verifiers.base import Rubric, RubricItem, reference_task, term


def test_gate_multiplies_the_weighted_mean_and_metrics_are_reported_only():
    rubric = Rubric(
        [RubricItem("a", None, 3.0), RubricItem("b", None, 1.0), RubricItem("m", None, 0.0),
         RubricItem("g", None, gate=True)],
        name="r",
    )  # fmt: skip
    v = rubric.combine({"a": term("a", 1.0), "b": term("b", 0.0), "m": term("m", 0.2), "g": term("g", 0.5)})
    assert v.score == (3.0 * 1.0 + 1.0 * 0.0) / 4.0 * 0.5 and v.kind == "r" and not v.passed
    assert v.details["items"]["g"]["gate"] and v.details["items"]["m"]["weight"] == 0.0
    assert set(v.details["items"]) == {"a", "b", "m", "g"}


def test_unscored_gate_makes_the_verdict_unscored_and_terms_must_all_be_given():
    rubric = Rubric([RubricItem("a"), RubricItem("g", gate=True)])
    v = rubric.combine({"a": term("a", 1.0), "g": Verdict.failed("g", "down")})
    assert v.unscored and "g: down" in v.error
    with pytest.raises(VerifierError, match="missing"):
        rubric.combine({"a": term("a", 1.0)})
    with pytest.raises(VerifierError):
        Rubric([RubricItem("g", gate=True)])  # no weighted term


def test_rounding_and_pass_threshold():
    rubric = Rubric([RubricItem("a"), RubricItem("b")], digits=2, pass_threshold=0.5)
    v = rubric.combine({"a": term("a", 1 / 3), "b": term("b", 2 / 3)})
    assert v.score == 0.5 and v.passed


def test_env_scored_terms_cannot_be_verified_from_text():
    verdict = Rubric([RubricItem("a")]).verify(reference_task("x"), "x")
    assert verdict.unscored and "scored by their env" in verdict.error


def _legacy_webshop(product, goal, options):
    """WebShop's reward exactly as computed before it became a rubric."""
    goal_attrs = list(goal["attributes"])
    goal_opts = list(goal["options"].values())
    r_type = type_reward(product, goal)["r_type"]
    r_price = float(product["price"]) <= float(goal["price_upper"])
    n_att = attribute_matches(product, goal_attrs)
    n_opt = option_matches(product, goal_opts, options)
    denom = len(goal_attrs) + len(goal_opts) + 1
    total = round((n_att + n_opt + int(r_price)) / denom * r_type, 6)
    return total, total >= 1.0


def test_webshop_rubric_reproduces_the_formula_and_names_its_terms():
    gen = InstructionGenerator(catalog_size=5000, n_attributes=3)
    rng = np.random.default_rng(0)
    scores = set()
    for i in range(60):
        task = gen.generate(3, i)
        goal = task.spec["goal"]
        target = cat.product_at(0, cat.index_of(0, task.answer["asin"]))
        for product in (target, cat.product_at(0, int(rng.integers(5000)))):
            options = {k: v[int(rng.integers(len(v)))] for k, v in cat.options_of(product).items()}
            for chosen in (options, dict(goal["options"]), {}):
                v = purchase_verdict(product, goal, chosen)
                assert (v.score, v.passed) == _legacy_webshop(product, goal, chosen)
                assert set(v.details["items"]) == {"attributes", "options", "price", "type"}
                assert v.details["items"]["type"]["gate"] and v.kind == "webshop"
                scores.add(v.score)
    assert len(scores) > 3  # the cases cover several reward levels


def test_ui_r1_rubric_reproduces_half_type_half_argument():
    tasks = load_action_tasks("miniwob")
    rng = np.random.default_rng(1)
    seen = set()
    for task in tasks[:100]:
        answer = dict(task.answer)
        w, h = task.spec["viewport"]
        randoms = (f"click({int(rng.integers(w))}, {int(rng.integers(h))})", 'type("abc")')
        for text in (None, answer_text(answer), *randoms):
            action = parse_action(Message("assistant", text)) if text else None
            v = action_reward(action, answer)
            type_ok = action is not None and action.kind == answer["action"]
            arg_ok = type_ok and v.details["arg_ok"]
            assert v.score == 0.5 * type_ok + 0.5 * arg_ok and v.passed == (type_ok and arg_ok)
            assert set(v.details["items"]) == {"type", "argument"}
            seen.add(v.score)
    assert seen == {0.0, 0.5, 1.0}


@pytest.mark.parametrize(("resolved", "similarity"), [(True, 1.0), (False, 0.42), (False, -1.0)])
def test_swe_rubric_scores_resolved_and_reports_similarity(resolved, similarity):
    grade = GradeResult("t", resolved=resolved, applied=similarity >= 0, similarity=similarity)
    v = grade_verdict(grade, extra=1)
    assert (v.score, v.passed, v.kind) == (float(resolved), resolved, "swe_tests")
    items = v.details["items"]
    assert items["similarity"]["weight"] == 0.0 and items["similarity"]["details"]["similarity"] == similarity
    assert items["resolved"]["weight"] == 1.0 and v.details["extra"] == 1

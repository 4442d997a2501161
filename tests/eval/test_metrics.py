import math
from fractions import Fraction

import pytest

from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.eval.metrics import (
    bootstrap_mean_ci,
    evaluate_agent,
    mean_pass_at_k,
    pass_at_k,
    pass_at_k_points,
    summarize,
    wilson_interval,
)
from agentgym.trajectory import Trajectory, Turn


def exact_pass_at_k(n, c, k):
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 0, 1, 0.0),
        (10, 10, 5, 1.0),
        (5, 2, 1, 0.4),  # pass@1 is the plain success rate
        (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
        (4, 2, 2, 5 / 6),  # 1 - C(2,2)/C(4,2)
        (6, 3, 4, 1.0),  # n - c < k: every 4-subset holds a pass
        (2, 1, 2, 1.0),
        (8, 1, 8, 1.0),
    ],
)
def test_pass_at_k_constructed_cases(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_equals_the_exact_binomial_formula_on_a_grid():
    for n in range(1, 25):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-12)


def test_pass_at_k_is_stable_where_binomials_overflow_floats():
    # C(2000, 1000) overflows a float; the product form does not.
    value = pass_at_k(2000, 3, 1000)
    assert value == pytest.approx(float(exact_pass_at_k(2000, 3, 1000)), rel=1e-9)
    assert pass_at_k(1000, 1, 100) == pytest.approx(0.1)


def test_pass_at_k_rejects_too_few_samples_and_bad_counts():
    with pytest.raises(ValueError, match="n >= k"):
        pass_at_k(3, 1, 4)
    for n, c, k in [(3, 4, 1), (3, -1, 1), (3, 1, 0)]:
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


def test_mean_pass_at_k_skips_tasks_with_fewer_than_k_samples():
    value, counted = mean_pass_at_k([(4, 1), (4, 2), (1, 1)], 2)  # the n=1 task cannot say pass@2
    assert counted == 2 and value == pytest.approx((0.5 + 5 / 6) / 2)
    assert mean_pass_at_k([(1, 1)], 2) == (None, 0)
    assert pass_at_k_points(8) == [1, 2, 4, 8] and pass_at_k_points(5) == [1, 2, 4, 5]
    assert pass_at_k_points(1) == [1]


def test_wilson_interval():
    assert wilson_interval(0, 0) is None
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-3)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-3)
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(1 - hi) and lo < 0.5 < hi
    narrow = wilson_interval(500, 1000)
    assert narrow[1] - narrow[0] < hi - lo  # more data, tighter interval


def test_bootstrap_ci_is_sane_and_reproducible():
    groups = [[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    mean = sum(map(sum, groups)) / 10
    lo, hi = bootstrap_mean_ci(groups)
    assert 0.0 <= lo <= mean <= hi <= 1.0 and hi - lo > 0.1
    assert bootstrap_mean_ci(groups) == (lo, hi)
    assert bootstrap_mean_ci([[0.3, 0.7]]) == (0.5, 0.5)
    assert bootstrap_mean_ci([]) is None


def traj(env, group, sample, status="ok", passed=False, reward=None, level=0, tokens=None, turns=1):
    reward = (1.0 if passed else 0.0) if reward is None else reward
    turn_list = [
        Turn(
            index=i,
            observation=[Message("user", "q")],
            action=Message("assistant", "a"),
            reward=reward if i == turns - 1 else 0.0,
            token_ids=list(range(tokens)) if tokens is not None else None,
        )
        for i in range(turns)
    ]
    verdict = Verdict(reward, passed, "x") if status in ("ok", "truncated") else None
    return Trajectory(
        episode_id=f"t{group:06d}-s{sample:03d}",
        env_id=env,
        agent="a",
        seed=0,
        task_id=f"{env}-task{group}",
        group_id=group,
        sample_index=sample,
        turns=turn_list,
        verdict=verdict,
        status=status,
        task={"meta": {"level": level}},
        duration_s=0.5,
    )


def test_summary_counts_error_statuses_apart_from_failures():
    trajs = [
        traj("fam/a-v0", 0, 0, passed=True, tokens=5),
        traj("fam/a-v0", 0, 1, passed=False, tokens=7, turns=2),
        traj("fam/a-v0", 1, 0, status="truncated", turns=3),
        traj("fam/a-v0", 1, 1, status="agent_error", turns=0),
        traj("fam/a-v0", 2, 0, status="env_error", turns=0),
        traj("fam/a-v0", 2, 1, status="timeout", turns=0),
        traj("fam/a-v0", 3, 0, status="verifier_error"),
        traj("fam/a-v0", 3, 1, passed=True),
    ]
    s = summarize(trajs, k=2)
    assert s["episodes"] == 8 and s["scored"] == 4 and s["errors"] == 4
    assert s["passed"] == 2 and s["failed"] == 2
    assert s["success"] == 0.5  # 2 of 4 scored: errors are not failures
    assert s["success_incl_errors"] == 0.25
    assert s["error_statuses"] == {"env_error": 1, "agent_error": 1, "timeout": 1, "verifier_error": 1}
    assert s["mean_reward"] == 0.5
    lo, hi = s["success_ci"]
    assert 0 < lo < 0.5 < hi < 1
    assert s["tokens"] == 5 + 14 and s["mean_tokens"] == 19 / 2
    # pass@2 needs two scored samples: tasks 0 (1 of 2 passed) and 1 (only one scored) -> task 0 only
    assert s["pass_at_k_tasks"] == {"1": 3, "2": 1}
    assert s["pass_at_k"]["2"] == pytest.approx(1.0)
    assert s["pass_at_k"]["1"] == pytest.approx((0.5 + 0.0 + 1.0) / 3)
    assert s["tasks"] == 4 and s["episode_s"] == 4.0


def test_scripted_agents_have_no_token_counts_and_empty_sets_no_rates():
    s = summarize([traj("f/a-v0", 0, 0, passed=True)])
    assert s["tokens"] is None and s["mean_tokens"] is None
    empty = summarize([])
    assert empty["success"] is None and empty["success_ci"] is None and empty["mean_reward"] is None
    only_errors = summarize([traj("f/a-v0", 0, 0, status="env_error", turns=0)])
    assert only_errors["success"] is None and only_errors["errors"] == 1


def test_breakdowns_by_family_env_and_level():
    trajs = [
        traj("one/a-v0", 0, 0, passed=True, level=0),
        traj("one/a-v0", 1, 0, passed=False, level=1),
        traj("one/b-v0", 0, 0, passed=True, level=1),
        traj("two/c-v0", 0, 0, passed=False, level=0),
        traj("two/c-v0", 1, 0, passed=True, level=None),
    ]
    out = evaluate_agent(trajs)
    assert out["overall"]["success"] == 3 / 5
    assert list(out["by_family"]) == ["one", "two"]
    assert out["by_family"]["one"]["success"] == 2 / 3
    assert list(out["by_env"]) == ["one/a-v0", "one/b-v0", "two/c-v0"]
    assert list(out["by_level"]) == ["0", "1", "unknown"]
    assert out["by_level"]["0"]["passed"] == 1 and out["by_level"]["1"]["scored"] == 2
    assert out["by_env_level"]["one/a-v0"]["1"]["success"] == 0.0

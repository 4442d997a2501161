"""Noisy-verifier corrections on simulated data with known noise rates, and the appeal FN estimator."""

from __future__ import annotations

import numpy as np
import pytest

from agentgym.core.errors import ConfigError
from agentgym.verifiers.noise import (
    NoiseEstimator,
    backward_correct,
    fn_rate_from_appeals,
    forward_weights,
    simulate_channel,
    wilson_interval,
)

RATES = [(0.0, 0.3), (0.1, 0.2), (0.2, 0.4), (0.05, 0.0), (0.3, 0.3)]


@pytest.mark.parametrize(("rho_fp", "rho_fn"), RATES)
@pytest.mark.parametrize("p_correct", [0.1, 0.5, 0.8])
def test_backward_corrected_mean_matches_the_clean_mean(p_correct, rho_fp, rho_fn) -> None:
    rng = np.random.default_rng(1234)
    n = 200_000
    clean = rng.random(n) < p_correct
    observed = simulate_channel(clean, rho_fp, rho_fn, rng)
    corrected = backward_correct(observed, rho_fp, rho_fn)
    stderr = corrected.std() / np.sqrt(n)
    assert abs(corrected.mean() - clean.mean()) < 4 * stderr + 1e-12
    expected_noisy = rho_fp + (1 - rho_fp - rho_fn) * p_correct
    assert abs(observed.mean() - expected_noisy) < 0.01  # the channel is the one we asked for
    if abs(expected_noisy - p_correct) > 0.01:  # and the uncorrected mean is really biased
        assert abs(observed.mean() - clean.mean()) > 10 * stderr


@pytest.mark.parametrize(("rho_fp", "rho_fn"), RATES)
def test_backward_is_exactly_unbiased_per_class(rho_fp, rho_fn) -> None:
    r_pass, r_fail = backward_correct([1.0, 0.0], rho_fp, rho_fn)
    assert (1 - rho_fn) * r_pass + rho_fn * r_fail == pytest.approx(1.0)  # a correct response
    assert rho_fp * r_pass + (1 - rho_fp) * r_fail == pytest.approx(0.0)  # a wrong one
    # The paper's form ((1 - rho_fp) r - rho_fp (1 - r)) / (1 - rho_fp - rho_fn) is the same map.
    r = np.array([0.0, 1.0])
    other = ((1 - rho_fp) * r - rho_fp * (1 - r)) / (1 - rho_fp - rho_fn)
    np.testing.assert_allclose(backward_correct(r, rho_fp, rho_fn), other)


@pytest.mark.parametrize(("rho_fp", "rho_fn"), RATES)
def test_forward_weights_are_as_derived(rho_fp, rho_fn) -> None:
    w_pass, w_fail = forward_weights([1.0, 0.0], rho_fn)
    assert w_pass == pytest.approx(rho_fn)
    assert w_fail == pytest.approx(rho_fn - 1.0)
    assert (1 - rho_fn) * w_pass + rho_fn * w_fail == pytest.approx(0.0)  # E[w | correct]
    assert rho_fp * w_pass + (1 - rho_fp) * w_fail == pytest.approx(-(1 - rho_fp - rho_fn))  # E[w | wrong]


def _softmax_policy(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    grads = np.eye(len(logits)) - probs[None, :]  # row y: grad of log pi(y) wrt the logits
    return probs, grads


@pytest.mark.parametrize(("rho_fp", "rho_fn"), [(0.1, 0.3), (0.25, 0.25), (0.0, 0.45)])
def test_corrected_policy_gradients_on_a_softmax_policy(rho_fp, rho_fn) -> None:
    rng = np.random.default_rng(7)
    logits = np.array([0.5, -0.2, 1.0, 0.0, -1.0, 0.3])
    correct = np.array([1, 0, 0, 1, 0, 1], dtype=float)
    probs, grads = _softmax_policy(logits)
    clean_grad = probs @ (correct[:, None] * grads)
    n = 400_000
    ys = rng.choice(len(probs), size=n, p=probs)
    observed = simulate_channel(correct[ys], rho_fp, rho_fn, rng)
    score = grads[ys]
    backward_grad = (backward_correct(observed, rho_fp, rho_fn)[:, None] * score).mean(axis=0)
    forward_grad = (forward_weights(observed, rho_fn)[:, None] * score).mean(axis=0)
    scale = 1 - rho_fp - rho_fn
    # Backward: an unbiased estimate of the clean gradient itself.
    np.testing.assert_allclose(backward_grad, clean_grad, atol=0.01)
    # Forward: the clean gradient's direction, scaled by (1 - rho_fp - rho_fn), without rho_fp.
    np.testing.assert_allclose(forward_grad, scale * clean_grad, atol=0.01)
    cosine = forward_grad @ clean_grad / np.linalg.norm(forward_grad) / np.linalg.norm(clean_grad)
    assert cosine > 0.99


def test_rates_and_rewards_are_checked() -> None:
    with pytest.raises(ConfigError, match="< 1"):
        backward_correct([1.0], 0.5, 0.5)
    with pytest.raises(ConfigError, match=r"\[0, 1\)"):
        backward_correct([1.0], -0.1, 0.2)
    with pytest.raises(ConfigError, match=r"\[0, 1\)"):
        forward_weights([1.0], 1.0)
    with pytest.raises(ConfigError, match="unscored"):
        backward_correct([1.0, np.nan], 0.1, 0.1)
    with pytest.raises(ConfigError, match="lie in"):
        forward_weights([2.0], 0.1)
    assert backward_correct([], 0.1, 0.1).shape == (0,)


def test_wilson_interval_known_values() -> None:
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_fn_rate_from_appeals_formula() -> None:
    # 60 rule passes, 40 negatives of which 25% are correct: 10 FNs among 70 correct responses.
    assert fn_rate_from_appeals(60, 40, 0.25) == pytest.approx(10 / 70)
    assert fn_rate_from_appeals(0, 0, 0.5) == 0.0


def _stream(estimator: NoiseEstimator, rng, n: int, p_correct: float, rho_fn: float, appeal_rate: float):
    for _ in range(n):
        correct = rng.random() < p_correct
        passed = correct and rng.random() >= rho_fn  # the rule: no FPs, FNs at rate rho_fn
        estimator.observe_rule(passed)
        if not passed and rng.random() < appeal_rate:
            estimator.observe_appeal(correct)  # a perfect judge overturns exactly the FNs


@pytest.mark.parametrize("appeal_rate", [1.0, 0.3])
def test_estimator_recovers_the_fn_rate_from_appeals(appeal_rate) -> None:
    rng = np.random.default_rng(3)
    est = NoiseEstimator(min_appeals=50)
    _stream(est, rng, 20_000, p_correct=0.6, rho_fn=0.2, appeal_rate=appeal_rate)
    result = est.estimate()
    assert result.reliable
    assert result.rho_fn == pytest.approx(0.2, abs=0.02)
    assert result.low <= 0.2 <= result.high
    assert result.high - result.low < 0.06
    # The overturn rate is P(correct | rule negative), not the FN rate itself.
    assert result.overturn_rate == pytest.approx(0.6 * 0.2 / (0.6 * 0.2 + 0.4), abs=0.02)
    assert est.rho_fn() == pytest.approx(result.rho_fn)


def test_estimator_is_unreliable_until_enough_appeals_and_shrinks_to_its_prior() -> None:
    est = NoiseEstimator(prior_fn=0.1, prior_strength=10, min_appeals=20)
    assert not est.estimate().reliable
    assert est.rho_fn() == 0.1
    assert est.rho_fn(default=0.05) == 0.05
    for _ in range(10):
        est.observe_rule(True)
    for _ in range(10):
        est.observe_rule(False)
        est.observe_appeal(True)  # every negative overturned: raw FN rate 0.5
    early = est.estimate()
    assert not early.reliable
    assert early.rho_fn == pytest.approx(0.5 * 0.5 + 0.5 * 0.1)  # 10 appeals vs 10 pseudo-appeals
    assert early.raw_rho_fn == pytest.approx(0.5)
    assert early.low < early.raw_rho_fn <= early.high


def test_estimator_decay_follows_a_drifting_rate() -> None:
    rng = np.random.default_rng(11)
    fading = NoiseEstimator(decay=0.999, min_appeals=10)
    frozen = NoiseEstimator(min_appeals=10)
    for est in (fading, frozen):
        _stream(est, rng, 10_000, p_correct=0.5, rho_fn=0.4, appeal_rate=1.0)
        _stream(est, rng, 10_000, p_correct=0.5, rho_fn=0.05, appeal_rate=1.0)
    assert fading.estimate().rho_fn == pytest.approx(0.05, abs=0.03)
    assert frozen.estimate().rho_fn > 0.15  # without decay the old regime still weighs in


def test_estimator_corrections_use_its_rates() -> None:
    est = NoiseEstimator(rho_fp=0.1, min_appeals=1)
    for passed in (True, True, False, False):
        est.observe_rule(passed)
    est.observe_appeal(True)
    est.observe_appeal(False)
    rho_fn = est.rho_fn()
    assert rho_fn == pytest.approx(1 / 3)
    np.testing.assert_allclose(est.backward([1.0, 0.0]), backward_correct([1.0, 0.0], 0.1, rho_fn))
    np.testing.assert_allclose(est.forward([1.0, 0.0]), [rho_fn, rho_fn - 1])


def test_estimator_rejects_bad_settings() -> None:
    with pytest.raises(ConfigError):
        NoiseEstimator(decay=0.0)
    with pytest.raises(ConfigError):
        NoiseEstimator(rho_fp=0.6, prior_fn=0.5)

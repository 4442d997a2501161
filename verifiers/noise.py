"""Corrections for a noisy binary verifier, and an online estimate of its false-negative rate.

After *Reinforcement Learning with Verifiable yet Noisy Rewards under Imperfect Verifiers* (Cai et
al., 2025).

The verifier is a noisy channel on the clean reward ``R`` in {0, 1}: it reports ``R~ = 1`` for a
wrong response with the false-positive rate ``rho_fp = P(R~=1 | R=0)`` and ``R~ = 0`` for a
correct one with the false-negative rate ``rho_fn = P(R~=0 | R=1)`` (the paper's rho_0, rho_1).

**Backward correction** (:func:`backward_correct`): ``R^ = (R~ - rho_fp) / (1 - rho_fp - rho_fn)``,
the same as ``((1 - rho_fp) R~ - rho_fp (1 - R~)) / (1 - rho_fp - rho_fn)``. Since
``E[R~ | R] = rho_fp + (1 - rho_fp - rho_fn) R``, ``E[R^ | R] = R``: the corrected reward is an
unbiased estimate of the clean one, and so is any policy gradient built from it.

**Forward correction** (:func:`forward_weights`): weight each score-function term
``grad log pi(y)`` by ``w = R~ - (1 - rho_fn)``, i.e. ``w_1 = rho_fn`` for an observed pass and
``w_0 = rho_fn - 1`` for an observed fail. Then ``E[w | R=1] = 0`` and
``E[w | R=0] = -(1 - rho_fp - rho_fn)``, so ``E[w grad log pi] = (1 - rho_fp - rho_fn) grad J``
(using ``E[grad log pi] = 0``): the expected update points along the clean gradient, scaled by a
positive constant, and only ``rho_fn`` is needed. Both need ``rho_fp + rho_fn < 1`` (a verifier
better than chance); they are checked.

**Appeals** (:class:`NoiseEstimator`): a judge re-checks rule negatives. The overturn rate ``q``
estimates ``P(R=1 | R~=0)``; taking rule passes as correct (the hybrid's premise), the FN rate is
``rho_fn = q n_neg / (n_pos + q n_neg)``: overturned negatives among all correct responses. The
Wilson interval of ``q`` maps through that increasing function to an interval on ``rho_fn``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from agentgym.core.errors import ConfigError

__all__ = [
    "NoiseEstimate",
    "NoiseEstimator",
    "backward_correct",
    "fn_rate_from_appeals",
    "forward_weights",
    "simulate_channel",
    "wilson_interval",
]


def _check_rates(rho_fp: float, rho_fn: float) -> None:
    if not (0.0 <= rho_fp < 1.0 and 0.0 <= rho_fn < 1.0):
        raise ConfigError(f"noise rates must lie in [0, 1), got rho_fp={rho_fp}, rho_fn={rho_fn}")
    if rho_fp + rho_fn >= 1.0:
        raise ConfigError(
            f"rho_fp + rho_fn must be < 1 (a verifier better than chance), got {rho_fp + rho_fn:g}"
        )


def _rewards(rewards: ArrayLike) -> np.ndarray:
    arr = np.asarray(rewards, dtype=np.float64)
    if arr.size and (np.isnan(arr).any() or arr.min() < 0.0 or arr.max() > 1.0):
        raise ConfigError("observed rewards must lie in [0, 1] (unscored verdicts must be dropped first)")
    return arr


def backward_correct(rewards: ArrayLike, rho_fp: float, rho_fn: float) -> np.ndarray:
    """Unbiased surrogate rewards ``(r - rho_fp) / (1 - rho_fp - rho_fn)`` for observed ``rewards``.

    The result is not confined to [0, 1] (an observed 0 becomes negative when ``rho_fp > 0``);
    that is what makes it unbiased.
    """
    _check_rates(rho_fp, rho_fn)
    return (_rewards(rewards) - rho_fp) / (1.0 - rho_fp - rho_fn)


def forward_weights(rewards: ArrayLike, rho_fn: float) -> np.ndarray:
    """Forward-correction weights ``r - (1 - rho_fn)``: ``rho_fn`` for a pass, ``rho_fn - 1`` for a fail.

    Use them in place of the (baseline-subtracted) reward multiplying ``grad log pi(y)``; the
    expected update is ``(1 - rho_fp - rho_fn)`` times the clean policy gradient.
    """
    _check_rates(0.0, rho_fn)
    return _rewards(rewards) - (1.0 - rho_fn)


def simulate_channel(clean: ArrayLike, rho_fp: float, rho_fn: float, rng: np.random.Generator) -> np.ndarray:
    """Pass clean binary rewards through the noisy channel (for tests and studies)."""
    truth = np.asarray(clean).astype(bool)
    u = rng.random(truth.shape)
    return np.where(truth, u >= rho_fn, u < rho_fp).astype(np.float64)


def wilson_interval(successes: float, trials: float, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (``(0, 1)`` without trials)."""
    if trials <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2.0 * trials)) / denom
    half = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= trials else min(1.0, centre + half)
    return low, high


def fn_rate_from_appeals(n_pos: float, n_neg: float, overturn_rate: float) -> float:
    """``rho_fn = q n_neg / (n_pos + q n_neg)``: the share of correct responses the rule rejected."""
    found = overturn_rate * n_neg
    total = n_pos + found
    return found / total if total > 0 else 0.0


@dataclass(frozen=True)
class NoiseEstimate:
    """An FN-rate estimate and the counts behind it.

    ``rho_fn`` is shrunk towards the prior; ``raw_rho_fn`` is the appeals-only estimate, and
    ``[low, high]`` its confidence interval.
    """

    rho_fn: float
    raw_rho_fn: float
    low: float
    high: float
    overturn_rate: float
    rule_passes: float
    rule_fails: float
    appeals: float
    overturned: float
    reliable: bool


class NoiseEstimator:
    """Online estimate of a rule verifier's false-negative rate from appeal outcomes.

    Feed it every scored rule verdict (:meth:`observe_rule`) and every appeal outcome
    (:meth:`observe_appeal`; appeals may be a random subset of the negatives). ``decay`` < 1 makes
    old observations fade (the policy, and so the FN rate, drifts during training). ``prior_fn``
    with ``prior_strength`` pseudo-appeals shrinks early estimates; the estimate is ``reliable``
    from ``min_appeals`` appeals on. ``rho_fp`` is the configured false-positive rate (appeals
    cannot measure it). Thread-safe.
    """

    def __init__(
        self,
        rho_fp: float = 0.0,
        prior_fn: float = 0.0,
        prior_strength: float = 0.0,
        min_appeals: int = 20,
        decay: float = 1.0,
        confidence: float = 0.95,
    ) -> None:
        _check_rates(rho_fp, prior_fn)
        if prior_strength < 0 or min_appeals < 0 or not 0.0 < decay <= 1.0 or not 0.0 < confidence < 1.0:
            raise ConfigError("need prior_strength, min_appeals >= 0, 0 < decay <= 1, 0 < confidence < 1")
        self.rho_fp, self.prior_fn, self.prior_strength = rho_fp, prior_fn, prior_strength
        self.min_appeals, self.decay, self.confidence = min_appeals, decay, confidence
        self._pos = self._neg = self._appeals = self._overturned = 0.0
        self._lock = threading.Lock()

    def _fade(self) -> None:
        if self.decay < 1.0:
            self._pos *= self.decay
            self._neg *= self.decay
            self._appeals *= self.decay
            self._overturned *= self.decay

    def observe_rule(self, passed: bool) -> None:
        """Count one scored rule verdict."""
        with self._lock:
            self._fade()
            if passed:
                self._pos += 1.0
            else:
                self._neg += 1.0

    def observe_appeal(self, overturned: bool) -> None:
        """Count one appealed rule negative, overturned by the judge or not."""
        with self._lock:
            self._appeals += 1.0
            self._overturned += 1.0 if overturned else 0.0

    def estimate(self) -> NoiseEstimate:
        """The current FN-rate estimate (shrunk to the prior), with its interval."""
        with self._lock:
            pos, neg, appeals, overturned = self._pos, self._neg, self._appeals, self._overturned
        q = overturned / appeals if appeals > 0 else 0.0
        low_q, high_q = wilson_interval(overturned, appeals, self.confidence)
        raw = fn_rate_from_appeals(pos, neg, q)
        low, high = fn_rate_from_appeals(pos, neg, low_q), fn_rate_from_appeals(pos, neg, high_q)
        if appeals <= 0 and pos + neg <= 0:
            low, high = 0.0, 1.0
        m = self.prior_strength
        weight = appeals / (appeals + m) if appeals + m > 0 else 0.0
        rho = weight * raw + (1.0 - weight) * self.prior_fn
        reliable = appeals >= self.min_appeals and (pos + neg) > 0
        return NoiseEstimate(rho, raw, low, high, q, pos, neg, appeals, overturned, reliable)

    def rho_fn(self, default: float | None = None) -> float:
        """The estimated FN rate, or ``default`` (then the prior) while it is not yet reliable."""
        est = self.estimate()
        if est.reliable:
            return min(est.rho_fn, 0.999 - self.rho_fp)
        return self.prior_fn if default is None else default

    def backward(self, rewards: ArrayLike) -> np.ndarray:
        """:func:`backward_correct` with the configured FP rate and the current FN estimate."""
        return backward_correct(rewards, self.rho_fp, self.rho_fn())

    def forward(self, rewards: ArrayLike) -> np.ndarray:
        """:func:`forward_weights` with the current FN estimate."""
        return forward_weights(rewards, self.rho_fn())

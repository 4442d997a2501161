"""The :class:`Verdict` a verifier returns: a score in [0, 1], pass/fail, and its breakdown."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentgym.core.errors import VerifierError


@dataclass(frozen=True)
class Verdict:
    """A verifier's judgement of one response.

    A verifier that could not score sets ``error`` (the verdict is *unscored*) instead of returning
    a silent 0: consumers must treat unscored verdicts apart from failures.
    """

    score: float
    passed: bool
    kind: str
    details: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.score, (int, float)) or math.isnan(self.score):
            raise VerifierError(f"verdict score must be a number, got {self.score!r}")
        if not 0.0 <= float(self.score) <= 1.0:
            raise VerifierError(f"verdict score must lie in [0, 1], got {self.score}")
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "details", dict(self.details))

    @property
    def unscored(self) -> bool:
        """True when the verifier failed and the score means nothing."""
        return self.error is not None

    @classmethod
    def failed(cls, kind: str, error: str, **details: Any) -> Verdict:
        """An unscored verdict: the verifier could not judge (``error`` says why)."""
        return cls(score=0.0, passed=False, kind=kind, details=details, error=error)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable dict."""
        return {
            "score": self.score,
            "passed": self.passed,
            "kind": self.kind,
            "details": dict(self.details),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """Rebuild a verdict from :meth:`to_dict` output."""
        return cls(
            score=data["score"],
            passed=data["passed"],
            kind=data["kind"],
            details=data.get("details", {}),
            error=data.get("error"),
        )


def as_verdict(value: Verdict | Mapping[str, Any] | None) -> Verdict | None:
    """A typed verdict from a verdict or its serialized form (a store record, a server's JSON).

    A serialized verdict that cannot be read back (missing keys, a score out of range) becomes an
    unscored verdict saying so, never a silent 0 or a crash while loading.
    """
    if value is None or isinstance(value, Verdict):
        return value
    if not isinstance(value, Mapping):
        return Verdict.failed("unreadable", f"a verdict must be a mapping, got {type(value).__name__}")
    try:
        return Verdict.from_dict(value)
    except (KeyError, TypeError, ValueError, VerifierError) as exc:
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return Verdict.failed("unreadable", f"unreadable stored verdict ({detail})", stored=dict(value))

import asyncio
import time

import pytest

from agentgym.core.errors import UnknownIdError, VerifierError
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import (
    Rubric,
    RubricItem,
    Verifier,
    list_verifiers,
    make_verifier,
    reference_task,
)
from agentgym.verifiers.limits import LimitExceeded, WorkerPool
from tests.verifiers import helpers_for_limits as h


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(workers=2, memory_mb=512)
    yield p
    p.close()


def test_pool_runs_functions_by_name(pool):
    assert pool.call(h.add, 2, 3, timeout=20) == 5
    assert asyncio.run(pool.acall(h.add, 1, 1, timeout=20)) == 2


def test_hung_work_is_killed_at_the_limit_and_the_pool_recovers(pool):
    kills = pool.kills
    with pytest.raises(LimitExceeded, match=r"longer than 0\.5s"):
        pool.call(h.spin_forever, timeout=0.5)
    assert pool.kills == kills + 1
    assert pool.call(h.add, 20, 22, timeout=20) == 42  # a fresh worker took its place


def test_memory_blowups_and_exceptions_come_back_as_errors(pool):
    with pytest.raises(VerifierError, match="MemoryError"):
        pool.call(h.allocate, 2048, timeout=20)
    with pytest.raises(VerifierError, match="ValueError: bad input"):
        pool.call(h.fail, timeout=20)
    assert pool.call(h.allocate, 1, timeout=20) == 2**20


def test_concurrent_callers_share_the_workers(pool):
    async def go():
        return await asyncio.gather(*(pool.acall(h.add, i, i, timeout=20) for i in range(10)))

    assert asyncio.run(go()) == [2 * i for i in range(10)]


class Fixed(Verifier):
    name = "fixed"

    def __init__(self, score: float, error: str | None = None, sleep: float = 0.0):
        self.score, self.error, self.sleep = score, error, sleep

    def _verify(self, task, response):
        if self.sleep:
            time.sleep(self.sleep)
        if self.error:
            raise RuntimeError(self.error)
        return Verdict(self.score, self.score == 1.0, self.name)


def test_rubric_weights_metrics_and_unscored_items():
    task = reference_task("x")
    rubric = Rubric([RubricItem("a", Fixed(1.0), 3.0), ("b", Fixed(0.0), 1.0), ("m", Fixed(0.5), 0.0)])
    v = rubric.verify(task, "r")
    assert v.score == pytest.approx(0.75) and not v.passed
    assert v.details["items"]["m"]["weight"] == 0.0 and v.details["items"]["m"]["score"] == 0.5
    broken = Rubric([("a", Fixed(1.0), 1.0), ("b", Fixed(1.0, error="judge down"), 1.0)])
    assert broken.verify(task, "r").unscored
    metric_broken = Rubric([("a", Fixed(1.0), 1.0), ("m", Fixed(1.0, error="down"), 0.0)])
    assert metric_broken.verify(task, "r").passed
    with pytest.raises(VerifierError):
        Rubric([("a", Fixed(1.0), 0.0)])
    with pytest.raises(VerifierError):
        Rubric([("a", Fixed(1.0), 1.0), ("a", Fixed(1.0), 1.0)])


def test_failures_are_unscored_never_silent_zero():
    task = reference_task("x")
    assert Fixed(1.0, error="boom").verify(task, "r").error == "RuntimeError: boom"
    slow = Fixed(1.0, sleep=1.0)
    slow.timeout_s = 0.2
    assert "timed out" in slow.verify(task, "r").error
    assert Fixed(1.0).verify(task, 42).unscored  # type: ignore[arg-type]
    long = Fixed(1.0)
    long.max_response_chars = 10
    assert long.verify(task, "x" * 11).details["format_error"]


def test_registry():
    assert "sat" in list_verifiers()
    with pytest.raises(UnknownIdError, match="did you mean 'math'"):
        make_verifier("mathh")

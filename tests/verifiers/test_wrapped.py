"""A generator's verify runs under the verifier contract: raise, hang, oversize or junk -> unscored."""

from __future__ import annotations

import threading

import pytest

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.wrapped import FunctionVerifier, GeneratorVerifier

TASK = Task(family="verify", spec={}, answer="4")
RELEASE = threading.Event()  # lets the hanging verifiers' threads end when the module is done


@pytest.fixture(autouse=True, scope="module")
def _release_hung_threads():
    yield
    RELEASE.set()


def raising(task: Task, response: str) -> Verdict:
    raise RuntimeError("scorer exploded")


def hanging(task: Task, response: str) -> Verdict:
    RELEASE.wait(30)
    return Verdict(1.0, True, "late")


def junk(task: Task, response: str) -> Verdict:
    return 1.0  # type: ignore[return-value]


def right(task: Task, response: str) -> Verdict:
    return Verdict(float(response == "4"), response == "4", "right")


class FakeGenerator:
    id = "test/fake"

    def verify(self, task: Task, response: str) -> Verdict:
        return right(task, response)


@pytest.mark.parametrize(
    ("fn", "error"),
    [(raising, "RuntimeError: scorer exploded"), (hanging, "timed out"), (junk, "not a Verdict")],
)
async def test_failures_are_unscored_sync_and_async(fn, error):
    verifier = FunctionVerifier(fn, "f", timeout_s=0.2)
    for verdict in (verifier.verify(TASK, "4"), await verifier.averify(TASK, "4")):
        assert verdict.unscored and error in verdict.error and verdict.kind == "f"


def test_an_oversized_response_is_a_format_error_never_parsed():
    verifier = FunctionVerifier(raising, "f", max_response_chars=1000)
    verdict = verifier.verify(TASK, "x" * 10_000_000)
    assert not verdict.passed and "longer than" in verdict.details["format_error"]
    assert verifier.verify(TASK, None).unscored  # type: ignore[arg-type]


def test_generator_verifier_scores_like_the_generator():
    verifier = GeneratorVerifier(FakeGenerator())
    assert verifier.name == "test/fake"
    assert verifier.verify(TASK, "4") == Verdict(1.0, True, "right")
    assert verifier.verify(TASK, "5") == Verdict(0.0, False, "right")

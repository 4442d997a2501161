import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.errors import EnvError
from agentgym.core.wrappers import MaxTurns
from agentgym.registry import registry
from tests.toy_envs import CrashOnGarbageEnv, GlobalRandomEnv, GuessEnv, LossyPickleEnv

#: Marks per env family (heavy families still run in CI; the marks let a developer deselect them).
FAMILY_MARKS = {
    "gui": (pytest.mark.browser, pytest.mark.slow),
    "webshop": (pytest.mark.slow,),
    "swe": (pytest.mark.slow,),
}


#: Envs whose check is known to fail for an open defect: the check still runs and an unexpected
#: pass shows as XPASS. Empty now: the two browser envs that diverged under load (issues 7, 8) were
#: fixed by ``--disable-partial-raster`` (partial repaints anti-aliased rounded corners differently).
KNOWN_FLAKY: dict[str, str] = {}


def _env_params() -> list:
    params = []
    for env_id in registry.ids():
        marks = list(FAMILY_MARKS.get(env_id.split("/", 1)[0], ()))
        if env_id in KNOWN_FLAKY:
            marks.append(pytest.mark.xfail(reason=KNOWN_FLAKY[env_id], strict=False))
        params.append(pytest.param(env_id, marks=marks))
    return params


@pytest.mark.parametrize("env_id", _env_params())
def test_every_registered_env_passes_check_env(env_id):
    report = check_env(env_id, raise_on_failure=False)
    assert report.passed, [f"{r.name}: {r.message}" for r in report.failures()]
    assert len(report.results) >= 15


def test_a_good_toy_env_passes():
    assert check_env(lambda: MaxTurns(GuessEnv(), 10)).passed


def test_nondeterministic_env_is_caught():
    report = check_env(lambda: MaxTurns(GlobalRandomEnv(), 10), raise_on_failure=False)
    assert {r.name for r in report.failures()} >= {"determinism"}


def test_env_raising_on_malformed_actions_is_caught():
    report = check_env(lambda: MaxTurns(CrashOnGarbageEnv(), 10), raise_on_failure=False)
    failed = {r.name for r in report.failures()}
    assert {"malformed:empty", "malformed:lone_surrogates", "malformed:wrong_tool_text"} <= failed
    with pytest.raises(EnvError, match="failed check_env"):
        report.raise_if_failed()


def test_broken_pickle_is_caught():
    report = check_env(lambda: MaxTurns(LossyPickleEnv(), 10), raise_on_failure=False)
    assert [r.name for r in report.failures()] == [
        "pickle",
        "fork",
    ]  # deepcopy uses __getstate__ too


def test_env_that_never_ends_is_caught():
    report = check_env(lambda: GuessEnv(high=10**9), raise_on_failure=False)
    assert "end_and_close" in {r.name for r in report.failures()}


def test_check_env_accepts_a_made_instance():
    assert check_env(agentgym.make("puzzles/sat-v0")).passed

"""Grading and the env on the docker backend (skips where no Docker engine answers)."""

import os

import pytest

from agentgym.environments.swe.env import SwePatchEnv
from agentgym.tasks.swe.grading import grade_patch
from tests.swe.helpers import first_task, patch_from, prepend

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REWRITE_TESTS = """import os as _os
for _root, _dirs, _files in _os.walk(_os.getcwd()):
    for _name in _files:
        if _name.startswith("test_") and _name.endswith(".py"):
            try:
                with open(_os.path.join(_root, _name), "w") as _handle:
                    _handle.write("def test_nothing():\\n    pass\\n")
            except OSError:
                pass
"""


@pytest.fixture(scope="module")
def docker_ready():
    from agentgym.sandbox.docker_backend import DockerSandbox

    reason = DockerSandbox.unavailable_reason()
    if reason is not None:
        if os.environ.get("AGENTGYM_REQUIRE_DOCKER") == "1":
            pytest.fail(f"AGENTGYM_REQUIRE_DOCKER=1 but: {reason}")
        pytest.skip(f"no Docker engine: {reason}")


def test_docker_grading_resolves_the_oracle_and_catches_tests_rewritten_at_run_time(docker_ready, tmp_path):
    task = first_task("inflection")
    assert grade_patch(task, task.oracle_patch, backend="docker").resolved
    attack = patch_from(task, tmp_path, lambda tree: prepend(tree / task.mutations[0].path, REWRITE_TESTS))
    result = grade_patch(task, attack, backend="docker")
    assert not result.resolved
    assert any("modified:" in p for p in result.problems), result.problems


def test_oracle_episode_on_docker(docker_ready):
    task = first_task("toolz")
    env = SwePatchEnv(backend="docker", tasks=[task.task_id])
    env.reset(seed=0)
    for _ in range(10):
        _, reward, terminated, _, info = env.step(env.oracle_action())
        if terminated:
            break
    env.close()
    assert terminated and reward == 1.0 and info["verdict"].details["similarity"] == 1.0

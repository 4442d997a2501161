"""The swe/patch-v0 env: tools, the agent's view, the oracle, G-RA."""

import json
import subprocess

import pytest

import agentgym
from agentgym.core.messages import Message, ToolCall
from agentgym.environments.swe.env import SwePatchEnv
from agentgym.environments.swe.gated import GatedProcessReward, turn_score
from agentgym.environments.swe.tools import OUTPUT_CAP, truncate
from agentgym.tasks.swe.snapshot import agent_tree
from tests.swe.helpers import first_task, needs_bwrap

pytestmark = needs_bwrap


def call(name, **args):
    return Message("assistant", "", tool_calls=(ToolCall(f"c_{name}", name, json.dumps(args)),))


@pytest.fixture(scope="module")
def task():
    return first_task("inflection")


@pytest.fixture
def env(task):
    env = SwePatchEnv(tasks=[task.task_id])
    env.reset(seed=0)
    yield env
    env.close()


def text_of(env, action):
    return env.step(action)[0][0].text


def test_reset_shows_issue_and_repository_without_hidden_tests(env, task):
    obs, info = env.reset(seed=1)
    assert obs[0].role == "system" and "submit" in obs[0].text
    assert task.issue in obs[1].text and "inflection/" in obs[1].text
    assert info["swe_task"] == task.task_id and info["difficulty"]["bugs"] == 1
    listing = text_of(env, call("list_dir", path="."))
    for hidden in task.hidden_files:
        assert hidden.rsplit("/", 1)[-1] not in listing
    assert "inflection/" in listing


def test_agent_copy_is_a_git_repo_at_the_base_commit_without_history(env):
    out = text_of(
        env, call("run", command="git log --oneline | wc -l; git tag | wc -l; git status --short | wc -l")
    )
    assert out.splitlines()[1:] == ["1", "0", "0"], out
    out = text_of(env, call("run", command="ls .git; git reflog | wc -l"))
    assert "logs" not in out.split() and out.strip().endswith("0")


def test_view_file_ranges_and_errors(env, task):
    path = task.mutations[0].path
    out = text_of(env, call("view_file", path=path, start_line=3, end_line=5))
    assert out.startswith(f"{path} (lines 3-5 of") and "    3  " in out and "    6  " not in out
    assert "do not exist" in text_of(env, call("view_file", path=path, start_line=100000))
    assert "no such file" in text_of(env, call("view_file", path="nope.py"))
    assert "without '..'" in text_of(env, call("view_file", path="../etc/passwd"))
    assert "relative" in text_of(env, call("list_dir", path="/etc"))


def test_search_finds_definitions(env):
    out = text_of(env, call("search", pattern="def camelize"))
    assert out.startswith("inflection/__init__.py:") and "def camelize" in out
    assert "no matches" in text_of(env, call("search", pattern="zzz_not_there_zzz"))
    assert "def camelize" in text_of(env, call("search", pattern="def camel[a-z]+", regex=True))


def test_edit_reports_missing_and_ambiguous_strings_clearly(env):
    missing = text_of(
        env, call("edit", path="inflection/__init__.py", old_string="NOT IN FILE", new_string="x")
    )
    assert "was not found" in missing
    ambiguous = text_of(env, call("edit", path="inflection/__init__.py", old_string="return", new_string="x"))
    assert "occurs" in ambiguous and "unique" in ambiguous
    obs, _, _, _, info = env.step(call("create_file", path="notes/new.txt", content="hello\n"))
    assert "Wrote notes/new.txt" in obs[0].text and info["process"]["edit_applied"]
    ok = text_of(env, call("edit", path="notes/new.txt", old_string="hello", new_string="bye"))
    assert ok.startswith("Edited notes/new.txt")
    assert text_of(env, call("run", command="cat notes/new.txt")).endswith("bye")


def test_run_reports_exit_code_timeout_and_truncates(env):
    obs, _, _, _, info = env.step(call("run", command="python3 -m pytest --version"))
    assert "[exit code 0]" in obs[0].text and "pytest" in obs[0].text and info["process"]["tests_run"]
    assert "timed out" in text_of(env, call("run", command="sleep 5", timeout=1))
    long = text_of(env, call("run", command="python3 -c \"print('x' * 20000)\""))
    assert "output truncated" in long and len(long) < OUTPUT_CAP + 200
    assert "more characters not shown" in truncate("y" * (OUTPUT_CAP + 5))


def test_text_form_calls_and_malformed_replies(env):
    out = text_of(env, '<tool_call>{"name": "list_dir", "arguments": {"path": "inflection"}}</tool_call>')
    assert "__init__.py" in out
    assert "no tool call" in text_of(env, "I think the bug is in camelize.")
    assert "Error" in text_of(env, call("view_file", wrong=1))


def test_oracle_agent_resolves_through_the_tools(task):
    env = agentgym.make("swe/patch-v0", tasks=[task.task_id])
    base = env.unwrapped
    env.reset(seed=0)
    total, info = 0.0, {}
    for _ in range(10):
        _, reward, terminated, truncated, info = env.step(base.oracle_action())
        total += reward
        if terminated or truncated:
            break
    assert terminated and total == 1.0
    assert info["verdict"].passed and info["similarity"] == 1.0
    assert info["process_signals"][0]["edit_applied"]
    env.close()


def test_submitting_nothing_is_not_resolved_and_gra_gates_the_process_reward(task):
    env = GatedProcessReward(SwePatchEnv(tasks=[task.task_id]), threshold=1.0, weight=0.5)
    env.reset(seed=0)
    env.step(call("run", command="python3 -m pytest -q --co | tail -1"))
    obs, reward, terminated, _, info = env.step(call("submit"))
    assert terminated and "NOT RESOLVED" in obs[0].text
    assert reward == 0.0 and info["gated_rewards"] == [0.0, 0.0] and not info["gate_open"]
    # The oracle's edits plus a test run: the gate opens and the process signals are paid.
    env.reset(seed=0)
    base = env.unwrapped
    plan = list(base._plan)
    rewards = []
    for step in plan[:-1]:
        rewards.append(env.step(call(step["name"], **step["arguments"]))[1])
    env.step(call("run", command="python3 -m pytest -q -x inflection 2>&1 | tail -1"))
    obs, reward, terminated, _, info = env.step(call("submit"))
    assert terminated and info["gate_open"]
    assert info["gated_rewards"][0] == pytest.approx(0.5 * 0.5)
    assert reward == pytest.approx(1.0 + 0.5 * (0.5 * len(plan[:-1]) + 0.5))
    assert turn_score({"edit_applied": True, "tests_run": True}) == 1.0 and turn_score(None) == 0.0
    env.close()


def test_checkout_tree_matches_what_the_env_shows(task):
    tree = agent_tree(task)
    log = subprocess.run(["git", "-C", str(tree), "log", "--format=%H %s"], capture_output=True, text=True)
    assert len(log.stdout.splitlines()) == 1 and "Base commit" in log.stdout
    for hidden in task.hidden_files:
        assert not (tree / hidden).exists()

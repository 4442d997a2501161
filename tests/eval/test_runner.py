import json
import re

import pytest
import typer
from typer.testing import CliRunner

from agentgym.cli.eval_cmd import agent_options, eval_command
from agentgym.core.errors import ConfigError
from agentgym.eval.runner import agent_label, run_eval
from agentgym.trajectory import TrajectoryStore
from tests.eval.helpers import counting_oracle, counting_random, tiny_suite

QUIET = {"progress": False}
N_TASKS = 6  # tiny_suite


def stored_lines(out, agent):
    return {p.parent.name: p.read_text().count("\n") for p in (out / agent).glob("*/*/trajectories.jsonl")}


def test_oracle_and_random_end_to_end(tmp_path):
    oracle, rand = counting_oracle(), counting_random()
    result = run_eval(tiny_suite(), [oracle, rand], tmp_path, k=2, **QUIET)
    agents = result.results["agents"]
    assert list(agents) == ["oracle", "random"]
    o = agents["oracle"]["overall"]
    assert o["episodes"] == N_TASKS * 2 and o["success"] == 1.0 and o["errors"] == 0
    assert o["pass_at_k"] == {"1": 1.0, "2": 1.0} and o["mean_reward"] == 1.0
    assert agents["random"]["overall"]["success"] < 1.0
    assert set(agents["oracle"]["by_env"]) == {e.env_id for e in tiny_suite().entries}
    assert set(agents["oracle"]["by_level"]) == {"0", "1"}
    assert list(agents["oracle"]["by_family"]) == ["puzzles"]
    # one store per agent and env, each planned episode exactly once
    assert stored_lines(tmp_path, "oracle") == {"sat-v0": 4, "knights-knaves-v0": 4, "maze-v0": 4}
    # the suite's tasks in order: episode group i is task i of the entry
    sat = TrajectoryStore(tmp_path / "oracle" / "puzzles" / "sat-v0").load()
    entry_tasks = tiny_suite().entries[0].load_tasks()
    assert {(t.group_id, t.task_id) for t in sat} == {(i, task.id) for i, task in enumerate(entry_tasks)}
    # results.json round-trips and the report has its plots and transcript links
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["agents"]["oracle"]["overall"]["success"] == 1.0 and saved["k"] == 2
    html = result.report_path.read_text()
    for chart in ("chart-agents", "chart-family", "chart-level", "chart-env"):
        assert f'id="{chart}"' in html
    assert html.count("<svg") == 4 and 'class="bar"' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//|url\(|@import""", html)  # nothing fetched
    assert "<script" not in html
    hrefs = re.findall(r'href="(transcripts/[^"]+)"', html)
    assert hrefs and all((tmp_path / h).is_file() for h in hrefs)
    page = (tmp_path / hrefs[0]).read_text()
    back = re.search(r'href="([^"]+)">', page).group(1)
    assert ((tmp_path / hrefs[0]).parent / back).resolve() == result.report_path.resolve()
    assert "Conversation" in page
    assert "| oracle |" in result.markdown and "Success by family" in result.markdown


def test_resume_finishes_an_interrupted_eval_without_redoing_episodes(tmp_path):
    full = counting_oracle()
    run_eval(tiny_suite(), [full], tmp_path / "full", k=2, **QUIET)
    total_calls = full.calls

    out = tmp_path / "resumed"
    first = counting_oracle(interrupt_after=total_calls // 2)
    with pytest.raises(KeyboardInterrupt):
        run_eval(tiny_suite(), [first], out, k=2, concurrency=2, **QUIET)
    stored = [t for p in (out / "oracle").glob("*/*") for t in TrajectoryStore(p).load()]
    assert 0 < len(stored) < N_TASKS * 2
    done_turns = sum(len(t.turns) for t in stored)  # the oracle makes one call per turn

    second = counting_oracle()
    result = run_eval(tiny_suite(), [second], out, k=2, concurrency=2, **QUIET)
    assert second.calls == total_calls - done_turns  # stored episodes were not run again
    assert sum(stored_lines(out, "oracle").values()) == N_TASKS * 2  # each episode exactly once
    assert result.results["agents"]["oracle"]["overall"]["success"] == 1.0

    again = counting_oracle()
    run_eval(tiny_suite(), [again], out, k=2, **QUIET)
    assert again.calls == 0


def test_rerun_with_another_k_or_agent_options_is_refused(tmp_path):
    run_eval(tiny_suite(), [counting_oracle()], tmp_path, k=1, **QUIET)
    with pytest.raises(ConfigError, match="different k"):
        run_eval(tiny_suite(), [counting_oracle()], tmp_path, k=2, **QUIET)
    with pytest.raises(ConfigError, match="different options"):
        run_eval(tiny_suite(), [counting_oracle()], tmp_path, agent_options={"oracle": {"seed": 3}}, **QUIET)
    # another agent may join the same eval folder
    result = run_eval(tiny_suite(), [counting_oracle(), counting_random()], tmp_path, **QUIET)
    assert set(result.results["agents"]) == {"oracle", "random"}


def test_agent_labels_and_argument_checks(tmp_path):
    assert agent_label("openai:gpt-4o-mini") == "openai-gpt-4o-mini"
    assert agent_label("hf:/models/x y") == "hf-models-x-y"
    with pytest.raises(ConfigError, match="distinct"):
        run_eval(tiny_suite(), [counting_oracle(), counting_oracle()], tmp_path, **QUIET)
    with pytest.raises(ConfigError, match="k and concurrency"):
        run_eval(tiny_suite(), ["oracle"], tmp_path, k=0, **QUIET)
    with pytest.raises(ConfigError, match="at least one agent"):
        run_eval(tiny_suite(), [], tmp_path, **QUIET)
    assert agent_options("bundled", max_tokens=96) == {"max_new_tokens": 96}
    assert agent_options("openai:m", 0.5, 64, "http://x") == {
        "temperature": 0.5,
        "max_tokens": 64,
        "base_url": "http://x",
    }
    assert agent_options("oracle", 0.5, 64) == {}


def cli():
    app = typer.Typer()
    app.command()(eval_command)
    return app


def test_cli_lists_suites_and_runs_a_frozen_suite(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(cli(), ["--list-suites"])
    assert listed.exit_code == 0, listed.output
    assert "demo" in listed.output and "puzzles" in listed.output and "all" in listed.output
    out = tmp_path / "ev"
    args = ["--suite", "puzzles/knights_knaves@v1", "--agent", "oracle", "--agent", "random"]
    ran = runner.invoke(cli(), [*args, "--out", str(out), "--no-progress"])
    assert ran.exit_code == 0, ran.output
    assert "| oracle |" in ran.output and "report.html" in ran.output
    results = json.loads((out / "results.json").read_text())
    assert results["agents"]["oracle"]["overall"]["success"] == 1.0
    assert results["agents"]["oracle"]["overall"]["episodes"] == 56
    missing = runner.invoke(cli(), ["--agent", "oracle"])
    assert missing.exit_code != 0 and "--suite" in str(missing.exception)


def test_importing_the_eval_package_is_lazy():
    import subprocess
    import sys

    code = (
        "import sys, agentgym.eval as e; "
        "assert 'agentgym.eval.runner' not in sys.modules and 'agentgym.eval.report' not in sys.modules; "
        "assert callable(e.run_eval) and callable(e.pass_at_k)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

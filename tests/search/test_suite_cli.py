"""The frozen held-out search suite (hop count as the difficulty level) and the search CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agentgym.cli.main import app
from agentgym.core.errors import ConfigError
from agentgym.eval.suites import get_suite
from agentgym.registry import make
from agentgym.tasks.search.generator import SearchQAGenerator
from agentgym.tasks.splits import split_of
from agentgym.tasks.suite import load_suite


def test_frozen_suite_is_heldout_by_hops_and_the_oracle_solves_it() -> None:
    tasks = load_suite("search/qa")
    assert len(tasks) == 32 and all(split_of(t) == "heldout" for t in tasks)
    assert all(t.meta["level"] == t.spec["hops"] - 1 == t.difficulty["hops"] - 1 for t in tasks)
    assert {t.spec["hops"] for t in tasks} == {1, 2, 3, 4}
    env = make("search/qa-v0", max_turns=None)
    for task in tasks:
        env.reset(seed=0, options={"task": task})
        for _ in range(20):
            _, reward, terminated, truncated, _ = env.step(env.unwrapped.oracle_action())
            if terminated or truncated:
                break
        assert reward == 1.0, task.spec["question"]


def test_frozen_suite_matches_the_generator() -> None:
    for task in load_suite("search/qa")[:8]:
        cfg = task.meta["config"]
        again = SearchQAGenerator(**cfg).generate(task.meta["seed"], task.meta["index"])
        assert again.id == task.id and again.answer == task.answer


def test_eval_suite_poses_search_on_qa_v0() -> None:
    suite = get_suite("search")
    assert [e.env_id for e in suite.entries] == ["search/qa-v0"]
    assert len(suite.entries[0].load_tasks()) == 32


def test_cli_export_writes_byo_files_and_query_searches_them(tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "data"
    result = runner.invoke(app, ["search", "export", "--out", str(out), "--docs", "300", "--questions", "4"])
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]
    rows = [json.loads(line) for line in (out / "qa.jsonl").read_text().splitlines()]
    assert len(docs) == 300 and len(rows) == 4 and all(r["hops"] == 2 for r in rows)
    title = docs[5]["title"]
    result = runner.invoke(app, ["search", "query", title, "--corpus", str(out / "corpus.jsonl"), "-k", "2"])
    assert result.exit_code == 0 and f"[{docs[5]['id']}]" in result.output
    env = make("search/qa-v0", corpus=str(out / "corpus.jsonl"), qa=str(out / "qa.jsonl"), split="all")
    env.reset(seed=0)
    for _ in range(8):
        _, reward, terminated, truncated, _ = env.step(env.unwrapped.oracle_action())
        if terminated or truncated:
            break
    assert reward == 1.0
    bad = runner.invoke(app, ["search", "export", "--out", str(out), "--split", "dev"])
    assert isinstance(bad.exception, ConfigError) and "--split" in str(bad.exception)  # main() exits 2

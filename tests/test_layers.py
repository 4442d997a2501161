"""The layer contract (pyproject's [tool.importlinter]) holds and really sees the layers.

import-linter walks the package's files, so the check runs on a regular install of this tree
(an editable one would show it only agentgym/, and any contract would pass without looking).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (the dev extra)"),
]


def _lint(target: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(target)}
    config = str(ROOT / "pyproject.toml")
    return subprocess.run(
        [str(LINT), "--config", config], cwd=target, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("lint-install")
    build = tmp_path_factory.mktemp("src")
    shutil.copytree(
        ROOT, build / "tree", ignore=shutil.ignore_patterns(".venv", ".git", "build", "runs", "*.pyc")
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            ".",
        ],
        cwd=build / "tree",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (target / "agentgym" / "environments" / "__init__.py").exists()
    return target


def test_the_layer_contract_is_kept(installed):
    done = _lint(installed)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 kept, 0 broken" in done.stdout
    assert "Analyzed" in done.stdout and int(done.stdout.split("Analyzed ")[1].split()[0]) > 200


@pytest.mark.parametrize(
    ("module", "imports", "message"),
    [
        (
            "agentgym/core/leak.py",
            "agentgym.rollout",
            "agentgym.core is not allowed to import agentgym.rollout",
        ),
        ("agentgym/tasks/leak.py", "agentgym.environments", "agentgym.tasks is not allowed to import"),
        ("agentgym/environments/leak.py", "agentgym.eval", "agentgym.environments is not allowed to import"),
    ],
)
def test_an_import_that_breaks_a_layer_fails_the_check(installed, module, imports, message):
    path = installed / module
    path.write_text(f"import {imports}\n")
    try:
        done = _lint(installed)
    finally:
        path.unlink()
    assert done.returncode != 0
    assert message in done.stdout

"""Grading: oracle patches resolve, empty ones do not, and every attack patch scores 0."""

import pytest

from agentgym.tasks.swe.grading import grade_patch
from tests.swe.helpers import first_task, needs_bwrap, one_task_per_package, patch_from, prepend

pytestmark = needs_bwrap


@pytest.mark.parametrize("task", one_task_per_package(), ids=lambda t: t.task_id)
def test_oracle_resolves_and_empty_does_not(task):
    oracle = grade_patch(task, task.oracle_patch)
    assert oracle.resolved, oracle.problems
    assert oracle.similarity == 1.0 and oracle.fail_to_pass_passed == len(task.fail_to_pass)
    assert oracle.pass_to_pass_passed == len(task.pass_to_pass) > 0
    empty = grade_patch(task, "")
    assert not empty.resolved and empty.applied
    assert empty.fail_to_pass_passed < len(task.fail_to_pass)
    assert empty.pass_to_pass_passed == len(task.pass_to_pass)


@pytest.fixture(scope="module")
def task():
    return first_task("inflection")


def _module(task):
    """The mutated library module (where an attacker would put import-time code)."""
    return task.mutations[0].path


def _assert_scores_zero(result):
    assert not result.resolved
    assert result.fail_to_pass_passed < result.fail_to_pass_total or result.problems


CONFTEST_PASS_ALL = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""


@pytest.mark.parametrize("where", ["conftest.py", "inflection/conftest.py"])
def test_new_conftest_that_passes_every_test_scores_zero(task, tmp_path, where):
    patch = patch_from(task, tmp_path, lambda tree: (tree / where).write_text(CONFTEST_PASS_ALL))
    result = grade_patch(task, patch)
    _assert_scores_zero(result)
    assert where in result.dropped_files


def test_package_init_printing_fake_passed_line_and_exiting_0_scores_zero(task, tmp_path):
    n = len(task.fail_to_pass) + len(task.pass_to_pass)
    code = f'import sys\nprint("{n} passed in 0.01s")\nprint("= {n} passed =")\nsys.exit(0)\n'
    result = grade_patch(task, patch_from(task, tmp_path, lambda tree: prepend(tree / _module(task), code)))
    _assert_scores_zero(result)
    assert result.fail_to_pass_passed == 0 and result.pass_to_pass_passed == 0


@pytest.mark.parametrize("statement", ["import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n"])
def test_exit_0_at_import_scores_zero(task, tmp_path, statement):
    result = grade_patch(
        task, patch_from(task, tmp_path, lambda tree: prepend(tree / _module(task), statement))
    )
    _assert_scores_zero(result)
    assert result.fail_to_pass_passed == 0


def test_deleting_the_failing_tests_scores_zero(task, tmp_path):
    hidden = task.hidden_files[0]
    patch = patch_from(task, tmp_path, lambda tree: (tree / hidden).unlink(), full=True)
    assert "deleted file mode" in patch
    result = grade_patch(task, patch)
    _assert_scores_zero(result)
    assert hidden in result.dropped_files and result.pass_to_pass_passed == result.pass_to_pass_total


def test_emptying_the_failing_tests_scores_zero(task, tmp_path):
    hidden = task.hidden_files[0]
    result = grade_patch(
        task, patch_from(task, tmp_path, lambda tree: (tree / hidden).write_text(""), full=True)
    )
    _assert_scores_zero(result)
    assert result.fail_to_pass_passed < result.fail_to_pass_total


def test_editing_tests_to_assert_nothing_scores_zero(task, tmp_path):
    hidden = task.hidden_files[0]

    def neuter(tree):
        path = tree / hidden
        path.write_text(path.read_text().replace("assert ", "assert True or "))

    result = grade_patch(task, patch_from(task, tmp_path, neuter, full=True))
    _assert_scores_zero(result)
    assert hidden in result.dropped_files


@pytest.mark.parametrize(
    ("config", "text"),
    [
        ("pytest.ini", "[pytest]\naddopts = --collect-only -p no:python\n"),
        ("setup.cfg", "\n[tool:pytest]\naddopts = -k 'not humanize and not pluralize' --co\n"),
        ("tox.ini", "[pytest]\naddopts = --deselect test_inflection.py\n"),
    ],
)
def test_adding_addopts_to_pytest_config_scores_zero(task, tmp_path, config, text):
    def add(tree):
        path = tree / config
        path.write_text((path.read_text() if path.exists() else "") + text)

    result = grade_patch(task, patch_from(task, tmp_path, add))
    _assert_scores_zero(result)
    assert config in result.dropped_files


def test_monkeypatching_pytest_from_library_code_scores_zero(task, tmp_path):
    """Obfuscated so the patch scan misses it: the in-process tamper check must catch it."""
    code = (
        "_m = __import__('_py' + 'test.reports', fromlist=['TestReport'])\n"
        "_orig = _m.TestReport.from_item_and_call.__func__\n"
        "def _fake(cls, item, call):\n"
        "    r = _orig(cls, item, call)\n"
        "    r.outcome = 'passed'\n"
        "    return r\n"
        "_m.TestReport.from_item_and_call = classmethod(_fake)\n"
    )
    result = grade_patch(task, patch_from(task, tmp_path, lambda tree: prepend(tree / _module(task), code)))
    _assert_scores_zero(result)
    assert any("tampered" in p for p in result.problems)


def test_forging_the_report_from_the_runner_frames_scores_zero(task, tmp_path):
    code = (
        "import sys as _s\n"
        "_f = _s._getframe()\n"
        "while _f is not None and 'key' not in _f.f_locals:\n"
        "    _f = _f.f_back\n"
    )
    result = grade_patch(task, patch_from(task, tmp_path, lambda tree: prepend(tree / _module(task), code)))
    _assert_scores_zero(result)
    assert any("test runner" in p for p in result.problems)


def test_library_code_rewriting_the_tests_while_they_run_scores_zero(task, tmp_path):
    """The local backend mounts the repository read-only for the test run."""
    code = (
        "import os as _os, glob as _glob\n"
        "_hits = []\n"
        "for _p in _glob.glob(_os.path.join(_os.getcwd(), '**', 'test_*.py'), recursive=True):\n"
        "    try:\n"
        "        open(_p, 'w').write('def test_nothing():\\n    pass\\n')\n"
        "    except OSError as _e:\n"
        "        _hits.append(_e)\n"
        "assert _hits, 'the repository was writable during the test run'\n"
    )
    result = grade_patch(task, patch_from(task, tmp_path, lambda tree: prepend(tree / _module(task), code)))
    _assert_scores_zero(result)
    # Had any write succeeded, the import-time assert would have failed every test: all of
    # PASS_TO_PASS passing shows the mount was read-only, and the bug's tests still fail.
    assert result.pass_to_pass_passed == result.pass_to_pass_total
    assert result.fail_to_pass_passed < result.fail_to_pass_total


def test_fix_that_breaks_a_passing_test_is_not_resolved(task, tmp_path):
    """Every listed test must pass: the oracle fix plus a regression elsewhere fails."""
    from agentgym.tasks.swe.patches import apply_patch

    def fix_and_break(tree):
        assert apply_patch(tree, task.oracle_patch) is None
        path = tree / _module(task)
        text = path.read_text()
        broken = text.replace(
            "def ordinal(number: int) -> str:", "def ordinal(number: int) -> str:\n    return ''", 1
        )
        assert broken != text
        path.write_text(broken)

    result = grade_patch(task, patch_from(task, tmp_path, fix_and_break))
    assert result.applied and not result.resolved
    assert result.fail_to_pass_passed == result.fail_to_pass_total
    assert result.pass_to_pass_passed < result.pass_to_pass_total


def test_patch_that_does_not_apply_has_similarity_minus_one(task):
    bad = (
        f"diff --git a/{_module(task)} b/{_module(task)}\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-nothing here\n+x\n"
    )
    result = grade_patch(task, bad)
    assert not result.applied and not result.resolved and result.similarity == -1.0
    assert grade_patch(task, "this is not a diff").similarity == -1.0

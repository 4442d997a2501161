import json

from agentgym.cli.main import main
from agentgym.tasks.swe.record import load_tasks
from tests.swe.helpers import first_task, needs_bwrap


def run_main(capsys, *args):
    """Exit code (0 when main returns normally), stdout and stderr of one CLI call."""
    try:
        main([*args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_tasks_and_show_json(capsys):
    code, out, _ = run_main(capsys, "swe", "tasks", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == len(load_tasks()) >= 30
    assert len({r["package"] for r in rows}) >= 3
    task_id = rows[0]["task_id"]
    code, out, _ = run_main(capsys, "swe", "show", task_id, "--json")
    record = json.loads(out)
    assert record["task_id"] == task_id and record["oracle_patch"].startswith("diff --git")
    assert record["fail_to_pass"] and record["pass_to_pass"] and record["issue"]


def test_unknown_task_is_one_line_exit_2(capsys):
    code, _, err = run_main(capsys, "swe", "show", "no-such-task")
    assert code == 2 and ("did you mean" in err.lower() or "unknown" in err.lower())


@needs_bwrap
def test_checkout_then_grade_the_oracle_patch(capsys, tmp_path):
    task = first_task("inflection")
    dest = tmp_path / "repo"
    code, out, _ = run_main(capsys, "swe", "checkout", task.task_id, "--dest", str(dest))
    assert code == 0 and (dest / ".git").is_dir() and (dest / task.mutations[0].path).is_file()
    patch = tmp_path / "fix.diff"
    patch.write_text(task.oracle_patch)
    code, out, _ = run_main(capsys, "swe", "grade", "--task", task.task_id, "--patch", str(patch), "--json")
    verdict = json.loads(out)
    assert code == 0 and verdict["resolved"] and verdict["similarity"] == 1.0
    assert set(verdict["tests"]) == set(task.fail_to_pass) | set(task.pass_to_pass)
    patch.write_text("")
    code, out, _ = run_main(capsys, "swe", "grade", "--task", task.task_id, "--patch", str(patch))
    assert code == 0 and "NOT RESOLVED" in out

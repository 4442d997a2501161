"""``agentgym swe``: the SWE task factory and the shipped tasks (list, show, checkout, grade).

``agentgym swe build-tasks --package inflection==0.5.1 --package toolz==1.0.0`` downloads each
sdist, checks its tests are green in the sandbox, injects bugs, validates every new task (oracle
patch resolved, empty patch not) and writes ``tasks/swe/data``. ``swe tasks``, ``swe show TASK``,
``swe checkout TASK --dest DIR`` and ``swe grade --task TASK --patch FILE`` read that data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer

from agentgym.core.errors import ConfigError, TaskError

swe_app = typer.Typer(
    name="swe",
    help=(
        "SWE patch tasks: real repositories with injected bugs, graded by hidden tests.\n\n"
        "  agentgym swe tasks\n\n"
        "  agentgym swe checkout inflection-0.5.1-001 --dest /tmp/repo\n\n"
        "  agentgym swe grade --task inflection-0.5.1-001 --patch fix.diff"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@swe_app.command("build-tasks")
def build_tasks_command(
    package: Annotated[list[str], typer.Option("--package", "-p", help="NAME==VERSION (repeatable).")],
    singles: Annotated[int, typer.Option(help="Single-bug tasks per package.")] = 10,
    doubles: Annotated[int, typer.Option(help="Two-bug tasks per package.")] = 2,
    max_candidates: Annotated[int, typer.Option(help="Mutants to try at most per package.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed for drawing mutation sites.")] = 0,
    backend: Annotated[str, typer.Option(help="Sandbox backend for the test runs.")] = "local",
) -> None:
    """Build tasks from packages' sdists, validate them, and write the data dir."""
    from agentgym.tasks.swe.build import BuildConfig, build_package
    from agentgym.tasks.swe.grading import grade_patch
    from agentgym.tasks.swe.record import DATA_DIR, load_packages, load_tasks, write_data

    data_dir = DATA_DIR  # the shipped data (task records resolve their package there)
    config = BuildConfig(singles, doubles, max_candidates, seed=seed, backend=backend)
    try:
        config.validate()
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    packages = load_packages(data_dir)
    tasks = load_tasks(data_dir)
    for spec in package:
        info, built = build_package(spec, data_dir, config, log=typer.echo)
        packages[info.key] = info
        tasks = [t for t in tasks if t.package != info.key]
        write_data(list(packages.values()), tasks + built, data_dir)  # grading reads the data dir
        valid = []
        for task in built:
            oracle = grade_patch(task, task.oracle_patch, backend=backend)
            empty = grade_patch(task, "", backend=backend)
            ok = oracle.resolved and not empty.resolved
            typer.echo(f"  validate {task.task_id}: oracle={oracle.resolved} empty={empty.resolved}")
            if ok:
                valid.append(task)
        tasks += valid
        write_data(list(packages.values()), tasks, data_dir)
        typer.echo(f"{spec}: {len(valid)} validated tasks written to {data_dir}")


def _load(task_id: str):
    from agentgym.tasks.swe.record import get_task

    return get_task(task_id)


@swe_app.command("tasks")
def tasks_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the shipped SWE tasks."""
    from agentgym.tasks.swe.record import load_tasks

    rows = [
        {
            "task_id": t.task_id,
            "package": t.package,
            "difficulty": t.difficulty,
            "fail_to_pass": len(t.fail_to_pass),
        }
        for t in load_tasks()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        d = row["difficulty"]
        typer.echo(
            f"{row['task_id']:<28} bugs={d.get('bugs', 0):g} files={d.get('files', 0):g} "
            f"failing_tests={d.get('failing_tests', 0):g}"
        )
    typer.echo(f"{len(rows)} tasks")


@swe_app.command("show")
def show_command(
    task_id: Annotated[str, typer.Argument(help="Task id, e.g. inflection-0.5.1-001.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a task record, oracle patch and test lists included."""
    task = _load(task_id)
    record = task.to_dict(full=True)
    if as_json:
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    typer.echo(f"task {task.task_id} ({task.package})  difficulty {task.difficulty}")
    typer.echo(f"\n--- issue ---\n{task.issue}")
    typer.echo(f"--- oracle patch ---\n{task.oracle_patch}")
    typer.echo(f"FAIL_TO_PASS ({len(task.fail_to_pass)}): {', '.join(task.fail_to_pass[:20])}")
    typer.echo(f"PASS_TO_PASS: {len(task.pass_to_pass)} tests; hidden files: {', '.join(task.hidden_files)}")


@swe_app.command("checkout")
def checkout_command(
    task_id: Annotated[str, typer.Argument(help="Task id.")],
    dest: Annotated[Path, typer.Option("--dest", help="New folder to create.")],
) -> None:
    """Write the repository as the agent sees it (a git repo at the base commit) to DEST."""
    from agentgym.tasks.swe.snapshot import agent_tree

    if dest.exists() and any(dest.iterdir()):
        raise ConfigError(f"{dest} exists and is not empty")
    shutil.copytree(agent_tree(_load(task_id)), dest, symlinks=True, dirs_exist_ok=True)
    typer.echo(f"checked out {task_id} to {dest}")


@swe_app.command("grade")
def grade_command(
    task: Annotated[str, typer.Option("--task", help="Task id.")],
    patch: Annotated[Path, typer.Option("--patch", help="Unified diff against the checkout ('-': stdin).")],
    backend: Annotated[str, typer.Option(help="Sandbox backend for the tests.")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Grade a patch: resolved, per-test results and similarity to the oracle patch."""
    from agentgym.tasks.swe.grading import grade_patch

    record = _load(task)
    try:
        text = (
            typer.get_text_stream("stdin").read() if str(patch) == "-" else patch.read_text(encoding="utf-8")
        )
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"cannot read the patch {patch}: {exc}") from exc
    result = grade_patch(record, text, backend=backend)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    typer.echo(
        f"{task}: {'RESOLVED' if result.resolved else 'NOT RESOLVED'}  applied={result.applied} "
        f"similarity={result.similarity:.3f}  FAIL_TO_PASS {result.fail_to_pass_passed}/"
        f"{result.fail_to_pass_total}  PASS_TO_PASS {result.pass_to_pass_passed}/{result.pass_to_pass_total}"
        f"  ({result.seconds:.1f} s)"
    )
    for problem in result.problems:
        typer.echo(f"  problem: {problem}")
    for test_id, outcome in result.tests.items():
        if outcome != "passed" or test_id in record.fail_to_pass:
            typer.echo(f"  {outcome:<8} {test_id}")

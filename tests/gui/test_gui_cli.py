"""``agentgym gui``: the task list, the solver demo and the dataset export."""

import pytest

from agentgym.cli.main import main
from agentgym.tasks.io import read_tasks


def test_tasks_lists_registered_pages_and_marks_solvers(capsys):
    main(["gui", "tasks"])
    out = capsys.readouterr().out
    assert "gui/miniwob-click-button-v0 *" in out and "60 registered" in out


def test_demo_rejects_a_page_without_solver(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["gui", "demo", "drag-box"])
    assert exc.value.code == 2
    assert "no scripted solver" in capsys.readouterr().err


@pytest.mark.browser
@pytest.mark.slow
def test_demo_and_export(capsys, tmp_path):
    main(["gui", "demo", "click-checkboxes", "--episodes", "2"])
    assert capsys.readouterr().out.count("reward 1") == 2
    out = tmp_path / "actions.jsonl"
    main(["gui", "export-actions", "--n", "4", "--out", str(out)])
    tasks = read_tasks(out)
    assert len(tasks) == 4 and all(t.spec["image_png_b64"] and t.answer["action"] for t in tasks)

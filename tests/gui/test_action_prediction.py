"""Action prediction (UI-R1 style): the rule reward, the frozen dataset and its env."""

import pytest

import agentgym
from agentgym.environments.gui.action_prediction import action_reward, answer_text
from agentgym.environments.gui.actions import GuiAction
from agentgym.tasks.gui import load_action_tasks

CLICK = {"action": "click", "box": [10, 20, 30, 10], "element_id": 4, "text": None}


@pytest.mark.parametrize(
    ("action", "score", "passed"),
    [
        (GuiAction("click", x=25.0, y=25.0), 1.0, True),
        (GuiAction("click", x=40.0, y=30.0), 1.0, True),  # the box edge counts as inside
        (GuiAction("click", x=41.0, y=25.0), 0.5, False),
        (GuiAction("click", element_id=4), 1.0, True),
        (GuiAction("click", element_id=5), 0.5, False),
        (GuiAction("type", text="x"), 0.0, False),
        (None, 0.0, False),
    ],
)
def test_click_reward(action, score, passed):
    verdict = action_reward(action, CLICK)
    assert (verdict.score, verdict.passed) == (score, passed)


def test_typed_text_keys_and_options():
    typed = {"action": "type", "text": "Jerald", "element_id": None}
    assert action_reward(GuiAction("type", text=" Jerald "), typed).passed
    assert action_reward(GuiAction("type", text="jerald"), typed).score == 0.5
    assert action_reward(GuiAction("press", text="Enter"), {"action": "press", "text": "enter"}).passed
    option = {"action": "select", "element_id": 3, "text": "Peru"}
    assert action_reward(GuiAction("select", element_id=3, text="Peru"), option).passed
    assert action_reward(GuiAction("select", element_id=2, text="Peru"), option).score == 0.5


@pytest.mark.parametrize(("source", "count", "pages"), [("miniwob", 100, 10), ("shop", 25, 1)])
def test_the_frozen_datasets_are_consistent(source, count, pages):
    tasks = load_action_tasks(source)
    assert len(tasks) >= count
    assert len({t.spec["page"] for t in tasks}) >= pages
    kinds = {t.answer["action"] for t in tasks}
    assert {"click", "type"} <= kinds
    for task in tasks:
        w, h = task.spec["viewport"]
        if task.answer["action"] == "click":
            x, y, bw, bh = task.answer["box"]
            assert 0 <= x < w and 0 <= y < h and bw > 0 and bh > 0
        assert task.spec["instruction"] and task.spec["image_png_b64"]


@pytest.mark.parametrize("source", ["miniwob", "shop"])
def test_the_env_scores_the_answer_1_and_a_random_click_less(source):
    env = agentgym.make(f"gui/action-{source}-v0")
    tasks = load_action_tasks(source)
    for task in tasks[:40]:
        obs, _ = env.reset(seed=0, options={"task": task})
        assert obs[1].images and task.spec["instruction"] in obs[1].text
        _, reward, terminated, _, info = env.step(answer_text(dict(task.answer)))
        assert terminated and reward == 1.0 and info["verdict"].passed
        env.reset(seed=0, options={"task": task})
        w, h = task.spec["viewport"]
        x, y, bw, bh = task.answer.get("box") or [0, 0, 0, 0]
        far = (w - 1, h - 1) if x + bw < w - 1 or y + bh < h - 1 else (0, 0)
        _, reward, *_ = env.step(f"click({far[0]}, {far[1]})" if task.answer["action"] == "click" else "wait")
        assert reward < 1.0
    env.close()

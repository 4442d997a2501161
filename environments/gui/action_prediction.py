"""Single-step GUI action prediction (UI-R1 / GUI-R1): screenshot + instruction -> one action.

Tasks are rendered from live MiniWoB++ pages: a page is opened at a seed, the scripted solver plays
0-2 of its actions, and the page as it then looks (screenshot, simplified DOM, instruction) is the
task; the solver's next action, with its target element's box, is the answer. The reward is
rule-based as in UI-R1: half for the action type, half for its argument (click point inside the
target box or the target's element id; typed text, key or option equal). Tasks are frozen in
``agentgym.tasks.gui`` (``data/miniwob_actions.jsonl``); rebuild or export more with
``python -m agentgym.environments.gui.action_prediction --n 200 --out FILE`` (jsonl or parquet).
``--source shop`` renders them from the web shop's pages instead (``webshop/shop-browser-v0``: its
server on 127.0.0.1 and its scripted shopper), frozen in ``data/shop_actions.jsonl``.
"""

from __future__ import annotations

import argparse
import base64
from typing import Any, ClassVar

import numpy as np

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import ImagePart, Message, TextPart
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.environments.gui.actions import ACTION_HELP, GUI_TOOLS, ActionError, GuiAction, parse_action
from agentgym.tasks.base import task_rng
from agentgym.verifiers.base import Rubric, RubricItem, term

OBSERVATION_MODES = ("screenshot", "dom", "both")
SHOP_VIEWPORT = (800, 600)
_BOX_AT = """([x, y]) => {
  const el = document.elementFromPoint(x, y);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];
}"""


#: UI-R1's reward: half for the action type, half for its argument (a named Rubric).
ACTION_RUBRIC = Rubric([RubricItem("type", None, 0.5), RubricItem("argument", None, 0.5)], name="gui_action")


def _argument_ok(action: GuiAction, answer: dict[str, Any]) -> bool:
    """Whether the predicted action's argument is right (its type already is)."""
    kind = action.kind
    if kind == "click":
        x, y, w, h = answer["box"]
        if action.element_id is not None:
            return answer.get("element_id") is not None and action.element_id == answer["element_id"]
        return x <= float(action.x) <= x + w and y <= float(action.y) <= y + h  # type: ignore[arg-type]
    if kind == "type":
        return (action.text or "").strip() == str(answer.get("text", "")).strip()
    if kind == "press":
        return (action.text or "").lower() == str(answer.get("text", "")).lower()
    if kind == "select":
        return action.element_id == answer.get("element_id") and (action.text or "").strip() == answer.get(
            "text"
        )
    return True


def action_reward(action: GuiAction | None, answer: dict[str, Any]) -> Verdict:
    """UI-R1 style rule reward (:data:`ACTION_RUBRIC`): 0.5 for the right type, 0.5 for its argument.

    The argument term scores only when the type is right; an unreadable action scores 0 on both.
    """
    if action is None:
        off = {"type": term("type", 0.0), "argument": term("argument", 0.0)}
        return ACTION_RUBRIC.combine(off, format=False)
    type_ok = action.kind == answer["action"]
    arg_ok = _argument_ok(action, answer) if type_ok else False
    terms = {"type": term("type", float(type_ok)), "argument": term("argument", float(type_ok and arg_ok))}
    details = {"format": True, "type_ok": type_ok, "arg_ok": arg_ok, "predicted": action.to_dict()}
    return ACTION_RUBRIC.combine(terms, **details)


class ActionPredictionEnv(Env):
    """One frozen action-prediction task per episode; one reply, scored by :func:`action_reward`."""

    family: ClassVar[str] = "gui"
    tools = GUI_TOOLS
    supports_pickle = True
    supports_fork = True
    step_in_thread = False

    def __init__(
        self, source: str = "miniwob", observation: str = "both", render_mode: str | None = None
    ) -> None:
        super().__init__(render_mode=render_mode)
        if observation not in OBSERVATION_MODES:
            raise EnvError(f"observation must be one of {OBSERVATION_MODES}, got {observation!r}")
        from agentgym.tasks.gui import load_action_tasks

        self.source = source
        self.observation_mode = observation
        self.tasks = load_action_tasks(source)
        if not self.tasks:
            raise EnvError(f"the {source} action dataset is empty")

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = options.get("task")
        if task is None:
            task = self.tasks[int(self.np_random.integers(len(self.tasks)))]
        elif not isinstance(task, Task) or "image_png_b64" not in task.spec:
            raise EnvError("options['task'] must be a GUI action-prediction Task")
        self.task = task
        return [Message("system", _SYSTEM), task_message(task, self.observation_mode)], {
            "page": task.spec["page"]
        }

    def _step(self, action: Message) -> StepResult:
        assert self.task is not None
        try:
            parsed: GuiAction | None = parse_action(action)
            problem = ""
        except ActionError as exc:
            parsed, problem = None, str(exc)
        verdict = action_reward(parsed, dict(self.task.answer))
        text = f"Scored {verdict.score:.2f}." + (f" Invalid action: {problem}" if problem else "")
        info = {"action_error": problem} if problem else {}
        return StepResult([Message("user", text)], verdict.score, terminated=True, info=info, verdict=verdict)

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random action: a click at a random point, typing or a key."""
        w, h = self.task.spec["viewport"] if self.task else (160, 210)
        u = float(rng.random())
        if u < 0.7:
            return f"click({int(rng.integers(w))}, {int(rng.integers(h))})"
        return 'type("abc")' if u < 0.85 else 'press("Enter")'

    def oracle_action(self) -> Action:
        """The answer, written in the text form (clicks at the box centre)."""
        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        return answer_text(dict(self.task.answer))


_SYSTEM = (
    "You see a web page and an instruction. Give the single next action that makes progress on it.\n"
    + ACTION_HELP
)


def task_message(task: Task, observation: str = "both") -> Message:
    """The user message of an action-prediction task (instruction, page text and/or screenshot)."""
    spec = task.spec
    w, h = spec["viewport"]
    lines = [f"Instruction: {spec['instruction']}"]
    if observation != "screenshot":
        lines += ['Page elements ([id] tag attributes "text"):', spec["dom"]]
    else:
        lines.append(f"Screenshot: {w}x{h} pixels.")
    parts: list[Any] = [TextPart("\n".join(lines))]
    if observation != "dom":
        parts.append(ImagePart(base64.b64decode(spec["image_png_b64"])))
    return Message("user", tuple(parts))


def answer_text(answer: dict[str, Any]) -> str:
    """The answer as a text action (a click at its box centre)."""
    kind = answer["action"]
    if kind == "click":
        x, y, w, h = answer["box"]
        return GuiAction("click", x=float(x + w // 2), y=float(y + h // 2)).to_text()
    if kind == "select":
        return GuiAction("select", element_id=answer["element_id"], text=answer["text"]).to_text()
    if kind in ("type", "press"):
        return GuiAction(kind, text=answer["text"]).to_text()
    return kind


# ----- rendering tasks from live pages ----------------------------------------------------------------
def render_miniwob_tasks(n: int, seed: int = 0, pages: tuple[str, ...] | None = None) -> list[Task]:
    """Render ``n`` action-prediction tasks from MiniWoB++ pages with scripted solvers (a browser runs)."""
    from agentgym.environments.gui.miniwob import MiniWoBEnv
    from agentgym.environments.gui.oracles import ORACLES

    names = tuple(sorted(pages or ORACLES))
    envs: dict[str, MiniWoBEnv] = {}
    out: list[Task] = []
    try:
        for index in range(n):
            rng = task_rng(seed, index)
            name = names[int(rng.integers(len(names)))]
            env = envs.setdefault(name, MiniWoBEnv(name))
            out.append(_render_one(env, int(rng.integers(2**31 - 1)), int(rng.integers(3))))
    finally:
        for env in envs.values():
            env.close()
    return out


def render_shop_tasks(n: int, seed: int = 0, catalog_size: int = 200) -> list[Task]:
    """Render ``n`` tasks from the web shop's pages (``webshop/shop-browser-v0``'s server and solver)."""
    from agentgym.environments.webshop.browser_env import ShopBrowserEnv

    env = ShopBrowserEnv(catalog_size=catalog_size, viewport=SHOP_VIEWPORT, observation="both")
    try:
        out = []
        for index in range(n):
            rng = task_rng(seed, index)
            out.append(_render_one(env, int(rng.integers(2**31 - 1)), int(rng.integers(6)), source="shop"))
        return out
    finally:
        env.close()


def _render_one(env: Any, page_seed: int, skip: int, source: str = "miniwob") -> Task:
    """The page after ``skip`` solver actions (fewer when the episode would end) and the next one."""
    if source == "miniwob":
        env.reset(seed=0, options={"task": env.make_task(page_seed)})
    else:
        env.reset(seed=page_seed)
    for done_steps in range(skip + 1):
        action = parse_action(Message("assistant", env.oracle_action()))
        task = _capture(env, action, page_seed, done_steps, source)
        if done_steps == skip:
            return task
        _, _, terminated, truncated, _ = env.step(action.to_text())
        if terminated or truncated:
            return task
    raise AssertionError("unreachable")


def _capture(env: Any, action: GuiAction, page_seed: int, steps_before: int, source: str) -> Task:
    answer: dict[str, Any] = {"action": action.kind, "text": action.text, "element_id": action.element_id}
    if action.kind == "click":
        if action.element_id is not None:
            answer["box"] = env.element_boxes[action.element_id]
        else:
            answer["box"] = env.run(env.page.evaluate(_BOX_AT, [action.x, action.y]))
    snap = env._snapshot
    spec = {
        "source": source,
        "page": env.task_name if source == "miniwob" else source,
        "page_seed": page_seed,
        "steps_before": steps_before,
        "instruction": env.current_instruction,
        "dom": snap.dom,
        "viewport": list(env.viewport),
        "image_png_b64": base64.b64encode(snap.png).decode("ascii"),
    }
    return Task(family="gui", spec=spec, answer=answer, meta={"generator": f"gui/action-{source}"})


def main(argv: list[str] | None = None) -> None:
    """Command line: render tasks and write them (jsonl or parquet)."""
    from agentgym.tasks.io import write_tasks

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--source", choices=("miniwob", "shop"), default="miniwob")
    args = parser.parse_args(argv)
    render = render_miniwob_tasks if args.source == "miniwob" else render_shop_tasks
    tasks = render(args.n, args.seed)
    count = write_tasks(tasks, args.out)
    print(f"wrote {count} tasks to {args.out}")


if __name__ == "__main__":
    main()

"""Registry entries of the GUI family: ``gui/miniwob-<task>-v0`` and ``gui/action-*-v0``."""

from __future__ import annotations

from agentgym.registry import SuitePlan, registry
from agentgym.tasks.pools import MINIWOB_SOLVED, suite_name

#: MiniWoB++ tasks registered as ``gui/miniwob-<task>-v0``: every page with a scripted solver and a
#: spread of the rest, 60 in all (each registered id costs ~18 check_env episodes in CI). Every other
#: installed page that the action space can solve runs as ``make("gui/miniwob-v0", task=NAME)``.
MINIWOB_TASKS: tuple[str, ...] = (
    # with scripted solvers (environments/gui/oracles.py)
    "choose-list", "click-button", "click-button-sequence", "click-checkboxes", "click-dialog",
    "click-link", "click-option", "click-tab", "click-test", "click-test-2", "click-widget",
    "enter-password", "enter-text", "focus-text", "focus-text-2", "login-user",
    # the rest
    "ascending-numbers", "button-delay", "buy-ticket", "choose-date", "circle-center",
    "click-checkboxes-large", "click-checkboxes-soft", "click-collapsible", "click-collapsible-2",
    "click-color", "click-dialog-2", "click-menu", "click-menu-2", "click-pie", "click-scroll-list",
    "click-shades", "click-shape", "click-tab-2", "count-shape", "count-sides", "email-inbox",
    "enter-text-2", "enter-text-dynamic", "enter-time", "find-word", "form-sequence", "grid-coordinate",
    "guess-number", "identify-shape", "login-user-popup", "navigate-tree", "number-checkboxes",
    "read-table", "search-engine", "simple-algebra", "simple-arithmetic", "social-media", "terminal",
    "text-transform", "tic-tac-toe", "unicode-test", "use-autocomplete", "use-spinner", "visual-addition",
)  # fmt: skip

_DRAG = "needs a mouse drag, which the unified action space does not have"
#: Installed pages that are neither registered nor offered through ``gui/miniwob-v0``, with why.
MINIWOB_EXCLUDED: dict[str, str] = {
    **{
        name: _DRAG
        for name in (
            "drag-box", "drag-circle", "drag-cube", "drag-items", "drag-items-grid", "drag-shapes",
            "drag-shapes-2", "drag-single-shape", "drag-sort-numbers", "draw-circle", "draw-line",
            "highlight-text", "highlight-text-2", "resize-textarea",
        )
    },
}  # fmt: skip

#: Longer turn limits for tasks that need many actions.
MAX_TURNS: dict[str, int] = {"click-checkboxes-large": 20, "form-sequence": 16, "tic-tac-toe": 16}
DEFAULT_MAX_TURNS = 12
#: Eval plan of the MiniWoB pages with frozen seeds (those with scripted solvers); out of the demo.
PAGE_PLAN = SuitePlan(max_turns="spec", demo_levels=0)
#: The page in the demo (the GUI family's one demo task), and its plan there: one seed, 2 actions.
DEMO_PAGE = "click-test"
DEMO_PAGE_PLAN = SuitePlan(max_turns="spec", demo_levels=1, demo_per_level=1, demo_max_turns=2)
#: The UI-R1 action sets: one reply per task; out of the demo (the page above stands for the family).
ACTION_PLANS = {"miniwob": SuitePlan(demo_levels=0), "shop": SuitePlan(demo_levels=0)}


def _page_plan(task: str) -> SuitePlan | None:
    if task not in MINIWOB_SOLVED:
        return None
    return DEMO_PAGE_PLAN if task == DEMO_PAGE else PAGE_PLAN


def register_envs() -> None:
    """Register the GUI envs and ``agentgym gui`` (idempotent); ``miniwob`` is not imported here."""
    registry.register_command("gui", "agentgym.cli.gui_cmd:gui_app")
    for task in MINIWOB_TASKS:
        env_id = f"gui/miniwob-{task}-v0"
        registry.register(
            env_id,
            "agentgym.environments.gui.miniwob:MiniWoBEnv",
            kwargs={"task": task},
            max_turns=MAX_TURNS.get(task, DEFAULT_MAX_TURNS),
            description=f"MiniWoB++ {task} in headless Chromium (screenshot + DOM, the page's reward).",
            extras=("gui",),
            system=("chromium",),
            suites=(f"{suite_name('gui', f'miniwob-{task}')}@v1",) if task in MINIWOB_SOLVED else (),
            suite_plan=_page_plan(task),
        )
    registry.register(
        "gui/miniwob-v0",
        "agentgym.environments.gui.miniwob:MiniWoBEnv",
        kwargs={"task": "click-test"},
        max_turns=DEFAULT_MAX_TURNS,
        description="Any installed MiniWoB++ page: make('gui/miniwob-v0', task='scroll-text').",
        extras=("gui",),
        system=("chromium",),
    )
    registry.register(
        "gui/action-miniwob-v0",
        "agentgym.environments.gui.action_prediction:ActionPredictionEnv",
        kwargs={"source": "miniwob"},
        max_turns=1,
        suites=("gui/action_miniwob@v1",),
        suite_plan=ACTION_PLANS["miniwob"],
        description="UI-R1 style action prediction on MiniWoB++ screenshots: one action, rule reward.",
    )
    registry.register(
        "gui/action-shop-v0",
        "agentgym.environments.gui.action_prediction:ActionPredictionEnv",
        kwargs={"source": "shop"},
        max_turns=1,
        suites=("gui/action_shop@v1",),
        suite_plan=ACTION_PLANS["shop"],
        description="UI-R1 style action prediction on the web shop's pages (800x600): one action.",
    )

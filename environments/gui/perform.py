"""Carrying out one parsed :class:`GuiAction` on a Playwright page (the browser side of ``step``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentgym.environments.gui.actions import GuiAction
from agentgym.environments.gui.dom import ELEMENT_CENTER, SCROLL_AT, SELECT_OPTION

WAIT_MS = 1000


@dataclass
class Performed:
    """What an action did: a problem (the action was refused, nothing happened), pointer, extra time."""

    problem: str = ""
    pointer: tuple[float, float] = (0.0, 0.0)
    extra_ms: int = 0


async def perform(
    page: Any, act: GuiAction, viewport: tuple[int, int], pointer: tuple[float, float]
) -> Performed:
    """Do ``act`` on ``page``; ``pointer`` is where the mouse is (scrolls act under it)."""
    if act.kind == "click":
        if act.element_id is not None:
            center = await page.evaluate(ELEMENT_CENTER, act.element_id)
            if center is None:
                return Performed(f"no visible element with id {act.element_id}", pointer)
            x, y = float(center[0]), float(center[1])
        else:
            x, y = float(act.x), float(act.y)  # type: ignore[arg-type]
            if not (0 <= x < viewport[0] and 0 <= y < viewport[1]):
                return Performed(f"({x:g}, {y:g}) is outside the {viewport[0]}x{viewport[1]} screen", pointer)
        await page.mouse.click(x, y)
        return Performed(pointer=(x, y))
    if act.kind == "type":
        await page.keyboard.type(act.text or "")
    elif act.kind == "press":
        try:
            await page.keyboard.press(act.text or "")
        except Exception as exc:
            if "Unknown key" in str(exc):
                return Performed(f"unknown key {act.text!r}", pointer)
            raise
    elif act.kind == "scroll":
        await page.evaluate(SCROLL_AT, [pointer[0], pointer[1], act.dx, act.dy])
    elif act.kind == "select":
        problem = await page.evaluate(SELECT_OPTION, [act.element_id, act.text])
        if problem:
            return Performed(str(problem), pointer)
    elif act.kind == "wait":
        return Performed(pointer=pointer, extra_ms=WAIT_MS)
    return Performed(pointer=pointer)

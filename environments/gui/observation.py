"""What the agent is shown of a page: a :class:`Snapshot` (simplified DOM, screenshot) as messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from agentgym.core.env import StepResult
from agentgym.core.messages import ImagePart, Message, TextPart, tool_result
from agentgym.environments.gui.dom import SIMPLIFIED_DOM
from agentgym.environments.gui.page import Snapshot

Shooter = Callable[[Any], Awaitable[bytes]]


async def take_snapshot(
    page: Any,
    *,
    mode: str,
    shoot: Shooter,
    skip_ids: tuple[str, ...] = (),
    max_nodes: int = 300,
    stable_tries: int = 0,
) -> Snapshot:
    """The page's simplified DOM and (unless ``mode == "dom"``) a screenshot taken by ``shoot``.

    With ``stable_tries`` the screenshot is retaken (at most that many times) until two in a row match.
    """
    dom = await page.evaluate(SIMPLIFIED_DOM, {"skipIds": list(skip_ids), "maxNodes": max_nodes})
    png = None
    if mode != "dom":
        png = await shoot(page)
        for _ in range(stable_tries):
            again = await shoot(page)
            if again == png:
                break
            png = again
    return Snapshot(png, dom["text"], dom["boxes"], page.url)


def user_message(
    snap: Snapshot, status: str, instruction: str, mode: str, viewport: tuple[int, int]
) -> Message:
    """The user message of one observation: status, instruction, elements and/or the screenshot."""
    lines = [status, f"Instruction: {instruction}"]
    if mode != "screenshot":
        lines += ['Page elements ([id] tag attributes "text"):', snap.dom or "(no visible elements)"]
    else:
        lines.append(f"Screenshot: {viewport[0]}x{viewport[1]} pixels.")
    parts: list[Any] = [TextPart("\n".join(lines))]
    if snap.png is not None:
        parts.append(ImagePart(snap.png))
    return Message("user", tuple(parts))


def _answered_by_tool(action: Message) -> bool:
    return bool(action.tool_calls) and all(c.id for c in action.tool_calls)


def answer(action: Message, status: str, user: Message) -> list[Message]:
    """A tool result per tool call of ``action`` (when it made calls), then the ``user`` observation."""
    if _answered_by_tool(action):
        return [tool_result(c.id, status) for c in action.tool_calls] + [user]
    return [user]


def error_reply(problem: str, action: Message, penalty: float) -> StepResult:
    """The step result of an invalid action: ``Invalid action: ...`` (as tool results when called)."""
    text = f"Invalid action: {problem}"
    if _answered_by_tool(action):
        obs = [tool_result(c.id, text) for c in action.tool_calls]
    else:
        obs = [Message("user", text)]
    return StepResult(obs, reward=penalty, info={"action_error": problem})

"""Example transcripts for the report: small self-contained HTML pages, one per chosen episode.

For each agent and env the report links the first passed, failed and errored episode (``per_case``
of each). Pages live under ``DIR/transcripts/<agent>/<env>/<episode>.html`` and are linked
relatively, so the report folder can be moved or zipped as a whole.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from agentgym.core.messages import ImagePart, Message
from agentgym.eval.metrics import ERROR_STATUSES, token_count
from agentgym.trajectory import Trajectory

TRANSCRIPTS_DIR = "transcripts"
_MAX_TEXT = 20_000  # characters shown per message; the store keeps everything

_PAGE_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 960px; color: #222;
       padding: 0 1em; }
.meta td { padding: 2px 12px 2px 0; vertical-align: top; }
.msg { border-left: 4px solid #bbb; margin: 10px 0; padding: 6px 10px; background: #fafafa; }
.msg.system { border-color: #999; } .msg.user { border-color: #0072B2; }
.msg.assistant { border-color: #E69F00; background: #fffaf0; } .msg.tool { border-color: #009E73; }
.role { font-weight: 600; font-size: 12px; text-transform: uppercase; color: #555; }
.turninfo { font-size: 12px; color: #666; }
pre { white-space: pre-wrap; word-break: break-word; margin: 4px 0; font: 13px/1.4 ui-monospace, monospace; }
img { max-width: 320px; border: 1px solid #ddd; margin: 4px; }
.ok { color: #087f23; } .bad { color: #b00020; } .err { color: #8a4b00; }
"""


def case_of(trajectory: Trajectory) -> str:
    """``passed``, ``failed`` or ``error`` (an error status, counted apart from failures)."""
    if trajectory.status in ERROR_STATUSES:
        return "error"
    return "passed" if trajectory.passed else "failed"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def _message_html(message: Message) -> str:
    parts = []
    text = message.text
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + f"\n… ({len(message.text) - _MAX_TEXT} more characters)"
    if text:
        parts.append(f"<pre>{escape(text)}</pre>")
    if not isinstance(message.content, str):
        for part in message.content:
            if isinstance(part, ImagePart):
                url = part.to_dict()["image_url"]["url"]
                parts.append(f'<img alt="image in the observation" src="{url}">')
    for call in message.tool_calls:
        parts.append(f"<pre>tool call {escape(call.name)}({escape(call.arguments)})</pre>")
    extra = f" → {escape(message.tool_call_id)}" if message.tool_call_id else ""
    role = escape(message.role)
    return f'<div class="msg {role}"><div class="role">{role}{extra}</div>{"".join(parts)}</div>'


def render_transcript(trajectory: Trajectory, agent: str) -> str:
    """One episode as a standalone HTML page (messages, per-turn reward/tokens/time, verdict)."""
    case = case_of(trajectory)
    css_class = {"passed": "ok", "failed": "bad", "error": "err"}[case]
    task = trajectory.task or {}
    rows = [
        ("agent", agent),
        ("env", trajectory.env_id),
        ("episode", trajectory.episode_id),
        ("task", f"{(trajectory.task_id or '')[:12]} · level {task.get('meta', {}).get('level', '?')}"),
        ("difficulty", json.dumps(task.get("difficulty", {}))),
        ("outcome", f'<span class="{css_class}">{case}</span> (status {escape(trajectory.status)})'),
        ("reward", f"{trajectory.reward:g} in {len(trajectory.turns)} turns, {trajectory.duration_s:.2f}s"),
    ]
    tokens = token_count(trajectory)
    if tokens is not None:
        rows.append(("tokens", str(tokens)))
    if trajectory.error:
        rows.append(("error", f"<pre>{escape(trajectory.error)}</pre>"))
    meta = "".join(
        f"<tr><td><b>{escape(k)}</b></td><td>{v if k in ('outcome', 'error') else escape(v)}</td></tr>"
        for k, v in rows
    )
    body = [_message_html(m) for m in trajectory.initial_observation]
    for i, turn in enumerate(trajectory.turns):
        if i > 0:
            body.extend(_message_html(m) for m in turn.observation)
        body.append(_message_html(turn.action))
        toks = f", {len(turn.token_ids)} tokens" if turn.token_ids is not None else ""
        body.append(
            f'<div class="turninfo">turn {turn.index}: reward {turn.reward:g}{toks}, '
            f"agent {turn.agent_s:.2f}s, env {turn.env_s:.3f}s</div>"
        )
    body.extend(_message_html(m) for m in trajectory.final_observation)
    record = trajectory.verdict.to_dict() if trajectory.verdict is not None else None
    verdict = json.dumps(record, indent=2, default=repr) if record else "none"
    title = escape(f"{agent} · {trajectory.env_id} · {trajectory.episode_id}")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_PAGE_CSS}</style></head><body>"
        f'<p><a href="{{back}}">← report</a></p><h1>{title}</h1><table class="meta">{meta}</table>'
        f"<h2>Conversation</h2>{''.join(body)}<h2>Verdict</h2><pre>{escape(verdict)}</pre></body></html>\n"
    )


def pick_examples(trajectories: Sequence[Trajectory], per_case: int = 1) -> list[Trajectory]:
    """Per env: the first ``per_case`` passed, failed and errored episodes, in stable order."""
    ordered = sorted(trajectories, key=lambda t: (t.env_id, t.group_id, t.sample_index))
    taken: dict[tuple[str, str], int] = {}
    out = []
    for t in ordered:
        key = (t.env_id, case_of(t))
        if taken.get(key, 0) < per_case:
            taken[key] = taken.get(key, 0) + 1
            out.append(t)
    return out


def write_transcripts(
    out: Path, trajectories: Mapping[str, Sequence[Trajectory]], per_case: int = 1
) -> dict[str, list[dict[str, Any]]]:
    """Write the example pages under ``out/transcripts``; return per agent their links and cases."""
    root = out / TRANSCRIPTS_DIR
    if root.exists():
        shutil.rmtree(root)  # ours: rebuilt on every report, so no stale examples linger
    links: dict[str, list[dict[str, Any]]] = {}
    for agent, trajs in trajectories.items():
        links[agent] = []
        for t in pick_examples(trajs, per_case):
            rel = Path(TRANSCRIPTS_DIR) / _slug(agent) / _slug(t.env_id) / f"{_slug(t.episode_id)}.html"
            page = out / rel
            page.parent.mkdir(parents=True, exist_ok=True)
            back = "/".join([".."] * (len(rel.parts) - 1)) + "/report.html"
            page.write_text(render_transcript(t, agent).replace("{back}", back, 1), encoding="utf-8")
            links[agent].append(
                {"env_id": t.env_id, "episode_id": t.episode_id, "case": case_of(t), "href": rel.as_posix()}
            )
    return links

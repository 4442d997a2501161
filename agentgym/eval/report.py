"""The eval report: ``DIR/report.html`` (self-contained) and a markdown summary.

The page holds everything inline (CSS and SVG charts; no script, font or image is fetched): the
agent comparison table, success by agent, family, difficulty level and env with 95% intervals,
per-env x level tables, error statuses, and links to example transcripts (``transcripts/``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from agentgym.eval.plots import CHART_CSS, Series, bar_chart
from agentgym.eval.transcripts import write_transcripts
from agentgym.trajectory import Trajectory

REPORT = "report.html"
DASH = "\u2013"  # shown for "no value"

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222;
       padding: 0 1em; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; font-weight: 600; }
.muted { color: #777; font-size: 12px; } .err { color: #8a4b00; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.figure { border: 1px solid #eee; padding: 6px; }
.notes { font-size: 12.5px; color: #444; max-width: 900px; }
"""


def fmt_pct(value: float | None) -> str:
    """``0.5`` -> ``50.0%``; None -> a dash."""
    return DASH if value is None else f"{value:.1%}"


def fmt_ci(ci: Sequence[float] | None, pct: bool = True) -> str:
    """A CI as ``[lo, hi]`` (percentages or 3 decimals); empty for None."""
    if ci is None:
        return ""
    lo, hi = ci
    return f"[{lo:.0%}, {hi:.0%}]" if pct else f"[{lo:.2f}, {hi:.2f}]"


def _num(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def _pass_keys(results: Mapping[str, Any]) -> list[str]:
    return sorted({p for a in results["agents"].values() for p in a["overall"]["pass_at_k"]}, key=int)


def comparison_rows(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The agent comparison table: header and one row per agent."""
    pass_keys = _pass_keys(results)
    header = ["agent", "episodes", "success", "95% CI", "mean reward", "95% CI"]
    header += [f"pass@{p}" for p in pass_keys] + ["errors", "turns", "tokens", "time"]
    rows = []
    for label, agent in results["agents"].items():
        o = agent["overall"]
        errors = ", ".join(f"{s} {n}" for s, n in o["error_statuses"].items()) or "0"
        tokens = DASH if o["tokens"] is None else f"{o['tokens']:,}"
        rows.append(
            [label, str(o["episodes"]), fmt_pct(o["success"]), fmt_ci(o["success_ci"])]
            + [_num(o["mean_reward"], 3), fmt_ci(o["reward_ci"], pct=False)]
            + [fmt_pct(o["pass_at_k"].get(p)) for p in pass_keys]
            + [errors, _num(o["mean_turns"]), tokens, f"{agent['wall_s']:.1f}s"]
        )
    return header, rows


def _td(cell: str) -> str:
    numeric = bool(cell) and (cell[0].isdigit() or cell[0] in ("[", "-", DASH))
    return f'<td class="num">{escape(cell)}</td>' if numeric else f"<td>{escape(cell)}</td>"


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], table_id: str = "") -> str:
    id_attr = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in rows)
    return f"<table{id_attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _by(results: Mapping[str, Any], key: str) -> list[str]:
    seen: dict[str, None] = {}
    for agent in results["agents"].values():
        seen.update(dict.fromkeys(agent[key]))
    return list(seen)


def _note(summary: Mapping[str, Any] | None) -> str:
    if summary is None:
        return "(no episodes)"
    text = f"({summary['passed']}/{summary['scored']} scored"
    text += f", 95% CI {fmt_ci(summary['success_ci'])}" if summary["success_ci"] else ""
    return text + (f", {summary['errors']} errors)" if summary["errors"] else ")")


def success_chart(results: Mapping[str, Any], key: str, title: str, chart_id: str) -> str:
    """Success per category of breakdown ``key`` (``by_family``, ...), one series per agent."""
    if key == "overall":
        agents = results["agents"]
        categories = list(agents)
        series = [
            Series(
                "success",
                [agents[a]["overall"]["success"] for a in categories],
                [agents[a]["overall"]["success_ci"] for a in categories],
                [_note(agents[a]["overall"]) for a in categories],
            )
        ]
        return bar_chart(title, categories, series, chart_id)
    categories = _by(results, key)
    series = []
    for label, agent in results["agents"].items():
        cells = [agent[key].get(c) for c in categories]
        series.append(
            Series(
                label,
                [c["success"] if c else None for c in cells],
                [c["success_ci"] if c else None for c in cells],
                [_note(c) for c in cells],
            )
        )
    shown = [f"level {c}" if key == "by_level" and c != "unknown" else c for c in categories]
    return bar_chart(title, shown, series, chart_id)


def _env_level_tables(results: Mapping[str, Any]) -> str:
    blocks = []
    for label, agent in results["agents"].items():
        levels = sorted({lv for env in agent["by_env_level"].values() for lv in env}, key=_level_order)
        rows = []
        for env, by_level in agent["by_env_level"].items():
            row = [env]
            for lv in levels:
                s = by_level.get(lv)
                row.append("" if s is None else f"{fmt_pct(s['success'])} ({s['passed']}/{s['scored']})")
            rows.append(row)
        header = ["env", *[f"level {lv}" for lv in levels]]
        blocks.append(f"<h3>{escape(label)}</h3>" + _html_table(header, rows))
    return "".join(blocks)


def _level_order(level: str) -> tuple[int, int]:
    return (1, 0) if not level.isdigit() else (0, int(level))


def _error_table(results: Mapping[str, Any]) -> str:
    rows = []
    for label, agent in results["agents"].items():
        for env, s in agent["by_env"].items():
            for status, n in s["error_statuses"].items():
                rows.append([label, env, status, str(n)])
    if not rows:
        return "<p>No episode ended in an error status.</p>"
    return _html_table(["agent", "env", "status", "episodes"], rows, "errors")


def _transcript_table(links: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    rows = []
    for label, items in links.items():
        by_env: dict[str, list[str]] = {}
        for item in items:
            link = f'<a href="{escape(item["href"])}">{escape(item["case"])}</a>'
            by_env.setdefault(item["env_id"], []).append(link)
        for env, cells in by_env.items():
            rows.append(
                f"<tr><td>{escape(label)}</td><td>{escape(env)}</td><td>{' · '.join(cells)}</td></tr>"
            )
    head = "<tr><th>agent</th><th>env</th><th>examples</th></tr>"
    return f'<table id="transcripts"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


_NOTES = (
    "Errors (env_error, agent_error, timeout, verifier_error) are counted apart: they are left out "
    "of the success, reward and pass@k denominators. Success intervals are 95% Wilson score "
    "intervals over scored episodes; reward intervals are 95% percentile bootstraps over tasks "
    "(2000 resamples, fixed seed). pass@k is the unbiased estimator 1 - C(n-c, k)/C(n, k) averaged "
    "over tasks with at least k scored samples. Levels are each generator's own difficulty "
    "levels (meta.level), pooled across envs in the level chart. Time is this run's wall time per "
    "agent (a resumed eval counts only what it ran); tokens are generated tokens (model agents)."
)


def render_html(results: Mapping[str, Any], links: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """The whole report page as one HTML string."""
    suite = results["suite"]
    n_tasks = sum(e["tasks"] for e in suite["entries"])
    header, rows = comparison_rows(results)
    charts = [
        success_chart(results, "overall", "Success by agent", "chart-agents"),
        success_chart(results, "by_family", "Success by family", "chart-family"),
        success_chart(results, "by_level", "Success by difficulty level", "chart-level"),
        success_chart(results, "by_env", "Success by env", "chart-env"),
    ]
    entries = _html_table(
        ["env", "frozen suite", "tasks", "env kwargs"],
        [[e["env_id"], e["suite_id"], str(e["tasks"]), str(e["env_kwargs"] or "")] for e in suite["entries"]],
    )
    title = f"AgentGym eval: {suite['name']}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{escape(title)}</title><style>{_CSS}{CHART_CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p class="muted">{escape(suite["description"])} · {n_tasks} held-out tasks on {len(suite["entries"])} envs
· families: {escape(", ".join(suite["families"]))} · k = {results["k"]} samples per task
· seed {results["seed"]} · {escape(results["created_at"])}</p>
<h2>Agent comparison</h2>
{_html_table(header, rows, "comparison")}
<div class="charts">{"".join(f'<div class="figure">{c}</div>' for c in charts)}</div>
<p class="notes">{escape(_NOTES)}</p>
<h2>By env and level</h2>
{_env_level_tables(results)}
<h2>Error statuses</h2>
{_error_table(results)}
<h2>Example transcripts</h2>
{_transcript_table(links)}
<h2>Suite</h2>
{entries}
</body></html>
"""


def write_report(
    out: Path,
    results: dict[str, Any],
    trajectories: Mapping[str, Sequence[Trajectory]],
    per_case: int = 1,
) -> Path:
    """Write example transcripts and ``out/report.html``; records the links in ``results``."""
    links = write_transcripts(out, trajectories, per_case)
    results["transcripts"] = links
    path = out / REPORT
    path.write_text(render_html(results, links), encoding="utf-8")
    return path


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _md_breakdown(results: Mapping[str, Any], key: str, name: str) -> str:
    agents = list(results["agents"])
    rows = []
    for category in _by(results, key):
        row = [f"level {category}" if key == "by_level" and category != "unknown" else category]
        for a in agents:
            s = results["agents"][a][key].get(category)
            row.append("" if s is None else f"{fmt_pct(s['success'])} ({s['passed']}/{s['scored']})")
        rows.append(row)
    return _md_table([name, *agents], rows)


def render_markdown(results: Mapping[str, Any]) -> str:
    """The summary printed at the end of an eval: comparison, then success by family/level/env."""
    suite = results["suite"]
    n_tasks = sum(e["tasks"] for e in suite["entries"])
    header, rows = comparison_rows(results)
    parts = [
        f"## Eval `{suite['name']}`: {n_tasks} tasks on {len(suite['entries'])} envs, "
        f"k={results['k']} (families: {', '.join(suite['families'])})",
        _md_table(header, rows),
        "### Success by family",
        _md_breakdown(results, "by_family", "family"),
        "### Success by difficulty level",
        _md_breakdown(results, "by_level", "level"),
        "### Success by env",
        _md_breakdown(results, "by_env", "env"),
    ]
    return "\n\n".join(parts) + "\n"

"""Hand-written inline SVG charts for the report: no plotting library, no network, deterministic.

One chart kind: grouped bars of a proportion (0-100%) per category, one bar per series (agent),
with a whisker for the confidence interval and a ``<title>`` tooltip on every bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: Okabe-Ito colours (distinguishable with colour-blindness), then greys.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#7f7f7f",
    "#000000",
)
_PLOT_H = 200
_TOP = 34
_LEFT = 46
_RIGHT = 12
_BAR_W = 16
_CHAR_W = 6.5  # approximate width of an 11px sans-serif character


@dataclass(frozen=True)
class Series:
    """One agent's bars: a value in [0, 1] (or None: no data) and a CI per category."""

    name: str
    values: Sequence[float | None]
    cis: Sequence[tuple[float, float] | None]
    notes: Sequence[str]


def color(index: int) -> str:
    """The colour of series ``index``."""
    return PALETTE[index % len(PALETTE)]


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], chart_id: str) -> str:
    """A grouped bar chart (values as percentages) as an inline ``<svg>`` element."""
    n_series = max(1, len(series))
    group_w = max(56, n_series * (_BAR_W + 3) + 18)
    longest = max((len(c) for c in categories), default=4)
    label_room = min(150, 14 + 3.3 * longest)  # rotated 30 degrees: half the text's length rises
    # A rotated label ends at its bar group's centre; the first one must not run off the left edge.
    left = max(_LEFT, 0.87 * _CHAR_W * longest - group_w / 2 + 4)
    legend_w = sum(28 + _CHAR_W * len(s.name) for s in series)
    width = max(
        left + _RIGHT + group_w * max(1, len(categories)),
        _LEFT + 8 * len(title) + _RIGHT,
        _LEFT + legend_w + _RIGHT,
    )
    legend_y = round(_TOP + _PLOT_H + label_room)
    width = round(width)
    height = legend_y + 22
    base = _TOP + _PLOT_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="{left:.0f}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for pct in (0, 25, 50, 75, 100):
        y = base - _PLOT_H * pct / 100
        out.append(f'<line x1="{left:.1f}" x2="{width - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" class="tick" text-anchor="end">{pct}%</text>')
    for ci, category in enumerate(categories):
        x0 = left + ci * group_w + (group_w - n_series * (_BAR_W + 3)) / 2
        for si, s in enumerate(series):
            x = x0 + si * (_BAR_W + 3)
            value = s.values[ci] if ci < len(s.values) else None
            note = s.notes[ci] if ci < len(s.notes) else ""
            if value is None:
                cx = x + _BAR_W / 2
                out.append(f'<text x="{cx:.1f}" y="{base - 4}" class="na" text-anchor="middle">\u2013</text>')
                continue
            h = max(1.0, _PLOT_H * value)
            tip = escape(f"{s.name} · {category}: {value:.0%} {note}".strip())
            out.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{_BAR_W}" height="{h:.1f}" '
                f'fill="{color(si)}" class="bar"><title>{tip}</title></rect>'
            )
            interval = s.cis[ci] if ci < len(s.cis) else None
            if interval is not None:
                lo, hi = (base - _PLOT_H * v for v in interval)
                cx = x + _BAR_W / 2
                out.append(
                    f'<path d="M{cx:.1f} {lo:.1f}V{hi:.1f}M{cx - 4:.1f} {lo:.1f}h8M{cx - 4:.1f} {hi:.1f}h8" '
                    'class="whisker"/>'
                )
        cx = left + ci * group_w + group_w / 2
        out.append(
            f'<text x="{cx:.1f}" y="{base + 14}" class="cat" text-anchor="end" '
            f'transform="rotate(-30 {cx:.1f} {base + 14})">{escape(category)}</text>'
        )
    out.append(f'<line x1="{left:.1f}" x2="{width - _RIGHT}" y1="{base}" y2="{base}" class="axis"/>')
    lx = left
    for si, s in enumerate(series):
        out.append(f'<rect x="{lx:.1f}" y="{legend_y}" width="12" height="12" fill="{color(si)}"/>')
        out.append(f'<text x="{lx + 16:.1f}" y="{legend_y + 11}" class="legend">{escape(s.name)}</text>')
        lx += 28 + _CHAR_W * len(s.name)
    out.append("</svg>")
    return "\n".join(out)


CHART_CSS = """
svg.chart { max-width: 100%; height: auto; background: #fff; }
svg.chart .chart-title { font: 600 13px system-ui, sans-serif; fill: #222; }
svg.chart .tick, svg.chart .cat, svg.chart .legend, svg.chart .na {
  font: 11px system-ui, sans-serif; fill: #444; }
svg.chart .grid { stroke: #e5e5e5; stroke-width: 1; }
svg.chart .axis { stroke: #888; stroke-width: 1; }
svg.chart .whisker { stroke: #222; stroke-width: 1.2; fill: none; }
svg.chart .bar:hover { opacity: 0.8; }
"""

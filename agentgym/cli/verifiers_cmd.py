"""``agentgym verifiers``: list the registered verifiers and measure them on labelled cases.

``agentgym verifiers eval --cases FILE`` prints accuracy, false-positive and false-negative rates
overall and per verifier; ``--details`` adds one verdict per case, ``--json`` prints the report as
JSON. Bad files or lines raise ConfigError (one line, exit 2, from the main entry point).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentgym.core.errors import ConfigError
from agentgym.progress import StatsProgress

verifiers_app = typer.Typer(
    name="verifiers",
    help=(
        "Verifiers: list them and measure their quality on labelled cases.\n\n"
        "  agentgym verifiers list\n\n"
        "  agentgym verifiers eval                         # the shipped case set\n\n"
        "  agentgym verifiers eval --cases my.jsonl --verifier math --json"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()


class EvalProgress(StatsProgress):
    """A progress bar over cases: done/total, accuracy so far, FP/FN/unscored counts, time."""

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        super().__init__(total, label, enabled)
        self.done = self.correct = self.fp = self.fn = self.unscored = 0

    def advance(self, result: Any) -> None:
        """Count one finished case (a :class:`~agentgym.verifiers.evaluation.CaseResult`)."""
        outcome = result.outcome
        self.done += 1
        self.correct += outcome in ("tp", "tn")
        self.fp += outcome == "fp"
        self.fn += outcome == "fn"
        self.unscored += outcome == "unscored"
        stats = f"accuracy {self.correct / self.done:.1%} · FP {self.fp} · FN {self.fn}"
        if self.unscored:
            stats += f" · [red]{self.unscored} unscored[/]"
        self.update(stats)


def parse_options(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """Parse ``VERIFIER.KEY=VALUE`` pairs into per-verifier keyword arguments (values read as JSON)."""
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        target, sep, raw = pair.partition("=")
        name, dot, key = target.partition(".")
        if not sep or not dot or not name or not key:
            raise ConfigError(f"--option takes VERIFIER.KEY=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(name, {})[key] = value
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def metrics_table(title: str, rows: dict[str, Any], first: str) -> Table:
    """A table of :class:`Metrics`, one row per name (the last row is the total when given)."""
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column(first, min_width=max(map(len, rows), default=0), overflow="fold")
    for col in ("cases", "accuracy", "FPR", "FNR", "FP", "FN", "unscored", "max s"):
        table.add_column(col, justify="right")
    for name, m in rows.items():
        table.add_row(
            escape(name),
            str(m.cases),
            _pct(m.accuracy),
            _pct(m.fpr),
            _pct(m.fnr),
            str(m.fp),
            str(m.fn),
            f"[red]{m.unscored}[/]" if m.unscored else "0",
            f"{m.max_elapsed_s:.2f}s",
        )
    return table


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def results_table(results: list[Any], title: str) -> Table:
    """One row per case: the outcome (T/F = right/wrong verdict, P/N = passed/failed) and why."""
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("line", justify="right")
    table.add_column("id", no_wrap=True)
    table.add_column("verifier", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("why (the case's note; the verifier's reason)", overflow="fold", min_width=24)
    style = {"tp": "green", "tn": "green", "fp": "red", "fn": "yellow", "unscored": "red"}
    for r in results:
        reason = r.verdict.error or r.verdict.details.get("format_error") or ""
        why = "; ".join(_short(str(text)) for text in (r.case.note, reason) if text)
        outcome = r.outcome.upper() if r.outcome != "unscored" else "unscored"
        table.add_row(
            str(r.case.line),
            escape(r.case.id),
            escape(r.case.verifier),
            f"[{style[r.outcome]}]{outcome}[/]",
            escape(why),
        )
    return table


@verifiers_app.command("eval")
def eval_command(
    cases: Annotated[
        Path | None,
        typer.Option(
            "--cases", "-c", help="JSONL case file (default: the labelled set shipped with agentgym)."
        ),
    ] = None,
    verifier: Annotated[
        list[str] | None, typer.Option("--verifier", "-v", help="Only cases for this verifier (repeatable).")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Only cases of this category (repeatable).")
    ] = None,
    as_verifier: Annotated[
        str | None,
        typer.Option(
            "--as", help="Run the selected cases through this verifier instead (without their options)."
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Cases verified at once.")] = 8,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Verifier option VERIFIER.KEY=VALUE (value read as JSON)."),
    ] = None,
    details: Annotated[bool, typer.Option("--details", help="Add each case's verdict.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar (on a terminal).")] = True,
    fail_under: Annotated[
        float | None, typer.Option(help="Exit with code 1 when the overall accuracy is below this.")
    ] = None,
) -> None:
    """Measure verifiers on labelled cases: accuracy, false-positive and false-negative rates."""
    from agentgym.verifiers.evaluation import DEFAULT_CASES, evaluate, load_cases

    path = cases or DEFAULT_CASES
    selected = load_cases(path)
    if verifier:
        selected = [c for c in selected if c.verifier in set(verifier)]
    if category:
        selected = [c for c in selected if c.category in set(category)]
    if not selected:
        raise ConfigError(f"no case in {path} matches the --verifier/--category filters")
    if concurrency < 1:
        raise ConfigError(f"--concurrency must be >= 1, got {concurrency}")
    if as_verifier:
        selected = [dataclasses.replace(c, verifier=as_verifier, options={}) for c in selected]
    options = parse_options(option or [])
    with EvalProgress(len(selected), path.name, enabled=progress and not as_json) as bar:
        report = evaluate(selected, concurrency=concurrency, options=options, on_result=bar.advance)
    overall = report.overall
    if as_json:
        typer.echo(json.dumps(report.to_dict(details=details), indent=2))
    else:
        rows = {**report.per_verifier, "all": overall}
        console.print(metrics_table(f"{overall.cases} cases from {path.name}", rows, "verifier"))
        if details:
            console.print(metrics_table("per category", report.per_category, "category"))
            console.print(results_table(list(report.results), "verdicts"))
        elif report.mistakes():
            shown = report.mistakes()[:20]
            console.print(results_table(shown, f"mistakes ({len(shown)} of {len(report.mistakes())})"))
    if fail_under is not None and (overall.accuracy or 0.0) < fail_under:
        raise typer.Exit(1)


@verifiers_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the registered verifiers."""
    from agentgym.verifiers.base import list_verifiers

    names = list_verifiers()
    if as_json:
        typer.echo(json.dumps(names))
        return
    table = Table(title=f"{len(names)} verifiers")
    table.add_column("name")
    for name in names:
        table.add_row(name)
    console.print(table)

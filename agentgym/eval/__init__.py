"""Evaluation: frozen held-out suites, metrics (success, pass@k, CIs), and a self-contained report.

``agentgym eval --suite NAME --agent SPEC ... --k K --out DIR`` (or :func:`run_eval`) runs each
agent on every task of a suite, ``k`` samples per task, and writes ``DIR/results.json``,
``DIR/report.html`` and a markdown summary. Submodules import lazily: ``import agentgym.eval`` is
cheap.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "EvalEntry": "agentgym.eval.suites",
    "EvalSuite": "agentgym.eval.suites",
    "eval_suites": "agentgym.eval.suites",
    "get_suite": "agentgym.eval.suites",
    "pass_at_k": "agentgym.eval.metrics",
    "EvalResult": "agentgym.eval.runner",
    "run_eval": "agentgym.eval.runner",
    "run_demo": "agentgym.eval.runner",
    "write_report": "agentgym.eval.report",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'agentgym.eval' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)

"""The test runner that runs INSIDE the grading sandbox (standalone: imports nothing of agentgym).

``python3 -I -B sandbox_runner.py GRADER_DIR``: reads and deletes ``GRADER_DIR/key`` and
``GRADER_DIR/spec.json`` before any repository code is imported, runs pytest in-process on the
listed test ids with a collector plugin registered as an object (not by a name a repository
could shadow), checks that pytest's machinery and the registered plugins were not swapped by
repository code, and writes the per-test outcomes to ``GRADER_DIR/<report name>`` signed with
an HMAC under the key. Exit code, report and signature are all checked by the host.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys


def _read_and_delete(path: str) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read()
    os.unlink(path)
    return data


def main() -> int:
    """Run the listed tests and write the signed report; returns pytest's exit code."""
    grader_dir = os.path.abspath(sys.argv[1])
    key = _read_and_delete(os.path.join(grader_dir, "key"))
    spec = json.loads(_read_and_delete(os.path.join(grader_dir, "spec.json")))
    del sys.argv[1:]
    sys.path.insert(0, os.path.abspath(spec["lib"]))
    import _pytest.main
    import _pytest.python
    import _pytest.reports
    import _pytest.runner
    import pluggy
    import pytest

    repo = os.path.abspath(spec["repo"])
    os.chdir(repo)
    for entry in reversed(spec.get("python_path", ["."])):
        sys.path.insert(1, os.path.normpath(os.path.join(repo, entry)))

    results: dict[str, str] = {}
    messages: dict[str, str] = {}
    collect_errors: list[str] = []
    state = {"finished": False}
    rank = {"pending": -1, "passed": 0, "skipped": 1, "failed": 2}

    class Collector:
        """Per-test outcome: failed if any phase (or subtest) failed, passed only if the call passed."""

        def pytest_runtest_logreport(self, report: object) -> None:
            nodeid = str(getattr(report, "nodeid", ""))
            when = getattr(report, "when", "")
            outcome = str(getattr(report, "outcome", "failed"))
            if hasattr(report, "wasxfail"):
                outcome = "skipped"
            if when == "call" or outcome != "passed":
                before = results.get(nodeid, "passed")
                results[nodeid] = max(before, outcome, key=lambda o: rank.get(o, 2))
            elif nodeid not in results:
                results[nodeid] = "pending"
            if outcome == "failed" and nodeid not in messages:
                crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
                text = getattr(crash, "message", None) or str(getattr(report, "longrepr", ""))[-500:]
                messages[nodeid] = text[:2000]

        def pytest_collectreport(self, report: object) -> None:
            if getattr(report, "failed", False):
                collect_errors.append(str(getattr(report, "nodeid", "")) or "<session>")

        def pytest_sessionfinish(self) -> None:
            state["finished"] = True

    collector = Collector()
    watched = {
        "call_and_report": (_pytest.runner, "call_and_report"),
        "runtestprotocol": (_pytest.runner, "runtestprotocol"),
        "makereport": (_pytest.runner, "pytest_runtest_makereport"),
        "from_item_and_call": (_pytest.reports.TestReport, "from_item_and_call"),
        "function_runtest": (_pytest.python.Function, "runtest"),
        "runtestloop": (_pytest.main, "pytest_runtestloop"),
        "hookcaller_call": (pluggy.HookCaller, "__call__"),
        "multicall": (pluggy.PluginManager, "_hookexec"),
        "logreport": (Collector, "pytest_runtest_logreport"),
        "collectreport": (Collector, "pytest_collectreport"),
        "pytest_main": (pytest, "main"),
    }
    originals = {
        name: owner.__dict__.get(attr, getattr(owner, attr)) for name, (owner, attr) in watched.items()
    }
    plugins_seen: list[object] = []

    class Watcher:
        """Remembers the plugins registered when the run ends (checked below)."""

        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(self, session: object) -> None:
            manager = session.config.pluginmanager  # type: ignore[attr-defined]
            plugins_seen.extend(plugin for _, plugin in manager.list_name_plugin() if plugin is not None)

    args = ["-p", "no:cacheprovider", "-p", "no:stepwise", "--color=no", "-q", "--rootdir", repo]
    args += ["-o", "console_output_style=classic", *spec["ids"]]
    try:
        exit_code = int(pytest.main(args, plugins=[collector, Watcher()]))
    except BaseException as exc:  # SystemExit and friends from repository code end the run
        exit_code = 99
        collect_errors.append(f"<run aborted: {type(exc).__name__}>")
    tampered = [
        name
        for name, (owner, attr) in watched.items()
        if owner.__dict__.get(attr, getattr(owner, attr, None)) is not originals[name]
    ]
    for plugin in plugins_seen:
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        origin = getattr(plugin, "__file__", None) or ""
        builtin = str(module).startswith(("_pytest", "pytest", "pluggy")) or module == "__main__"
        if not (builtin or plugin in (collector,) or os.path.basename(origin) == "conftest.py"):
            tampered.append(f"plugin:{module}")
    payload = json.dumps(
        {
            "nonce": spec["nonce"],
            "exit_code": exit_code,
            "finished": state["finished"],
            "results": results,
            "messages": messages,
            "collect_errors": collect_errors,
            "tampered": tampered,
        },
        sort_keys=True,
    )
    mac = hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()
    with open(os.path.join(grader_dir, spec["report_name"]), "w", encoding="utf-8") as handle:
        handle.write(payload + "\n" + mac + "\n")
    return exit_code


if __name__ == "__main__":
    sys.stdout.flush()
    os._exit(main())

"""Run a repository's tests in a sandbox and read back a signed, per-test report.

:func:`run_tests` copies a host tree into a fresh sandbox, runs :mod:`sandbox_runner` there with a
one-time key and nonce (read and deleted by the runner before any repository code is imported),
and returns a :class:`TestReport` only if the report's signature, nonce and the process exit code
agree; anything else (no report, a forged one, a run cut short) is a report with ``valid=False``.
pytest itself comes from the host's environment: a read-only bind for the local backend, a copy
into the work dir for the others (the docker image has python3 but no pytest).
"""

from __future__ import annotations

import compileall
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.core.errors import SandboxError, TaskError
from agentgym.sandbox import Limits, make_sandbox
from agentgym.tasks.swe.cache import cache_root, cached_tree, reachable_by_others

RUNNER = Path(__file__).with_name("sandbox_runner.py")
LIB_INSIDE = "/opt/agentgym-swe-pytest"  # where the local backend binds the pytest libraries
RO_REPO = "/opt/agentgym-swe-repo"  # where the local backend binds the repository under test
LIB_MODULES = ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments", "py.py")
REPORT_CAP = 8 << 20


@dataclass
class TestReport:
    """Per-test outcomes of one sandboxed run (``valid`` only when the signed report checked out)."""

    __test__ = False  # not a pytest class

    valid: bool
    results: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    collect_errors: list[str] = field(default_factory=list)
    tampered: list[str] = field(default_factory=list)
    exit_code: int | None = None
    problem: str = ""
    output_tail: str = ""
    seconds: float = 0.0

    def passed(self, test_id: str) -> bool:
        """True when ``test_id`` ran and passed in a valid, untampered run."""
        return self.valid and not self.tampered and self.results.get(test_id) == "passed"


def pytest_lib_dir() -> Path:
    """A host folder holding pytest and its dependencies, readable by the sandbox user (cached).

    It is cached under :func:`~agentgym.tasks.swe.cache.cache_root`, except when root runs the local
    sandbox and the cache is out of the sandbox uid's reach (a private home such as a 0700 ``/root``):
    bubblewrap could not bind it from there, so it is cached in the system temp folder instead.
    """
    import pytest

    site = Path(pytest.__file__).resolve().parent.parent
    key = f"{sys.version_info[:2]}:{pytest.__version__}:{site}:{LIB_MODULES}:compiled"
    tag = hashlib.sha256(key.encode()).hexdigest()[:12]
    root, name = cache_root(), f"pytest-{tag}"
    if os.geteuid() == 0 and not reachable_by_others(root):
        root, name = Path(tempfile.gettempdir()), f"agentgym-swe-pytest-{tag}"

    def build(staging: Path) -> None:
        for module in LIB_MODULES:
            source = site / module
            if source.is_dir():
                shutil.copytree(source, staging / module, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.is_file():
                shutil.copy2(source, staging / module)
        # Byte-compiled once here (same CPython minor as the sandbox's python3), not on every run.
        compileall.compile_dir(str(staging), quiet=1, workers=1)

    return cached_tree(name, build, root)


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary host folder the sandbox user can read (trees bound read-only live in it)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        os.chmod(name, 0o755)
        yield Path(name)


def open_sandbox(backend: str, limits: Limits | None = None, ro_tree: Path | None = None) -> tuple[Any, str]:
    """A new sandbox of ``backend`` that can run pytest, and where pytest's libraries are inside it.

    ``ro_tree`` (local backend only): a host tree bound read-only at :data:`RO_REPO`.
    """
    limits = limits or Limits(cpu_seconds=300, memory_mb=2048, processes=256)
    lib = pytest_lib_dir()
    if backend == "local":
        binds = {str(lib): LIB_INSIDE}
        if ro_tree is not None:
            binds[str(ro_tree)] = RO_REPO
        return make_sandbox("local", limits, ro_binds=binds), LIB_INSIDE
    sandbox = make_sandbox(backend, limits)
    try:
        sandbox.copy_in(lib, ".pytest-lib")
    except BaseException:
        sandbox.close()
        raise
    return sandbox, ".pytest-lib"


def run_tests(
    tree: Path,
    test_ids: list[str],
    *,
    backend: str = "local",
    python_path: tuple[str, ...] = (".",),
    timeout: float = 300.0,
) -> TestReport:
    """Run ``test_ids`` (pytest node ids; empty: the whole suite) of host ``tree`` in a fresh sandbox.

    The local backend mounts ``tree`` read-only (code under test cannot rewrite the tests while
    they run); other backends get a copy, and a fresh command afterwards checks that no test file
    or test configuration changed or appeared during the run.
    """
    started = time.perf_counter()
    readonly = backend == "local"
    sandbox, lib = open_sandbox(backend, ro_tree=tree if readonly else None)
    try:
        if not readonly:
            sandbox.copy_in(tree, "repo")
        repo = RO_REPO if readonly else "repo"
        report = run_in_sandbox(sandbox, lib, repo, test_ids, python_path=python_path, timeout=timeout)
        if report.valid and not readonly:
            report.tampered += changed_protected_files(sandbox, repo, tree)
    finally:
        sandbox.close()
    report.seconds = time.perf_counter() - started
    return report


def protected_digests(tree: Path, paths: list[str]) -> dict[str, str]:
    """SHA-256 of each protected file of ``tree`` among ``paths`` (relative)."""
    return {
        rel: hashlib.sha256((tree / rel).read_bytes()).hexdigest() for rel in paths if (tree / rel).is_file()
    }


def changed_protected_files(sandbox: Any, repo: str, tree: Path) -> list[str]:
    """Test files / test config in the sandbox's ``repo`` that differ from ``tree`` (or are new)."""
    from agentgym.tasks.swe.patches import is_protected

    listing = sandbox.exec(["find", repo, "-type", "f", "-printf", "%P\\n"], timeout=60)
    inside = sorted(rel for rel in listing.stdout.splitlines() if is_protected(rel))
    expected = protected_digests(tree, inside)
    changed = [f"new:{rel}" for rel in inside if rel not in expected]
    if expected:
        sums = sandbox.exec(["sha256sum", "--", *(f"{repo}/{rel}" for rel in expected)], timeout=60)
        seen = {}
        for line in sums.stdout.splitlines():
            digest, _, name = line.partition("  ")
            seen[name[len(repo) + 1 :]] = digest
        changed += [f"modified:{rel}" for rel, digest in expected.items() if seen.get(rel) != digest]
    return changed


def run_in_sandbox(
    sandbox: Any,
    lib: str,
    repo: str,
    test_ids: list[str],
    *,
    python_path: tuple[str, ...] = (".",),
    timeout: float = 300.0,
) -> TestReport:
    """Run the tests of the repository at ``repo`` in ``sandbox`` (see :func:`run_tests`)."""
    started = time.perf_counter()
    token = secrets.token_hex(12)
    grader = f".grader-{token}"
    key = secrets.token_bytes(32)
    nonce = secrets.token_hex(16)
    report_name = f"report-{secrets.token_hex(8)}.json"
    spec = {
        "lib": lib,
        "repo": repo,
        "python_path": list(python_path),
        "ids": list(test_ids),
        "nonce": nonce,
        "report_name": report_name,
    }
    sandbox.copy_in(RUNNER, f"{grader}/runner.py")
    sandbox.write_file(f"{grader}/key", key)
    sandbox.write_file(f"{grader}/spec.json", json.dumps(spec))
    env = {"PYTHONHASHSEED": "0", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = sandbox.exec(["python3", "-I", "-B", f"{grader}/runner.py", grader], timeout=timeout, env=env)
    tail = (result.stdout[-3000:] + result.stderr[-2000:]).strip()
    report = TestReport(valid=False, exit_code=result.exit_code, output_tail=tail)
    report.seconds = time.perf_counter() - started
    if result.timed_out:
        report.problem = f"the test run timed out after {timeout:g} s"
        return report
    if result.disk_full:
        report.problem = "the test run filled the sandbox's disk quota"
        return report
    try:
        raw = sandbox.read_file(f"{grader}/{report_name}", max_bytes=REPORT_CAP)
    except SandboxError:
        report.problem = "the test run wrote no report (the process died or exited early)"
        return report
    return _verify(report, raw, key, nonce, result.exit_code)


def _verify(report: TestReport, raw: bytes, key: bytes, nonce: str, exit_code: int) -> TestReport:
    """Check signature, nonce, completion and exit code; fill ``report`` from the payload."""
    try:
        payload, mac = raw.decode("utf-8").rstrip("\n").rsplit("\n", 1)
    except (UnicodeDecodeError, ValueError):
        report.problem = "the report is malformed"
        return report
    expected = hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        report.problem = "the report's signature does not match (forged or altered)"
        return report
    data = json.loads(payload)
    if data.get("nonce") != nonce:
        report.problem = "the report belongs to another run"
        return report
    report.results = {str(k): str(v) for k, v in data.get("results", {}).items()}
    report.messages = {str(k): str(v) for k, v in data.get("messages", {}).items()}
    report.collect_errors = [str(e) for e in data.get("collect_errors", [])]
    report.tampered = [str(t) for t in data.get("tampered", [])]
    if data.get("exit_code") != exit_code:
        report.problem = f"exit code {exit_code} disagrees with the report's {data.get('exit_code')}"
        return report
    if not data.get("finished"):
        report.problem = "the pytest session did not finish"
        return report
    report.valid = True
    return report


def require_green(report: TestReport, what: str) -> None:
    """Raise TaskError unless ``report`` is a valid run in which every collected test passed or skipped."""
    failed = sorted(k for k, v in report.results.items() if v not in ("passed", "skipped"))
    if not report.valid or report.collect_errors or failed or report.exit_code not in (0,):
        detail = report.problem or f"collect errors {report.collect_errors[:3]}, failed {failed[:5]}"
        raise TaskError(f"{what}: the test suite is not green in the sandbox: {detail}\n{report.output_tail}")

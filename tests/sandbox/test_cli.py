"""``agentgym sandbox exec``: one JSON ExecResult per call."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from agentgym.cli.sandbox_cmd import sandbox_app
from agentgym.sandbox.local import check_local_backend

REASON = check_local_backend()
needs_bwrap = pytest.mark.skipif(REASON is not None, reason=f"local sandbox unavailable: {REASON}")
runner = CliRunner()


def run_exec(*args):
    result = runner.invoke(sandbox_app, ["exec", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


@needs_bwrap
def test_exec_prints_the_result_as_json():
    out = run_exec("-e", "GREETING=hi", "--", "sh", "-c", 'echo "$GREETING"; exit 4')
    assert out["stdout"] == "hi\n" and out["exit_code"] == 4 and out["details"]["backend"] == "local"
    assert set(out) >= {"exit_code", "stdout", "stderr", "timed_out", "oom", "duration", "truncated"}


@needs_bwrap
def test_exec_limits_from_options():
    assert run_exec("--timeout", "1", "--", "sleep", "30")["timed_out"]
    assert run_exec("--memory", "128", "--", "python3", "-c", "bytearray(1 << 30)")["oom"]
    code = "import socket; socket.create_connection(('169.254.169.254', 80), timeout=1)"
    assert run_exec("--", "python3", "-c", code)["exit_code"] != 0


def test_exec_unsafe_backend_says_so():
    with pytest.warns(UserWarning, match="NO isolation"):
        out = run_exec("--backend", "unsafe-process", "--", "echo", "plain")
    assert out["stdout"] == "plain\n" and "NO isolation" in out["details"]["warning"]


def test_group_lists_its_commands():
    listing = runner.invoke(sandbox_app, ["--help"]).stdout
    assert "exec" in listing and "build-image" in listing


def test_exec_bad_input_is_an_error():
    assert runner.invoke(sandbox_app, ["exec", "--backend", "nope", "--", "true"]).exit_code != 0
    assert runner.invoke(sandbox_app, ["exec", "-e", "NOEQUALS", "--", "true"]).exit_code != 0
    assert runner.invoke(sandbox_app, ["exec"]).exit_code != 0


def test_mounted_on_the_main_cli():
    from agentgym.cli.main import app

    if not any(group.name == "sandbox" for group in app.registered_groups):
        pytest.skip("sandbox_app is not mounted in agentgym/cli/main.py yet")
    proc = subprocess.run(
        [sys.executable, "-m", "agentgym.cli.main", "sandbox", "exec", "--backend", "bogus", "--", "true"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown sandbox backend" in proc.stderr


@needs_bwrap
def test_exec_disk_option_sizes_the_work_dir():
    from agentgym.sandbox.quota import choose_mode

    if choose_mode("auto")[0] == "off":
        pytest.skip("no disk quota here (not root)")
    out = run_exec("--disk", "32M", "--", "sh", "-c", "df -k /work | tail -1; head -c 50000000 /dev/zero > f")
    assert int(out["stdout"].split()[1]) <= 32 * 1024 and out["disk_full"] and out["exit_code"] != 0


def test_exec_rejects_a_bad_disk_size():
    result = runner.invoke(sandbox_app, ["exec", "--disk", "lots", "--", "true"])
    assert result.exit_code != 0 and "invalid size" in str(result.exception)

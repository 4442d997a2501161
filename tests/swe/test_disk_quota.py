"""SWE tools and grading see a full sandbox disk (issue 22: the local sandbox's disk quota)."""

import pytest

from agentgym.environments.swe.tools import Workspace
from agentgym.sandbox.base import Limits
from agentgym.sandbox.local import LocalSandbox, check_local_backend

pytestmark = pytest.mark.skipif(check_local_backend() is not None, reason="no bubblewrap here")


def test_run_tool_says_when_a_command_filled_the_disk_quota():
    with LocalSandbox(Limits(disk_mb=16, file_size_mb=64), disk_quota="tmpfs") as box:
        box.exec(["mkdir", "-p", "repo"])
        tools = Workspace(box)
        out = tools.run("dd if=/dev/zero of=big bs=1M count=40 2>&1; echo done")
        assert "disk full: the sandbox's disk quota is used up" in out.splitlines()[0]
        assert "No space left on device" in out
        assert "disk full" not in tools.run("rm -f big; echo ok").splitlines()[0]

"""Engine-free parts of the docker backend: stream demux, owner labels, tags, engine errors, tar filter."""

import os
import subprocess
import tarfile

import pytest

from agentgym.core.errors import SandboxError
from agentgym.sandbox.capture import CappedBuffer
from agentgym.sandbox.docker_container import DockerConfig, parse_oom_kills
from agentgym.sandbox.docker_exec import FrameDemux
from agentgym.sandbox.docker_files import check_resolved
from agentgym.sandbox.docker_owner import (
    LABEL_BOOT,
    LABEL_HOST,
    LABEL_PID,
    LABEL_START,
    owner_labels,
    owner_state,
    process_start_time,
)
from agentgym.sandbox.engine import engine_running, ensure_engine
from agentgym.sandbox.images import BaseImageSpec, normalize_packages


def test_frame_demux_splits_streams_across_any_chunking():
    frames = b"".join(bytes([stream, 0, 0, 0]) + len(d).to_bytes(4, "big") + d for stream, d in
                      [(1, b"hello "), (2, b"err"), (1, b"world"), (1, b""), (2, b"!" * 5000)])  # fmt: skip
    for size in (1, 3, 8, 9, 1000, len(frames)):
        out, err = CappedBuffer(1 << 20), CappedBuffer(10)
        demux = FrameDemux(out, err)
        for i in range(0, len(frames), size):
            demux.feed(frames[i : i + size])
        assert bytes(out.data) == b"hello world" and out.total == 11
        assert bytes(err.data) == b"err!!!!!!!" and err.total == 5003 and err.truncated


def test_owner_states():
    labels = owner_labels("sandbox")
    assert owner_state(labels) == "self"
    dead = subprocess.Popen(["true"])
    dead.wait()
    assert owner_state({**labels, LABEL_PID: str(dead.pid)}) == "dead"
    assert owner_state({**labels, LABEL_START: "0"}) == "dead"  # same pid, another process
    assert owner_state({**labels, LABEL_BOOT: "x"}) == "dead"
    assert owner_state({**labels, LABEL_HOST: "elsewhere"}) == "unknown"
    assert owner_state({**labels, LABEL_PID: ""}) == "unknown"  # blanked in committed images
    assert owner_state(None) == "unknown"
    parent = os.getppid()
    assert owner_state({**labels, LABEL_PID: str(parent), LABEL_START: process_start_time(parent)}) == "alive"


def test_image_tags_derive_from_content_not_mirror():
    a = BaseImageSpec(mirror="http://a.example/debian")
    b = BaseImageSpec(mirror="http://b.example/debian")
    assert a.tag == b.tag and a.tag.startswith("agentgym/base:bookworm-")
    assert BaseImageSpec(packages=("python3",)).tag != a.tag
    assert normalize_packages(["b", " a ", "b", ""]) == ("a", "b")
    with pytest.raises(SandboxError, match="pip option"):
        normalize_packages(["--index-url=http://evil"])


def test_engine_checks_fail_clearly(tmp_path, monkeypatch):
    assert not engine_running(str(tmp_path / "no.sock"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no.sock'}")
    with pytest.raises(SandboxError, match="no Docker engine answers"):
        ensure_engine(start=False)


def test_unsafe_archive_members_are_refused(tmp_path):
    from agentgym.sandbox.docker_files import _data_filter

    link = tarfile.TarInfo("d/abs")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(tarfile.TarError):
        _data_filter(link, str(tmp_path))
    up = tarfile.TarInfo("../escape")
    with pytest.raises(tarfile.TarError):
        _data_filter(up, str(tmp_path))


def test_oom_counter_parsing_and_config_validation():
    assert parse_oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n") == 3  # cgroup v1
    assert parse_oom_kills("low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\n") == 2  # cgroup v2
    assert parse_oom_kills("") == 0
    with pytest.raises(SandboxError, match="cpus"):
        DockerConfig(cpus=0).validate()
    with pytest.raises(SandboxError, match="work_mb"):
        DockerConfig(work_mb=0).validate()
    DockerConfig().validate()


def test_resolve_results_name_the_problem():
    ok = check_resolved("a/b", 0, "/work/a/b\nregular file\n12\n", "")
    assert (ok.path, ok.kind, ok.size, ok.is_dir) == ("/work/a/b", "regular file", 12, False)
    with pytest.raises(SandboxError, match="outside the work dir"):
        check_resolved("link", 4, "/etc/passwd\n", "")
    with pytest.raises(SandboxError, match="does not exist"):
        check_resolved("missing", 3, "", "")

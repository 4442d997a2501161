"""Env-server images: the sandbox builder's Debian base + agentgym's dependencies + agentgym itself.

:func:`server_image` pip-installs agentgym's requirements (core, the ``server`` extra and the extras
of the families asked for) with :func:`agentgym.sandbox.images.build_image` (cached by a hash of
its inputs), then installs a wheel of this checkout of agentgym on top (``--no-deps``) and commits
that as ``agentgym/env-server:<hash of the deps image and the wheel>``. No registry is needed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentgym.core.errors import ConfigError, SandboxError

SERVER_REPO = "agentgym/env-server"
#: Extras every env-server image gets (the server's own stack).
SERVER_EXTRAS = ("server",)
_ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict[str, Any]:
    import tomllib

    path = _ROOT / "pyproject.toml"
    if not path.exists():
        raise ConfigError("building an env-server image needs an agentgym source checkout (pyproject.toml)")
    return tomllib.loads(path.read_text())["project"]


def requirements(extras: Iterable[str]) -> list[str]:
    """The core requirements of agentgym plus those of ``extras`` (self-references expanded)."""
    project = _project()
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    out: list[str] = list(project.get("dependencies", []))
    seen: set[str] = set()
    todo = list(extras)
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in optional:
            raise ConfigError(f"agentgym has no extra {extra!r} (known: {', '.join(sorted(optional))})")
        for req in optional[extra]:
            if req.startswith("agentgym["):
                todo.extend(x.strip() for x in req[len("agentgym[") : req.index("]")].split(","))
            else:
                out.append(req)
    return sorted(set(out))


def family_extras(env_patterns: Iterable[str]) -> list[str]:
    """The extras named like the families the patterns serve (``games/*`` -> ``games``)."""
    optional = _project().get("optional-dependencies", {})
    families = {p.split("/", 1)[0] for p in env_patterns if "/" in p and "*" not in p.split("/", 1)[0]}
    return sorted(f for f in families if f in optional)


#: What a wheel is built from (copied first: an in-tree build would leave build/ in the checkout).
_SOURCES = (
    "agentgym",
    "environments",
    "verifiers",
    "tasks",
    "sandbox",
    "pyproject.toml",
    "setup.py",
    "README.md",
)
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist", "runs", ".*")


def build_wheel(out_dir: Path) -> Path:
    """A wheel of this checkout of agentgym (no dependencies)."""
    src = out_dir / "src"
    for name in _SOURCES:
        path = _ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=_SKIP)
        elif path.exists():
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out_dir), str(src)]
    # The installed setuptools first (fast, offline); an isolated build if it is too old.
    proc = subprocess.run([*cmd, "--no-build-isolation"], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise SandboxError(f"building the agentgym wheel failed:\n{proc.stderr[-2000:]}")
    wheels = sorted(out_dir.glob("agentgym-*.whl"))
    if not wheels:
        raise SandboxError("pip wheel produced no agentgym wheel")
    return wheels[-1]


def server_image(extras: Iterable[str] = (), client: Any = None, log: Any = None) -> str:
    """Build (or find) the env-server image with ``extras``; return its tag."""
    from agentgym.sandbox.engine import docker_client
    from agentgym.sandbox.images import build_image

    client = client or docker_client()
    say = log or (lambda _msg: None)
    deps_image = build_image(requirements([*SERVER_EXTRAS, *extras]), client=client, log=say)
    deps_id = client.images.get(deps_image).id
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        digest = hashlib.sha256(deps_id.encode() + _wheel_digest(wheel).encode()).hexdigest()[:12]
        tag = f"{SERVER_REPO}:{digest}"
        with contextlib.suppress(Exception):
            client.images.get(tag)
            return tag
        say(f"installing {wheel.name} into {deps_image}")
        _install_wheel(client, deps_image, wheel, tag)
    return tag


def _wheel_digest(wheel: Path) -> str:
    """A digest of the wheel's file contents (not its zip timestamps)."""
    import zipfile

    h = hashlib.sha256()
    with zipfile.ZipFile(wheel) as zf:
        for name in sorted(zf.namelist()):
            h.update(name.encode())
            h.update(hashlib.sha256(zf.read(name)).digest())
    return h.hexdigest()


def _install_wheel(client: Any, base: str, wheel: Path, tag: str) -> None:
    import docker

    from agentgym.sandbox.docker_owner import LABEL_PID, LABEL_ROLE, owner_labels
    from agentgym.sandbox.images import IMAGE_CHANGES

    cmd = ["python3", "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--break-system-packages"]
    cmd += ["--root-user-action=ignore", f"/tmp/{wheel.name}"]
    created = client.api.create_container(base, cmd, user="0:0", labels=owner_labels("build"))
    container = client.containers.get(created["Id"])
    try:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(str(wheel), arcname=wheel.name)
        container.put_archive("/tmp", buf.getvalue())
        container.start()
        status = container.wait(timeout=600)
        if status.get("StatusCode") != 0:
            tail = container.logs(tail=30).decode("utf-8", errors="replace")
            raise SandboxError(f"installing the agentgym wheel failed:\n{tail}")
        repo, name = tag.split(":")
        changes = [*IMAGE_CHANGES, f'LABEL agentgym.image=env-server {LABEL_PID}="" {LABEL_ROLE}=""']
        container.commit(repository=repo, tag=name, changes=changes)
    finally:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)

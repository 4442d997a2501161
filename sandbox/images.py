"""Sandbox images built without a registry: debootstrap + ``docker import``, then pip layers.

:func:`build_base_image` debootstraps a minimal Debian (``minbase`` plus python3, pip and the CA
certificates) into a temp dir, prunes docs, caches and locales, adds ``/work`` owned by the sandbox
user, and imports the tree as an image. :func:`build_image` runs ``pip install`` in a container of
that image, with the host's CA bundle mounted read-only so pip can reach the package index through
an intercepting proxy, and commits the result. Tags derive from a hash of the inputs, and a build
whose tag exists is skipped, so repeated calls (CI, a test session) cost one lookup.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentgym.core.errors import SandboxError
from agentgym.sandbox.docker_owner import LABEL_PID, LABEL_ROLE, owner_labels
from agentgym.sandbox.engine import docker_client

BUILDER_VERSION = 1  # bump when the build steps change what an image contains
BASE_REPO = "agentgym/base"
IMAGE_REPO = "agentgym/sandbox"
SANDBOX_UID = 65534  # nobody:nogroup in Debian's base passwd
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BUILD_LOCK = Path(tempfile.gettempdir()) / "agentgym-image-build.lock"
PRUNE: tuple[str, ...] = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale")
PRUNE += ("var/cache/apt", "var/lib/apt/lists", "var/log")
IMAGE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONDONTWRITEBYTECODE=1",
    "WORKDIR /work",
    'CMD ["/bin/sh"]',
)
FORWARDED_ENV: tuple[str, ...] = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_DEFAULT_TIMEOUT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
)
FORWARDED_ENV += ("NO_PROXY", "http_proxy", "https_proxy", "no_proxy")

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    """Default log sink: say nothing."""


@dataclass(frozen=True)
class BaseImageSpec:
    """What goes into the base image (the mirror is not part of the content hash)."""

    suite: str = "bookworm"
    variant: str = "minbase"
    packages: tuple[str, ...] = ("python3", "python3-pip", "ca-certificates")
    mirror: str = field(
        default_factory=lambda: os.environ.get("AGENTGYM_DEBIAN_MIRROR", "http://deb.debian.org/debian"),
        compare=False,
    )

    def content_hash(self) -> str:
        """Hash of the inputs that decide the image's content."""
        inputs = {k: v for k, v in asdict(self).items() if k != "mirror"}
        return _digest({"builder": BUILDER_VERSION, **inputs})

    @property
    def tag(self) -> str:
        """The image tag, e.g. ``agentgym/base:bookworm-1a2b3c4d5e6f``."""
        return f"{BASE_REPO}:{self.suite}-{self.content_hash()}"


def _digest(obj: Any) -> str:
    """Twelve hex digits of the SHA-256 of ``obj`` as canonical JSON."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:12]


def base_image_tag(spec: BaseImageSpec | None = None) -> str:
    """The content-derived tag of the base image (whether or not it is built yet)."""
    return (spec or BaseImageSpec()).tag


def image_exists(client: Any, tag: str) -> bool:
    """True when the engine holds an image named ``tag``."""
    import docker

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialize builds across processes (two pytest sessions must not debootstrap twice)."""
    fd = os.open(BUILD_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def build_base_image(
    spec: BaseImageSpec | None = None, *, client: Any = None, force: bool = False, log: Log = _quiet
) -> str:
    """Build (or find) the base image and return its tag; needs root and ``debootstrap``."""
    spec = spec or BaseImageSpec()
    client = client or docker_client()
    if not force and image_exists(client, spec.tag):
        return spec.tag
    with _build_lock():
        if not force and image_exists(client, spec.tag):
            return spec.tag
        debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
        if debootstrap is None:
            raise SandboxError("debootstrap is not installed: apt-get install debootstrap")
        if os.geteuid() != 0:
            raise SandboxError("building the base image needs root (debootstrap creates device files)")
        with tempfile.TemporaryDirectory(prefix="agentgym-rootfs-", dir="/var/tmp") as tmp:
            rootfs, tarball = Path(tmp) / "rootfs", Path(tmp) / "rootfs.tar"
            started = time.monotonic()
            log(f"debootstrap {spec.suite} ({spec.variant} + {', '.join(spec.packages)}) from {spec.mirror}")
            include = f"--include={','.join(spec.packages)}"
            argv = [debootstrap, f"--variant={spec.variant}", include, spec.suite, str(rootfs), spec.mirror]
            _run(argv, what="debootstrap")
            log(f"debootstrap took {time.monotonic() - started:.0f}s")
            _prune(rootfs)
            _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tarball), "."], what="tar")
            started = time.monotonic()
            repo, tag = spec.tag.split(":")
            changes = [*IMAGE_CHANGES, f"LABEL agentgym.image=base agentgym.content={spec.content_hash()}"]
            client.api.import_image_from_file(str(tarball), repository=repo, tag=tag, changes=changes)
            log(f"docker import took {time.monotonic() - started:.1f}s")
    if not image_exists(client, spec.tag):
        raise SandboxError(f"docker import finished but {spec.tag} is not in the engine")
    return spec.tag


def _prune(rootfs: Path) -> None:
    """Drop docs, caches and package lists; add ``/work`` owned by the sandbox user."""
    for rel in PRUNE:
        folder = rootfs / rel
        if folder.is_dir():
            for child in folder.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
    work = rootfs / "work"
    work.mkdir(mode=0o755, exist_ok=True)
    os.chown(work, SANDBOX_UID, SANDBOX_UID)


def _run(argv: list[str], what: str) -> None:
    """Run a host command; raise SandboxError with its output's tail if it fails."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise SandboxError(f"{what} failed with exit code {proc.returncode}:\n{tail}")


def normalize_packages(packages: Iterable[str]) -> tuple[str, ...]:
    """Requirement strings stripped, de-duplicated and sorted (their order does not change an image)."""
    out = sorted({p.strip() for p in packages if p.strip()})
    for p in out:
        if p.startswith("-"):
            raise SandboxError(f"python package {p!r} looks like a pip option; pass requirement strings")
    return tuple(out)


def image_tag(python_packages: Iterable[str], base: str, client: Any) -> str:
    """The content-derived tag of ``base`` plus ``python_packages`` (the base's image id is hashed)."""
    import docker

    try:
        base_id = client.images.get(base).id
    except docker.errors.ImageNotFound as exc:
        raise SandboxError(
            f"base image {base} not found; build it with `agentgym sandbox build-image`"
        ) from exc
    return f"{IMAGE_REPO}:{_digest({'builder': BUILDER_VERSION, 'base': base_id, 'pip': python_packages})}"


def build_image(
    python_packages: Iterable[str] = (),
    *,
    base: str | None = None,
    client: Any = None,
    force: bool = False,
    network_mode: str = "bridge",
    timeout: float = 1800.0,
    log: Log = _quiet,
) -> str:
    """Build (or find) an image with ``python_packages`` pip-installed on ``base``; return its tag.

    Without packages this is the base image. ``base`` defaults to the base image, built if missing.
    """
    client = client or docker_client()
    packages = normalize_packages(python_packages)
    base = base or build_base_image(client=client, log=log)
    if not packages:
        return base
    tag = image_tag(packages, base, client)
    if not force and image_exists(client, tag):
        return tag
    with _build_lock():
        if force or not image_exists(client, tag):
            _pip_layer(client, base, tag, packages, network_mode, timeout, log)
    return tag


def _pip_layer(
    client: Any, base: str, tag: str, packages: tuple[str, ...], network_mode: str, timeout: float, log: Log
) -> None:
    """Run pip in a throwaway container of ``base`` and commit it as ``tag``."""
    import docker

    env = {k: os.environ[k] for k in FORWARDED_ENV if os.environ.get(k)}
    env = {k: v for k, v in env.items() if "file:" not in v}  # host-local indexes mean nothing inside
    binds = {}
    if os.path.exists(HOST_CA_BUNDLE):
        binds[HOST_CA_BUNDLE] = {"bind": HOST_CA_BUNDLE, "mode": "ro"}
        env.update(PIP_CERT=HOST_CA_BUNDLE, REQUESTS_CA_BUNDLE=HOST_CA_BUNDLE, SSL_CERT_FILE=HOST_CA_BUNDLE)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # Settings go through `env` on the command line, not the container's env: a commit would
    # bake container env (host proxies, cert paths) into the image and every sandbox after it.
    cmd = ["env", *(f"{k}={v}" for k, v in sorted(env.items()))]
    cmd += ["python3", "-m", "pip", "install", "--no-cache-dir", "--break-system-packages"]
    cmd += ["--root-user-action=ignore", "--no-warn-script-location", *packages]
    log(f"pip install {' '.join(packages)} on {base}")
    started = time.monotonic()
    # The low-level API keeps the bind out of the container's Config.Volumes, which a commit would
    # copy into the image (and every container of it would then mount a volume over the file).
    host_config = client.api.create_host_config(binds=binds, network_mode=network_mode)
    created = client.api.create_container(
        base, cmd, user="0:0", host_config=host_config, labels=owner_labels("build")
    )  # owner labels: reaped if we die mid-build
    container = client.containers.get(created["Id"])
    try:
        container.start()
        try:
            status = container.wait(timeout=timeout)
        except Exception as exc:  # requests' ReadTimeout and friends
            raise SandboxError(f"pip install did not finish within {timeout:.0f}s") from exc
        if status.get("StatusCode") != 0:
            tail = container.logs(tail=30).decode("utf-8", errors="replace")
            raise SandboxError(f"pip install {' '.join(packages)} failed:\n{tail}")
        repo, name = tag.split(":")
        pip = json.dumps(" ".join(packages))
        # A commit copies the build container's labels into the image; blank the owner so that
        # containers started from the image are never taken for the builder's leftovers.
        changes = [
            *IMAGE_CHANGES,
            f'LABEL agentgym.image=pip agentgym.pip={pip} {LABEL_PID}="" {LABEL_ROLE}=""',
        ]
        container.commit(repository=repo, tag=name, changes=changes)
    finally:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)
    log(f"pip layer took {time.monotonic() - started:.1f}s")

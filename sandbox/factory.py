"""Build a sandbox by backend name: ``make_sandbox("local", Limits(memory_mb=512))``.

Backends are imported lazily from ``module:Class`` entry points, so the docker SDK is only needed
for the docker backend. A backend class may define a classmethod ``unavailable_reason() -> str |
None``; :func:`make_sandbox` refuses a backend that gives a reason, and :func:`available_backends`
lists those that give none.
"""

from __future__ import annotations

from typing import Any

from agentgym.core.errors import ConfigError, SandboxError, UnknownIdError
from agentgym.core.loader import load_entry_point
from agentgym.sandbox.base import Limits, Sandbox

DEFAULT_BACKEND = "local"
BACKENDS: dict[str, str] = {
    "local": "agentgym.sandbox.local:LocalSandbox",
    "docker": "agentgym.sandbox.docker_backend:DockerSandbox",
    "unsafe-process": "agentgym.sandbox.unsafe:UnsafeProcessSandbox",
}


def backend_class(backend: str) -> type[Sandbox]:
    """The Sandbox class of ``backend`` (imported on first use)."""
    if backend not in BACKENDS:
        raise UnknownIdError("sandbox backend", backend, BACKENDS)
    try:
        cls = load_entry_point(BACKENDS[backend], f"sandbox backend {backend!r}")
    except ImportError as exc:
        raise SandboxError(f"the {backend!r} sandbox backend cannot be imported: {exc}") from exc
    except ConfigError as exc:
        raise SandboxError(str(exc)) from None
    if not (isinstance(cls, type) and issubclass(cls, Sandbox)):
        raise SandboxError(f"{BACKENDS[backend]} is not a Sandbox class")
    return cls


def unavailable_reason(backend: str) -> str | None:
    """None when ``backend`` can run here, else a one-line reason (e.g. which package is missing)."""
    try:
        cls = backend_class(backend)
    except SandboxError as exc:
        return str(exc)
    check = getattr(cls, "unavailable_reason", None)
    return check() if callable(check) else None


def available_backends() -> list[str]:
    """The backends that can run on this machine now (``unsafe-process`` included: tests only)."""
    return [name for name in BACKENDS if unavailable_reason(name) is None]


def make_sandbox(backend: str = DEFAULT_BACKEND, limits: Limits | None = None, **options: Any) -> Sandbox:
    """A new sandbox of ``backend`` with ``limits``; ``options`` go to the backend's constructor.

    Raises SandboxError naming what is missing (for ``local``: the Debian package ``bubblewrap``)
    when the backend cannot run here, and ConfigError for an unknown backend name.
    """
    cls = backend_class(backend)
    check = getattr(cls, "unavailable_reason", None)
    reason = check() if callable(check) else None
    if reason is not None:
        raise SandboxError(reason)
    try:
        return cls(limits, **options)
    except TypeError as exc:  # an option the backend does not take: say which backend
        raise SandboxError(f"{backend} sandbox: {exc}") from exc

"""``openenv.yaml`` for an AgentGym env id, in the format OpenEnv 0.10's templates and validator use.

:func:`write_manifest` writes ``DIR/openenv.yaml`` and the app it names, ``DIR/server/app.py``
(``app = create_openenv_app(ENV_ID)``), so ``cd DIR && uvicorn server.app:app --port 8000`` (or
OpenEnv's own tooling) serves the env. The ``validation:`` block is what OpenEnv's validator reads:
reward range, resources, capabilities (reward channel, task API, tools, task counts), type tags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentgym.core.tools import ToolSpec

DEFAULT_PORT = 8000
#: Generous wall-clock bound on one episode, for OpenEnv's validator.
EPISODE_TIMEOUT_S = 600.0
_HEAVY = {"gui": (2.0, 2048, 1024), "swe": (2.0, 2048, 2048), "webshop": (1.0, 2048, 1024)}

_APP_TEMPLATE = '''"""OpenEnv app for AgentGym's {env_id} (written by ``agentgym openenv manifest``)."""

from agentgym.integrations.openenv_app import create_openenv_app

app = create_openenv_app({env_id!r}, max_sessions={max_sessions}, idle_timeout_s={idle_timeout_s!r})
'''


def manifest(env_id: str, port: int = DEFAULT_PORT, app: str = "server.app:app") -> dict[str, Any]:
    """The ``openenv.yaml`` mapping for ``env_id``."""
    from agentgym import __version__
    from agentgym.integrations import openenv_tasks as tasks
    from agentgym.integrations.openenv_app import env_name
    from agentgym.registry import spec

    s = spec(env_id)
    env_cls = s.load()
    cpu, memory_mb, disk_mb = _HEAVY.get(s.family, (1.0, 1024, 512))
    penalty = getattr(env_cls, "format_penalty", 0.0)
    low = min(0.0, float(penalty)) if isinstance(penalty, (int, float)) else 0.0
    capabilities: dict[str, Any] = {"verifier": {"kind": "reward_channel"}}
    splits = tasks.list_splits(env_id)
    if splits:
        capabilities["task_api"] = True
        counts = {sp["name"]: tasks.num_tasks(env_id, sp["name"]) for sp in splits if sp["name"] == "test"}
        if counts:
            capabilities["declared_task_count"] = counts
    tools = getattr(env_cls, "tools", ())
    if isinstance(tools, tuple) and tools and all(isinstance(t, ToolSpec) for t in tools):
        capabilities["declared_tools"] = [t.name for t in tools]
    return {
        "spec_version": 1,
        "name": env_name(env_id),
        "version": __version__,
        "description": s.description or env_id,
        "type": "space",
        "runtime": "fastapi",
        "app": app,
        "port": port,
        "validation": {
            "reward": {"range": [low, 1.0], "oracle_tolerance": 0.0, "floor_margin": 0.1},
            "resources": {
                "cpu": cpu,
                "memory_mb": memory_mb,
                "disk_mb": disk_mb,
                "episode_timeout_s": EPISODE_TIMEOUT_S,
            },
            "capabilities": capabilities,
            "types": {"tags": ["agentgym", s.family]},
        },
    }


def write_manifest(
    env_id: str,
    out_dir: str | Path = ".",
    *,
    port: int = DEFAULT_PORT,
    max_sessions: int = 64,
    idle_timeout_s: float = 300.0,
) -> Path:
    """Write ``openenv.yaml`` and ``server/app.py`` for ``env_id`` in ``out_dir``; return the yaml."""
    import yaml

    data = manifest(env_id, port=port)
    out = Path(out_dir)
    (out / "server").mkdir(parents=True, exist_ok=True)
    path = out / "openenv.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (out / "server" / "__init__.py").write_text("", encoding="utf-8")
    app_text = _APP_TEMPLATE.format(
        env_id=env_id, max_sessions=max_sessions, idle_timeout_s=float(idle_timeout_s)
    )
    (out / "server" / "app.py").write_text(app_text, encoding="utf-8")
    return path

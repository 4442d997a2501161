"""Scale-out backends: rollouts on a Ray cluster (:mod:`agentgym.scale.ray_backend`).

Ray is the ``ray`` extra and is imported only when a Ray run starts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RayConfig", "arun_on_ray"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from agentgym.scale import ray_backend

        return getattr(ray_backend, name)
    raise AttributeError(name)

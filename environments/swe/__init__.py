"""SWE patch environments: repair real Python repositories with tools, graded by hidden tests."""

from agentgym.registry import registry


def register_envs() -> None:
    """Register ``swe/patch-v0`` (idempotent)."""
    registry.register(
        "swe/patch-v0",
        "agentgym.environments.swe.env:SwePatchEnv",
        max_turns=60,
        description="Fix an injected bug in a real Python repo with edit/run tools; hidden tests grade.",
        extras=("swe",),
    )


register_envs()

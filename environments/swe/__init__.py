"""SWE patch environments: repair real Python repositories with tools, graded by hidden tests."""

from agentgym.registry import SuitePlan, registry

#: Eval poses the held-out part of the shipped tasks (levels by difficulty) under the registry's cap;
#: the demo one level-0 task, at most 2 turns (the oracle's edit and submit).
PATCH_PLAN = SuitePlan(max_turns="spec", demo_levels=1, demo_per_level=1, demo_max_turns=2)


def register_envs() -> None:
    """Register ``swe/patch-v0`` and ``agentgym swe`` (idempotent)."""
    registry.register_command("swe", "agentgym.cli.swe_cmd:swe_app")
    registry.register(
        "swe/patch-v0",
        "agentgym.environments.swe.env:SwePatchEnv",
        max_turns=60,
        description="Fix an injected bug in a real Python repo with edit/run tools; hidden tests grade.",
        extras=("swe",),
        system=("bwrap",),  # the default local sandbox backend (bubblewrap)
        suites=("swe/patches@v1",),
        suite_plan=PATCH_PLAN,
    )


register_envs()

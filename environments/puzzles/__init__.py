"""Puzzle environments: generated, exactly checked problems."""

from agentgym.registry import registry


def register_envs() -> None:
    """Register the puzzle envs (idempotent: ids already present are kept)."""
    if "puzzles/sat-v0" not in registry:
        registry.register(
            "puzzles/sat-v0",
            "agentgym.environments.puzzles.sat:SatEnv",
            max_turns=3,
            description="SATURN-style k-SAT: answer a satisfying assignment (exact check).",
        )


register_envs()

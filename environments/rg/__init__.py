"""reasoning-gym as a task source: one single-turn env ``rg/<dataset>-v0`` per dataset that works here.

The list of datasets is static data (:mod:`.catalog`), so registering imports nothing heavy; the
envs are registered with or without reasoning_gym, and without it (the ``rg`` extra) ``make``
answers with the pip command that installs it. Entries are made and
scored by reasoning-gym itself, in a worker process (:mod:`.generator`). Datasets left out, and
why, are in :data:`.policy.EXCLUDED`.
"""

from __future__ import annotations

import importlib.util

from agentgym.environments.rg.catalog import DATASETS
from agentgym.environments.rg.generator import class_name, generator_id
from agentgym.environments.rg.policy import available_datasets

MAX_TURNS = 3
ENTRY_POINT = "agentgym.environments.rg.env:ReasoningGymEnv"


def env_id(dataset: str) -> str:
    """The env id of a reasoning-gym dataset (``rg/<dataset>-v0``)."""
    return f"rg/{dataset}-v0"


def installed() -> bool:
    """True when reasoning_gym can be imported (checked without importing it)."""
    return importlib.util.find_spec("reasoning_gym") is not None


def register_envs() -> None:
    """Register a generator and an env per available dataset (idempotent; needs the ``rg`` extra to run)."""
    from agentgym.registry import registry
    from agentgym.tasks.registry import register_generator

    for dataset in available_datasets():
        register_generator(generator_id(dataset), f"agentgym.environments.rg.generator:{class_name(dataset)}")
        registry.register(
            env_id(dataset),
            ENTRY_POINT,
            max_turns=MAX_TURNS,
            description=f"reasoning-gym {dataset}: {DATASETS[dataset]} (reasoning-gym's own scorer).",
            extras=("rg",),
            generator=generator_id(dataset),
        )


register_envs()

"""The static dataset list, the exclusion policy and registration (mostly without reasoning_gym)."""

import importlib.util
import subprocess
import sys

import pytest

import agentgym.environments.rg as rg
from agentgym.environments.rg.catalog import DATASETS, RG_VERSION
from agentgym.environments.rg.policy import (
    EXCLUDED,
    GUARDED,
    REDRAW_IF_ANSWER_CONTAINS,
    REFERENCE_KEYS,
    SEEDED_SIZES,
    TUPLE_GRIDS,
    available_datasets,
)
from agentgym.registry import _ID_PATTERN

INSTALLED = importlib.util.find_spec("reasoning_gym") is not None
needs_rg = pytest.mark.skipif(not INSTALLED, reason="reasoning_gym is not installed (extra 'rg')")


@needs_rg
def test_catalog_matches_the_installed_reasoning_gym_registry():
    import importlib.metadata

    from reasoning_gym.factory import DATASETS as RG_DATASETS

    assert sorted(DATASETS) == sorted(RG_DATASETS), "run python -m agentgym.environments.rg.build_catalog"
    assert importlib.metadata.version("reasoning_gym") == RG_VERSION


def test_every_policy_entry_names_a_catalog_dataset():
    for table in (EXCLUDED, GUARDED, SEEDED_SIZES, REFERENCE_KEYS, REDRAW_IF_ANSWER_CONTAINS, TUPLE_GRIDS):
        assert set(table) <= set(DATASETS), sorted(set(table) - set(DATASETS))
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in EXCLUDED.values())
    assert set(GUARDED.values()) <= {"arithmetic", "symbolic"}
    assert not set(EXCLUDED) & (set(GUARDED) | set(SEEDED_SIZES) | set(REFERENCE_KEYS))


def test_available_datasets_are_the_catalog_minus_the_excluded():
    available = available_datasets()
    assert list(available) == sorted(available)
    assert set(available) == set(DATASETS) - set(EXCLUDED)
    assert len(available) >= 100


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_env_ids_are_valid_registry_ids(dataset):
    assert _ID_PATTERN.match(rg.env_id(dataset))
    assert DATASETS[dataset] and len(DATASETS[dataset]) <= 80


@needs_rg
def test_every_available_dataset_is_registered_and_no_excluded_one():
    from agentgym.registry import registry
    from agentgym.tasks.registry import generator_class

    rg.register_envs()  # idempotent
    for dataset in available_datasets():
        spec = registry.spec(rg.env_id(dataset))
        assert spec.max_turns == 3 and spec.generator == f"rg/{dataset}" and spec.extras == ("rg",)
        assert generator_class(f"rg/{dataset}").dataset == dataset
    for dataset in EXCLUDED:
        assert rg.env_id(dataset) not in registry


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_without_reasoning_gym_envs_are_listed_and_make_names_the_pip_command():
    # find_spec answers None for a module whose sys.modules entry is None: reasoning_gym "absent";
    # the distribution check is pointed at an uninstalled reasoning-gym the same way.
    code = (
        "import sys; sys.modules['reasoning_gym'] = None\n"
        "import agentgym.requirements as req\n"
        "req._installed = lambda name: name != 'reasoning-gym'\n"
        "import agentgym.environments.rg as rg\n"
        "from agentgym.core.errors import ConfigError\n"
        "from agentgym.registry import registry, make\n"
        "rg.register_envs()\n"
        "assert not rg.installed()\n"
        "assert 'rg/chain_sum-v0' in registry.ids('rg')\n"
        "assert registry.spec('rg/chain_sum-v0').extras == ('rg',)\n"
        "try:\n"
        "    make('rg/chain_sum-v0')\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('make did not refuse')\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert "pip install 'agentgym[rg]'" in done.stdout and "reasoning-gym" in done.stdout


def test_registering_and_making_an_env_never_imports_reasoning_gym_here():
    code = (
        "import sys, agentgym, agentgym.environments.rg as rg\n"
        "rg.register_envs()\n"
        "if rg.installed():\n"
        "    from agentgym.registry import make\n"
        "    make('rg/chain_sum-v0').reset(seed=0)\n"
        "assert 'reasoning_gym' not in sys.modules\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr

"""Every available reasoning-gym dataset: reference passes, corrupt fails readably, check_env passes."""

import numpy as np
import pytest

pytest.importorskip("reasoning_gym")

import agentgym.environments.rg as rg
from agentgym.checker import check_env
from agentgym.environments.rg.generator import generator_class
from agentgym.environments.rg.policy import available_datasets

SEEDS = 5


@pytest.mark.slow
@pytest.mark.parametrize("dataset", available_datasets())
def test_reference_passes_and_corrupt_fails_readably(dataset):
    gen = generator_class(dataset)()
    rng = np.random.default_rng(0)
    for seed in range(SEEDS):
        task = gen.generate(seed, 0)
        assert gen.verify(task, gen.reference_response(task)).passed, (seed, task.answer)
        wrong = gen.verify(task, gen.corrupt_response(task, rng))
        assert wrong.score < 1.0 and not wrong.unscored and "format_error" not in wrong.details, seed


@pytest.mark.slow
def test_check_env_passes_on_every_rg_env():
    failures = {}
    for dataset in available_datasets():
        report = check_env(rg.env_id(dataset), raise_on_failure=False)
        if not report.passed:
            failures[dataset] = [f"{r.name}: {r.message}" for r in report.failures()]
    assert not failures, failures

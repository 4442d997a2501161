"""Every registered generator, every difficulty level, many seeds: the oracle and reference score
1.0 under the generator's own verifier, corrupted answers score below 1.0 (reasoning-gym's
test_dataset_common idea, over the whole registry)."""

import dataclasses

import numpy as np
import pytest

from agentgym.tasks.registry import generator_class, list_generators

GENERATORS = [g for g in list_generators() if not g.startswith("rg/")]  # rg has tests/rg/test_rg_all.py
SEEDS_PER_LEVEL = 6


@pytest.mark.parametrize("generator_id", GENERATORS)
def test_oracle_consistency_at_every_level(generator_id):
    cls = generator_class(generator_id)
    rng = np.random.default_rng(0)
    for level in range(cls.n_levels()):
        gen = cls.at_level(level)
        for seed in range(SEEDS_PER_LEVEL):
            task = gen.generate(seed, level)
            assert gen.verify(task, gen.reference_response(task)).score == 1.0, (level, seed)
            assert gen.verify(task, gen.oracle_response(task)).score == 1.0, (level, seed)
            wrong = gen.verify(task, gen.corrupt_response(task, rng))
            assert wrong.score < 1.0 and not wrong.passed, (level, seed)
            assert gen.verify(task, "no final answer here").details.get("format_error")


@pytest.mark.parametrize("generator_id", GENERATORS)
def test_invalid_configs_raise_value_error_naming_the_field(generator_id):
    cls = generator_class(generator_id)
    for field in dataclasses.fields(cls.config_cls):
        with pytest.raises(ValueError, match=field.name):
            cls(**{field.name: object()})
    with pytest.raises(ValueError, match="no_such_knob"):
        cls(no_such_knob=1)


@pytest.mark.parametrize("generator_id", GENERATORS)
def test_same_seed_index_config_same_task(generator_id):
    cls = generator_class(generator_id)
    a, b = cls(), cls()
    assert a.generate(11, 3) == b.generate(11, 3)
    assert a.generate(11, 3).id != a.generate(11, 4).id or cls.n_levels() == 1

"""The shipped data is what the factory's code produces, and is compact and self-consistent."""

import pytest

from agentgym.core.errors import TaskError
from agentgym.tasks.swe.build import BuildConfig, draw_candidates, oracle_patch, parse_spec, source_files
from agentgym.tasks.swe.mutate import OPERATORS, find_mutations
from agentgym.tasks.swe.patches import is_protected
from agentgym.tasks.swe.record import DATA_DIR, load_packages, load_tasks
from agentgym.tasks.swe.snapshot import pristine_tree, sha256_file


def test_at_least_30_tasks_from_3_packages_in_a_few_hundred_kb():
    tasks, packages = load_tasks(), load_packages()
    assert len(tasks) >= 30 and len(packages) >= 3
    assert {t.package for t in tasks} == set(packages)
    assert sum(p.stat().st_size for p in DATA_DIR.iterdir()) < 2_000_000
    for info in packages.values():
        assert sha256_file(DATA_DIR / info.sdist) == info.sha256


def test_every_task_is_reproducible_from_its_mutations_and_the_sdist():
    for task in load_tasks():
        sources = source_files(pristine_tree(task.info))
        for mutation in task.mutations:
            assert mutation in find_mutations(mutation.path, sources[mutation.path])  # a real AST site
            assert not is_protected(mutation.path)
        assert oracle_patch(sources, list(task.mutations)) == task.oracle_patch
        assert set(task.fail_to_pass) <= set(task.info.baseline)
        assert task.difficulty == {
            "bugs": len(task.mutations),
            "files": len({m.path for m in task.mutations}),
            "failing_tests": len(task.fail_to_pass),
        }
        for mutation in task.mutations:  # the issue never quotes the changed line
            for line in (mutation.original + mutation.mutated).splitlines():
                assert len(line.strip()) < 12 or line.strip() not in task.issue


def test_shipped_tasks_cover_every_mutation_operator():
    assert {m.operator for t in load_tasks() for m in t.mutations} == set(OPERATORS)


def test_candidates_are_drawn_round_robin_and_reproducibly():
    import numpy as np

    task = load_tasks()[0]
    sources = source_files(pristine_tree(task.info))
    sites = [m for rel in sorted(sources) for m in find_mutations(rel, sources[rel])]
    first = draw_candidates(sites, np.random.default_rng(0), 12)
    assert first == draw_candidates(sites, np.random.default_rng(0), 12)
    assert [m.operator for m in first[:6]] == list(OPERATORS)


def test_bad_specs_and_configs_are_refused():
    assert parse_spec("toolz==1.0.0") == ("toolz", "1.0.0")
    for bad in ("toolz", "toolz>=1", "../x==1", "toolz==1.0; rm -rf /"):
        with pytest.raises(TaskError):
            parse_spec(bad)
    with pytest.raises(ValueError):
        BuildConfig(max_fail_fraction=0).validate()

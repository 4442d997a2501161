"""One spec per env: generator, suites, plan, wrappers and extras written once and read everywhere."""

import gymnasium as gym
import pytest

from agentgym.core.errors import ConfigError, UnknownIdError
from agentgym.envspec import SuitePlan
from agentgym.eval.suites import envs_of_generator, get_suite
from agentgym.registry import Registry, registry
from agentgym.tasks.registry import generator_class, list_generators


class _Tag(gym.Wrapper):
    tagged = True


class _TakesGenerator:
    def __init__(self, generator: str = "none", other: int = 0) -> None:
        self.generator, self.other = generator, other


def _registry() -> Registry:
    reg = Registry(builtin_modules=())
    reg._loaded = True
    return reg


def test_same_spec_twice_is_a_no_op_and_another_under_the_same_id_is_refused():
    reg = _registry()
    first = reg.register("toy/guess-v0", "tests.toy_envs:GuessEnv", max_turns=4)
    assert reg.register("toy/guess-v0", "tests.toy_envs:GuessEnv", max_turns=4) is first
    with pytest.raises(ConfigError, match="already registered"):
        reg.register("toy/guess-v0", "tests.toy_envs:GuessEnv", max_turns=5)
    reg.register_generator("toy/gen", "agentgym.tasks.puzzles.sat:SatGenerator")
    reg.register_generator("toy/gen", "agentgym.tasks.puzzles.sat:SatGenerator")
    with pytest.raises(ConfigError, match="generator id 'toy/gen' is already registered"):
        reg.register_generator("toy/gen", "agentgym.tasks.puzzles.nqueens:NQueensGenerator")
    with pytest.raises(UnknownIdError, match="did you mean 'toy/gen'"):
        reg.generator_entry("toy/gem")


def test_make_passes_the_spec_generator_and_applies_wrappers_inside_the_turn_cap():
    reg = _registry()
    reg.register("toy/gen-v0", _TakesGenerator, generator="toy/sat")
    assert reg.make("toy/gen-v0").generator == "toy/sat"
    assert reg.make("toy/gen-v0", generator="toy/other").generator == "toy/other"
    reg.register("toy/wrapped-v0", "tests.toy_envs:GuessEnv", max_turns=3, wrappers=(_Tag,))
    env = reg.make("toy/wrapped-v0")
    assert env.max_turns == 3 and isinstance(env.env, _Tag)
    reg.register("toy/strwrap-v0", "tests.toy_envs:GuessEnv", wrappers=("tests.test_spec:_Tag",))
    assert isinstance(reg.make("toy/strwrap-v0"), _Tag)
    with pytest.raises(ConfigError, match="must look like 'family/name'"):
        reg.register("toy/bad-v0", "tests.toy_envs:GuessEnv", generator="nope")


def test_generators_are_a_view_of_the_registry_and_every_spec_generator_is_registered():
    generators = set(list_generators())
    named = {s.generator for s in registry.specs() if s.generator}
    assert named <= generators
    for generator in named:
        assert generator_class(generator).id == generator
    # every built-in game with a generator names it in its spec
    for env_id in ("games/sokoban-v0", "games/minesweeper-v0", "games/frozenlake-v0", "games/wordle-v0"):
        assert registry.spec(env_id).generator == env_id.removesuffix("-v0")
    assert registry.envs_posing("puzzles/maze") == ["puzzles/maze-plan-v0", "puzzles/maze-v0"]


def test_eval_suites_come_from_the_specs_plans():
    assert registry.spec("puzzles/maze-v0").plan == SuitePlan(None, 1, 2, 8)
    assert registry.spec("puzzles/sat-v0").plan == SuitePlan()
    assert registry.spec("search/self-search-v0").plan is None
    demo = {e.env_id: e for e in get_suite("demo").entries}
    assert demo["puzzles/maze-v0"].env_kwargs == {"max_turns": 8}
    assert (demo["search/qa-v0"].n_levels, demo["search/qa-v0"].per_level) == (4, 1)
    assert envs_of_generator()["search/qa"] == ["search/qa-v0"]


GENERATOR_BACKED = sorted(s.id for s in registry.specs() if s.generator and not s.id.startswith("rg/"))


@pytest.mark.parametrize("env_id", GENERATOR_BACKED)
def test_threshold_curriculum_runs_on_every_generator_backed_env(env_id, tmp_path):
    from typer.testing import CliRunner

    from agentgym.cli.main import app

    out = tmp_path / "run"
    args = ["run", env_id, "--agent", "oracle", "-n", "2", "--curriculum", "threshold", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "curriculum.json").exists()
    lines = (out / "trajectories.jsonl").read_text().splitlines()
    assert len(lines) == 2


def test_a_curriculum_on_a_generator_without_levels_says_why_it_cannot_run(tmp_path):
    from typer.testing import CliRunner

    from agentgym.cli.main import app

    args = ["run", "rg/gcd-v0", "--agent", "oracle", "-n", "1", "--curriculum", "threshold"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert isinstance(result.exception, ConfigError)
    assert "rg/gcd declares no difficulty levels" in str(result.exception)


def test_family_sub_commands_are_registered_by_their_families_not_imported_by_the_cli():
    from pathlib import Path

    from typer.testing import CliRunner

    from agentgym.cli.main import app

    assert set(registry.commands()) == {"gui", "search", "swe", "webshop"}
    main = (Path(__file__).parents[1] / "agentgym" / "cli" / "main.py").read_text()
    for name in registry.commands():
        assert f"{name}_cmd" not in main  # found through the registry, not imported one by one
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0, result.output
    with pytest.raises(ConfigError, match="command 'gui' is already registered"):
        registry.register_command("gui", "agentgym.cli.search_cmd:search_app")

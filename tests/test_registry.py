import subprocess
import sys
import textwrap

import pytest

import agentgym
from agentgym.core.errors import ConfigError, UnknownIdError
from agentgym.core.wrappers import MaxTurns
from agentgym.registry import Registry, registry


def test_builtin_envs_are_listed_by_family():
    assert "puzzles/sat-v0" in agentgym.list_envs()
    assert agentgym.list_envs("puzzles") == [i for i in agentgym.list_envs() if i.startswith("puzzles/")]
    assert agentgym.list_envs("nope") == []


def test_make_applies_overrides_and_max_turns():
    env = agentgym.make("puzzles/sat-v0", difficulty={"n_vars": 9})
    assert isinstance(env, MaxTurns) and env.max_turns == 3
    assert env.unwrapped.generator.config.n_vars == 9
    env = agentgym.make("puzzles/sat-v0", max_turns=None)
    assert not isinstance(env, MaxTurns)


def test_unknown_id_suggests_close_matches():
    with pytest.raises(UnknownIdError, match=r"did you mean 'puzzles/sat-v0'"):
        agentgym.make("puzzles/sat-v1")
    with pytest.raises(KeyError):  # UnknownIdError is also a KeyError
        agentgym.spec("zzz/qqq-v0")


def test_typos_in_env_kwargs_are_rejected_by_name():
    with pytest.raises(ConfigError, match="difficult"):
        agentgym.make("puzzles/sat-v0", difficult={"n_vars": 3})
    with pytest.raises(ValueError, match="n_var"):
        agentgym.make("puzzles/sat-v0", difficulty={"n_var": 3})


@pytest.mark.parametrize("bad", ["sat", "Puzzles/sat-v0", "puzzles/sat", "puzzles/sat-vX", "a/b/c-v0"])
def test_ids_must_be_family_name_version(bad):
    with pytest.raises(ConfigError, match="family/Name-vN"):
        Registry(builtin_modules=()).register(bad, "x:y")


def test_duplicates_rejected_and_lazy_entry_points():
    reg = Registry(builtin_modules=())
    reg.register("toy/guess-v0", "tests.toy_envs:GuessEnv", kwargs={"high": 5}, max_turns=4)
    with pytest.raises(ConfigError, match="already registered"):
        reg.register("toy/guess-v0", "tests.toy_envs:GuessEnv")
    env = reg.make("toy/guess-v0")
    assert env.unwrapped.high == 5 and env.max_turns == 4
    reg.register("toy/broken-v0", "tests.toy_envs:Missing")
    with pytest.raises(ConfigError, match="has no attribute 'Missing'"):
        reg.make("toy/broken-v0")


def test_third_party_envs_register_through_entry_points(tmp_path):
    pkg = tmp_path / "gymplugin_demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        textwrap.dedent("""
        import agentgym
        def register():
            agentgym.register("plugin/guess-v0", "tests.toy_envs:GuessEnv", max_turns=5)
    """)
    )
    dist = tmp_path / "gymplugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: gymplugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[agentgym.envs]\ndemo = gymplugin_demo:register\n")
    code = (
        "import agentgym; print(agentgym.list_envs('plugin')); "
        "print(agentgym.make('plugin/guess-v0').max_turns)"
    )
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split("\n")[:2] == ["['plugin/guess-v0']", "5"]


def test_a_broken_plugin_does_not_break_the_registry(tmp_path):
    dist = tmp_path / "brokenplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[agentgym.envs]\nbroken = no_such_module_xyz:register\n")
    code = (
        "from agentgym.registry import registry; print(registry.ids()); print(sorted(registry.plugin_errors))"
    )
    import os

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "puzzles/sat-v0" in out.stdout and "['broken']" in out.stdout


def test_global_registry_contains_without_loading():
    assert "puzzles/sat-v0" in registry

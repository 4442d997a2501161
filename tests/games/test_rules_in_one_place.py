"""Rules in one place: no env module imports a generator module, directly or through other modules.

Game rules shared by a generator and its env live in one rules module both import (DESIGN.md,
"Tasks, generators, curricula"); an env gets its generator from its spec, by id. This test parses
every module of ``environments/`` and ``tasks/`` (nothing is imported) and fails when a module
under ``environments/`` reaches a generator module (one that defines a ``TaskGenerator`` subclass)
through its imports, so the split cannot regress.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Source folder -> the package it is installed as (pyproject's ``package-dir``).
PACKAGES = {"environments": "agentgym.environments", "tasks": "agentgym.tasks"}

#: Env modules that still import a generator module, with why; each must still do so (the list
#: only shrinks). Fix one by moving what it uses into a rules module and dropping it from here.
KNOWN: dict[str, str] = {
    "agentgym.environments.rg": "registers reasoning-gym's generator, defined under environments/rg",
    "agentgym.environments.search.qa": "imports tasks/search/generator",
    "agentgym.environments.search.selfplay": "imports tasks/search/generator",
}

#: Game -> (env module, generator module, rules module): the env and the generator share the rules.
GAMES = {
    "sokoban": ("environments.games.sokoban", "tasks.games.sokoban", "tasks.games.sokoban_rules"),
    "minesweeper": (
        "environments.games.minesweeper",
        "tasks.games.minesweeper",
        "tasks.games.minesweeper_rules",
    ),
    "frozenlake": ("environments.games.frozenlake", "tasks.games.frozenlake", "tasks.games.frozenlake_rules"),
    "wordle": ("environments.games.wordle", "tasks.games.wordle", "tasks.games.wordle_rules"),
    "chess": ("environments.games.chess", "tasks.games.chess_endgame", "tasks.games.chess_rules"),
    "maze": ("environments.puzzles.maze", "tasks.puzzles.maze", "tasks.puzzles.maze_rules"),
}


def module_name(path: Path) -> str:
    """The dotted name ``path`` is imported as (``tasks/games/x.py`` -> ``agentgym.tasks.games.x``)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGES[parts[0]], *parts[1:]])


def parse_modules() -> dict[str, ast.Module]:
    """Every module of ``environments/`` and ``tasks/``, parsed, by dotted name."""
    return {
        module_name(path): ast.parse(path.read_text(encoding="utf-8"), str(path))
        for top in PACKAGES
        for path in sorted((ROOT / top).rglob("*.py"))
    }


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def generator_modules(modules: dict[str, ast.Module]) -> set[str]:
    """The modules that define a ``TaskGenerator`` subclass (through any chain of base classes)."""
    classes = [
        (name, node)
        for name, tree in modules.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]
    generators = {"TaskGenerator"}
    grew = True
    while grew:
        found = {node.name for _, node in classes if any(_base_name(b) in generators for b in node.bases)}
        grew = not found <= generators
        generators |= found
    return {name for name, node in classes if node.name in generators and node.name != "TaskGenerator"}


def imports_of(name: str, tree: ast.Module, modules: dict[str, ast.Module]) -> set[str]:
    """The walked modules ``name`` imports anywhere in its body (lazy and type-checking imports too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")
                anchor = parts[: len(parts) - node.level + _is_package(name, modules)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # ``from pkg import module``
    return found & modules.keys()


def _is_package(name: str, modules: dict[str, ast.Module]) -> int:
    """1 when ``name`` is a package (some walked module lies inside it), for relative imports."""
    return int(any(other.startswith(name + ".") for other in modules))


def violations(modules: dict[str, ast.Module], excused: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """Env module -> the generator modules it reaches through imports of walked modules.

    ``from pkg import x`` counts ``pkg`` (its ``__init__`` runs) and ``pkg.x`` when that is a module.
    The search does not go on through a generator module or an ``excused`` (known) module.
    """
    generators = generator_modules(modules)
    direct = {name: imports_of(name, tree, modules) for name, tree in modules.items()}
    found: dict[str, set[str]] = {}
    for name in modules:
        if not name.startswith(PACKAGES["environments"] + ".") or name in generators:
            continue
        seen, stack = set(), list(direct[name])
        while stack:
            module = stack.pop()
            if module in seen:
                continue
            seen.add(module)
            if module not in generators and module not in excused:
                stack.extend(direct[module])
        if seen & generators:
            found[name] = seen & generators
    return found


@pytest.fixture(scope="module")
def modules() -> dict[str, ast.Module]:
    """The parsed modules of environments/ and tasks/."""
    return parse_modules()


def test_no_env_module_imports_a_generator_module(modules):
    found = violations(modules, frozenset(KNOWN))
    new = {name: sorted(gens) for name, gens in found.items() if name not in KNOWN}
    assert not new, f"env modules import generator modules (move the shared rules to a rules module): {new}"
    stale = sorted(set(KNOWN) - set(found))
    assert not stale, f"no longer import a generator module; drop them from KNOWN: {stale}"


@pytest.mark.parametrize("game", sorted(GAMES))
def test_env_and_generator_share_one_rules_module(modules, game):
    env, generator, rules = (f"agentgym.{m}" for m in GAMES[game])
    generators = generator_modules(modules)
    assert generator in generators and env not in generators and rules not in generators
    assert rules in imports_of(env, modules[env], modules), f"{env} does not import {rules}"
    assert rules in imports_of(generator, modules[generator], modules), f"{generator} does not import {rules}"
    assert env not in violations(modules)


def test_the_check_catches_an_env_importing_a_generator(modules):
    """A positive control: an env module importing a generator, directly or through a helper."""
    fake = dict(modules)
    fake["agentgym.environments.games.fake"] = ast.parse(
        "from agentgym.tasks.games.sokoban import SokobanGenerator\n"
    )
    fake["agentgym.environments.games.fake_helper"] = ast.parse("from .fake_rules import x\n")
    fake["agentgym.environments.games.fake_rules"] = ast.parse(
        "def f():\n    from agentgym.tasks.puzzles import maze\n"
    )
    found = violations(fake)
    assert found["agentgym.environments.games.fake"] == {"agentgym.tasks.games.sokoban"}
    assert found["agentgym.environments.games.fake_helper"] == {"agentgym.tasks.puzzles.maze"}


@pytest.mark.parametrize(
    ("env_id", "generator_id"),
    [
        ("games/sokoban-v0", "games/sokoban"),
        ("games/minesweeper-v0", "games/minesweeper"),
        ("games/frozenlake-v0", "games/frozenlake"),
        ("games/wordle-v0", "games/wordle"),
        ("games/chess-endgame-v0", "games/chess_endgame"),
        ("puzzles/maze-v0", "puzzles/maze"),
    ],
)
def test_env_gets_its_generator_from_its_spec(env_id, generator_id):
    import inspect

    from agentgym.core.errors import UnknownIdError
    from agentgym.registry import registry, unwrap

    spec = registry.spec(env_id)
    assert spec.generator == generator_id
    factory = spec.load()
    default = inspect.signature(factory).parameters["generator"].default
    assert default == generator_id  # the env made directly poses the same generator
    env = unwrap(spec.make())
    assert env.generator.id == generator_id
    with pytest.raises(UnknownIdError, match="no_such_generator"):
        factory(generator="games/no_such_generator")

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "playwright", "docker", "ray", "textarena", "openai", "datasets")
SOURCE_DIRS = ("agentgym", "environments", "verifiers", "tasks", "sandbox")


def test_import_agentgym_is_light_and_fast():
    code = (
        "import sys, time, json; t = time.perf_counter(); import agentgym; "
        "dt = time.perf_counter() - t; agentgym.Env; agentgym.make; "
        f"print(json.dumps({{'s': dt, 'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))"
    )
    best = None
    for _ in range(3):  # best of three: a cold disk cache is not the library's cost
        out = json.loads(
            subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        )
        assert out["heavy"] == [], out
        best = out["s"] if best is None else min(best, out["s"])
    assert best < 0.5, best


def test_making_and_stepping_sat_imports_nothing_heavy():
    code = (
        "import sys, agentgym; env = agentgym.make('puzzles/sat-v0'); env.reset(seed=0); env.step('x'); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _python_files():
    for folder in SOURCE_DIRS:
        yield from (ROOT / folder).rglob("*.py")


#: Modules allowed to import ``random``: TextArena's isolation builds per-episode ``random.Random``
#: instances and swaps them in for the global module TextArena calls (it never draws from the global).
RANDOM_ALLOWED = {"environments/games/ta_isolation.py"}


def test_no_module_uses_the_global_random():
    offenders = []
    for path in _python_files():
        if path.relative_to(ROOT).as_posix() in RANDOM_ALLOWED:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name == "random" for a in node.names):
                offenders.append(f"{path}:{node.lineno} import random")
            if isinstance(node, ast.ImportFrom) and node.module == "random":
                offenders.append(f"{path}:{node.lineno} from random import")
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "seed"
                and getattr(node.value, "id", "") == "random"
            ):
                offenders.append(f"{path}:{node.lineno} random.seed")
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and getattr(node.value.value, "id", "") == "np"
                and node.value.attr == "random"
                and node.attr in {"seed", "rand", "randint", "random", "choice", "shuffle", "normal"}
            ):
                offenders.append(f"{path}:{node.lineno} np.random.{node.attr} (global numpy RNG)")
    assert offenders == []


def test_no_eval_or_exec_in_library_code():
    offenders = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"eval", "exec"}:
                offenders.append(f"{path}:{node.lineno}")
    assert offenders == []


def test_core_depends_on_nothing_else_of_ours():
    for path in (ROOT / "agentgym" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("agentgym"):
                assert node.module.startswith("agentgym.core"), f"{path}: imports {node.module}"


def test_subpackages_are_installed_under_one_import_name():
    import agentgym.environments
    import agentgym.sandbox
    import agentgym.tasks
    import agentgym.verifiers

    assert Path(agentgym.environments.__file__).parent == ROOT / "environments"
    assert Path(agentgym.verifiers.__file__).parent == ROOT / "verifiers"
    assert Path(agentgym.tasks.__file__).parent == ROOT / "tasks"
    assert Path(agentgym.sandbox.__file__).parent == ROOT / "sandbox"

"""Package discovery for the folder mapping in pyproject.toml.

The top-level folders ``environments/``, ``verifiers/``, ``tasks/`` and ``sandbox/`` install as
sub-packages of ``agentgym``; setuptools cannot discover remapped folders by itself, so the package
list is computed here from the folders that hold an ``__init__.py``.
"""

from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).parent
MAPPING = {
    "agentgym": "agentgym",
    "agentgym.environments": "environments",
    "agentgym.verifiers": "verifiers",
    "agentgym.tasks": "tasks",
    "agentgym.sandbox": "sandbox",
}


def _packages() -> list[str]:
    found = []
    for package, folder in MAPPING.items():
        base = ROOT / folder
        for init in sorted(base.rglob("__init__.py")):
            rel = init.parent.relative_to(base).parts
            found.append(".".join((package, *rel)))
    return found


setup(packages=_packages())

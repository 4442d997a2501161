"""What an env needs beyond the base install: pip extras and system programs, checked with one clear fix.

An :class:`~agentgym.registry.EnvSpec` names its ``extras`` (``"search"`` means
``pip install 'agentgym[search]'``) and its ``system`` programs (``"chromium"``). The extras'
requirements are read from the installed ``agentgym`` distribution's metadata, so this module
never keeps a second list of which package belongs to which extra; the programs' install
commands are in :data:`SYSTEM_PACKAGES`.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence

DIST = "agentgym"
#: Program -> the Debian package that provides it (``apt-get install -y PACKAGE``).
SYSTEM_PACKAGES: dict[str, str] = {"chromium": "chromium", "bwrap": "bubblewrap", "git": "git"}
#: Program -> the environment variable that points AgentGym at another copy of it.
PROGRAM_OVERRIDES: dict[str, str] = {"chromium": "AGENTGYM_CHROMIUM"}

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


@functools.cache
def _requirements_by_extra() -> dict[str, tuple[str, ...]]:
    """Extra -> its requirement strings (without markers), from the installed metadata."""
    try:
        reqs = importlib.metadata.requires(DIST) or []
    except importlib.metadata.PackageNotFoundError:  # running from a source tree: nothing to check
        return {}
    out: dict[str, list[str]] = {}
    for req in reqs:
        body, _, marker = req.partition(";")
        extra = _EXTRA_MARKER.search(marker)
        if extra:
            out.setdefault(extra.group(1), []).append(body.strip())
    return {k: tuple(v) for k, v in out.items()}


def known_extras() -> list[str]:
    """The extras the installed distribution declares (empty when running from a source tree)."""
    return sorted(_requirements_by_extra())


def included_extras(table: Mapping[str, Sequence[str]], extra: str) -> set[str]:
    """``extra`` and every extra it pulls in through ``agentgym[a,b]`` requirements.

    ``table`` maps extras to requirement strings (pyproject's ``optional-dependencies``).
    """
    seen: set[str] = set()
    todo = [extra]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for req in table.get(current, ()):
            match = _NAME.match(req)
            if match and _normalize(match.group(1)) == DIST and match.group(2):
                todo.extend(s.strip() for s in match.group(2).strip("[]").split(",") if s.strip())
    return seen


def distributions(table: Mapping[str, Sequence[str]], extra: str) -> set[str]:
    """The distribution names ``extra`` installs (other than agentgym itself), nested extras included."""
    names = set()
    for sub in included_extras(table, extra):
        for req in table.get(sub, ()):
            match = _NAME.match(req)
            if match and _normalize(match.group(1)) != DIST:
                names.add(match.group(1))
    return names


@functools.cache
def extra_distributions(extra: str) -> frozenset[str]:
    """The distribution names an installed extra needs (read from the installed metadata)."""
    return frozenset(distributions(_requirements_by_extra(), extra))


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def missing_extras(extras: Iterable[str]) -> dict[str, list[str]]:
    """Extra -> its distributions that are not installed, for each extra with any missing."""
    if not _requirements_by_extra():
        return {}
    out = {}
    for extra in extras:
        missing = sorted(n for n in extra_distributions(extra) if not _installed(n))
        if missing:
            out[extra] = missing
    return out


def missing_programs(programs: Iterable[str]) -> list[str]:
    """The programs found neither at their override variable's path nor on ``PATH``."""
    return [p for p in programs if _program_path(p) is None]


def _program_path(program: str) -> str | None:
    override = os.environ.get(PROGRAM_OVERRIDES.get(program, ""), "")
    if override:
        return override if os.access(override, os.X_OK) else None
    return shutil.which(program)


def pip_command(extras: Sequence[str]) -> str:
    """The one pip command that installs ``extras``."""
    return f"pip install 'agentgym[{','.join(sorted(set(extras)))}]'"


def apt_command(programs: Sequence[str]) -> str:
    """The one apt command that installs ``programs``."""
    packages = sorted({SYSTEM_PACKAGES.get(p, p) for p in programs})
    return f"sudo apt-get install -y {' '.join(packages)}"


def problems(extras: Iterable[str], programs: Iterable[str]) -> list[str]:
    """What is missing for these extras and programs, each with the command that installs it."""
    out = []
    extras = list(extras)
    declared = known_extras()
    unknown = sorted(e for e in extras if declared and e not in declared)
    if unknown:
        out.append(f"unknown extras {unknown} (agentgym declares {', '.join(declared)})")
    missing = missing_extras(e for e in extras if e not in unknown)
    if missing:
        detail = "; ".join(f"{e}: {', '.join(d)}" for e, d in sorted(missing.items()))
        out.append(f"missing Python packages ({detail}); install them with: {pip_command(list(missing))}")
    absent = missing_programs(programs)
    if absent:
        out.append(f"missing programs ({', '.join(absent)}); install them with: {apt_command(absent)}")
    return out


def clear_cache() -> None:
    """Forget what was found installed (after installing packages in the same process)."""
    _requirements_by_extra.cache_clear()
    extra_distributions.cache_clear()
    _installed.cache_clear()

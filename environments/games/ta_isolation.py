"""Per-episode random state for TextArena, which calls the global ``random`` (a few games ``numpy.random``).

Every ``textarena`` module's ``random`` (and ``np``) global is replaced by a proxy that forwards to
the random generators of the episode whose call is running (a :class:`contextvars.ContextVar` set
around each call into TextArena), and to the real global module when no episode is active. So two
episodes stepping concurrently in threads never share random state, need no lock, and a seed
reproduces an episode whatever else runs in the process. ``random.seed(seed)`` inside TextArena
seeds the episode's own generator.
"""

from __future__ import annotations

import random as _random
import sys
from contextvars import ContextVar
from types import ModuleType
from typing import Any

import numpy as _np

_ACTIVE: ContextVar[EpisodeRandom | None] = ContextVar("agentgym_ta_random", default=None)
#: The running episode (``token = ACTIVE.set(episode)`` ... ``ACTIVE.reset(token)``: the cheapest form).
ACTIVE = _ACTIVE
_PY_METHODS = frozenset(n for n in dir(_random.Random) if not n.startswith("_"))
_NP_METHODS = frozenset(n for n in dir(_np.random.RandomState) if not n.startswith("_"))
_PATCHED: dict[str, list[tuple[str, object]]] = {}  # module -> (global name, original) replaced


class EpisodeRandom:
    """One episode's generators: a :class:`random.Random` and a numpy ``RandomState`` (made on first use).

    Use it as a context manager (``with episode:``) around calls into TextArena.
    """

    __slots__ = ("_np", "_seed", "_tokens", "py")

    def __init__(self, seed: int) -> None:
        self.py = _random.Random(seed)
        self._np: _np.random.RandomState | None = None
        self._seed = seed
        self._tokens: list[Any] = []

    @property
    def np(self) -> _np.random.RandomState:
        """The episode's numpy generator (few games use one, and it is slow to make)."""
        if self._np is None:
            self._np = _np.random.RandomState(self._seed % 2**32)
        return self._np

    def __enter__(self) -> EpisodeRandom:
        self._tokens.append(_ACTIVE.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.reset(self._tokens.pop())

    def active(self) -> EpisodeRandom:
        """Route TextArena's ``random`` / ``np.random`` calls to this episode inside a ``with`` block."""
        return self


class _RandomProxy(ModuleType):
    """Stands in for the ``random`` module inside TextArena."""

    def __getattr__(self, name: str) -> Any:
        episode = _ACTIVE.get()
        if episode is not None and name in _PY_METHODS:
            return getattr(episode.py, name)
        return getattr(_random, name)


class _NumpyRandomProxy(ModuleType):
    """Stands in for ``numpy.random`` inside TextArena."""

    def __getattr__(self, name: str) -> Any:
        episode = _ACTIVE.get()
        if episode is not None and name in _NP_METHODS:
            return getattr(episode.np, name)
        return getattr(_np.random, name)


class _NumpyProxy(ModuleType):
    """Stands in for ``numpy`` inside TextArena (only ``numpy.random`` is redirected)."""

    def __getattr__(self, name: str) -> Any:
        if name == "random":
            return _NP_RANDOM
        return getattr(_np, name)


_PY_PROXY = _RandomProxy("random")
_NP_RANDOM = _NumpyRandomProxy("numpy.random")
_NP_PROXY = _NumpyProxy("numpy")


def patch_textarena_modules() -> int:
    """Point every loaded ``textarena`` module's ``random``/``numpy`` globals at the proxies.

    Idempotent and cheap (modules already patched are skipped); call it after TextArena imports a
    game module (``textarena.make`` imports them lazily). Returns how many modules were patched now.
    """
    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or name in _PATCHED or not (name == "textarena" or name.startswith("textarena.")):
            continue
        namespace = vars(module)
        replaced = []
        for attr, value in list(namespace.items()):
            proxy = {id(_random): _PY_PROXY, id(_np): _NP_PROXY, id(_np.random): _NP_RANDOM}.get(id(value))
            if proxy is not None:
                namespace[attr] = proxy
                replaced.append((attr, value))
        _PATCHED[name] = replaced
        count += 1
    return count


def unpatch_textarena_modules() -> None:
    """Undo :func:`patch_textarena_modules` (benchmarks time TextArena unpatched this way)."""
    for name, replaced in _PATCHED.items():
        module = sys.modules.get(name)
        if module is not None:
            for attr, original in replaced:
                vars(module)[attr] = original
    _PATCHED.clear()


def active_episode() -> EpisodeRandom | None:
    """The episode whose random state TextArena uses right now (None: the global modules)."""
    return _ACTIVE.get()

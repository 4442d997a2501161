"""The reasoning-gym worker: a separate interpreter that makes entries and runs scorers.

:mod:`.client` starts it as ``python -m agentgym.environments.rg.worker RECV_FD SEND_FD MEMORY_MB``
with ``PYTHONHASHSEED=0`` (some generators iterate over sets of strings, so their items depend on
the hash seed: a fixed one makes tasks equal across processes and machines), its stdout discarded
(a generator prints progress dots) and an address-space limit. Only this process imports
reasoning_gym; in it, the list-reading scorers' ``eval`` is rebound to a literal-only reader and
the ``parse_expr`` scorers see only guarded answers (:mod:`.policy`, :mod:`.guards`). Requests are
``(op, args)``; replies ``("ok", value)`` or ``("error", text)``.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
from multiprocessing.connection import Connection
from typing import Any

from agentgym.environments.rg import guards
from agentgym.environments.rg.policy import GUARDED, LITERAL_EVAL_MODULES, SEEDED_SIZES, TUPLE_GRIDS

#: The virtual size of an indexed dataset: item keys are drawn below it.
INDEXED_SIZE = 2**31 - 1


def _build(name: str, params_json: str, seed: int, size: int) -> Any:
    from reasoning_gym.factory import create_dataset

    return create_dataset(name, **json.loads(params_json), seed=seed, size=size)


@functools.lru_cache(maxsize=64)
def _cached(name: str, params_json: str, seed: int, size: int) -> Any:
    return _build(name, params_json, seed, size)


def _scorer_dataset(name: str, params_json: str) -> Any:
    """The dataset instance whose ``score_answer`` judges entries of this config."""
    return _cached(name, params_json, 0, SEEDED_SIZES.get(name, INDEXED_SIZE))


def check(name: str, params_json: str) -> None:
    """Raise unless ``params`` build a valid config of dataset ``name``."""
    _scorer_dataset(name, params_json)


def generate(name: str, params_json: str, key: int, sub: int) -> str:
    """The entry for draw ``(key, sub)``, as JSON text (so it is known to be JSON-serializable)."""
    size = SEEDED_SIZES.get(name)
    if size is None:
        entry = _cached(name, params_json, 0, INDEXED_SIZE)[key % INDEXED_SIZE]
    else:
        entry = _build(name, params_json, key, size)[sub % size]
    return json.dumps(entry, ensure_ascii=False, allow_nan=False)


def score(name: str, params_json: str, answer: str, entry_json: str) -> tuple[str, Any]:
    """``("score", x)``; ``("guard", why)`` if the answer may not reach the scorer; ``("raised", why)``."""
    entry = json.loads(entry_json)
    metadata = entry.get("metadata") or {}
    kind = GUARDED.get(name)
    if kind is not None:
        reason = guards.check(kind, answer, metadata)
        if reason is not None:
            return "guard", reason
    for key in TUPLE_GRIDS.get(name, ()):
        if isinstance(metadata.get(key), list):
            metadata[key] = tuple(tuple(row) for row in metadata[key])
    dataset = _scorer_dataset(name, params_json)
    try:
        value = dataset.score_answer(answer=answer, entry=entry)
    except MemoryError:
        raise
    except Exception as exc:  # the scorer could not read this answer: reported as such
        return "raised", f"{type(exc).__name__}: {exc}"[:500]
    return "score", float(value) if isinstance(value, (int, float)) else repr(value)[:200]


def install_literal_eval() -> None:
    """Bind ``eval`` in the list-reading scorers' modules to :func:`.guards.literal_eval`."""
    for module in LITERAL_EVAL_MODULES:
        importlib.import_module(module).eval = guards.literal_eval  # type: ignore[attr-defined]


OPS = {"check": check, "generate": generate, "score": score}


def serve(recv: Connection, send: Connection, memory_mb: int) -> None:
    """Answer requests until the parent closes the pipe."""
    try:
        import resource

        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform without rlimits
        pass
    try:
        import reasoning_gym

        install_literal_eval()
        send.send(("ok", getattr(reasoning_gym, "__version__", "?")))
    except Exception as exc:  # reported to the parent, which raises it
        send.send(("error", f"cannot import reasoning_gym: {type(exc).__name__}: {exc}"))
        return
    while True:
        try:
            op, args = recv.recv()
        except (EOFError, OSError):
            return
        try:
            send.send(("ok", OPS[op](*args)))
        except MemoryError:
            send.send(("error", "MemoryError: the worker ran out of its memory limit"))
        except Exception as exc:  # the parent decides what an error means for its request
            send.send(("error", f"{type(exc).__name__}: {exc}"[:2000]))


if __name__ == "__main__":
    serve(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        int(sys.argv[3]),
    )

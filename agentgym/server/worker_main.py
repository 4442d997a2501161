"""Entry point of a server worker process: ``python -m agentgym.server.worker_main FD CONFIG``.

``CONFIG`` is JSON: ``{"patterns": [...], "imports": [...]}`` (env id globs served; modules that
register extra envs, imported first).

Reads ``(op, session_id, body)`` requests from the socket ``FD``, answers each with ``(status,
json_bytes)`` in order, and exits (closing its sessions) when the socket closes. It asks the kernel
to kill it when its parent dies, so a crashed server leaves no orphaned workers.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from multiprocessing.connection import Connection

from agentgym.server.host import SessionHost, error_reply


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: SIGKILL this process when the server process exits (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)


def _answer(host: SessionHost, data: bytes) -> tuple[int, bytes]:
    """One request's reply; nothing one request does may end the loop (other sessions live here)."""
    try:
        op, session_id, body = pickle.loads(data)
        return host.handle(str(op), str(session_id), bytes(body))
    except Exception as exc:  # RecursionError, MemoryError, a bug: answer it, keep serving
        return error_reply("internal", f"the worker failed on this request: {type(exc).__name__}: {exc}")


def main(argv: list[str]) -> int:
    """Serve requests on the socket named by ``argv[0]`` until it closes."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the server stops us
    conn = Connection(int(argv[0]))
    import importlib
    import json

    config = json.loads(argv[1]) if len(argv) > 1 else {}
    import agentgym.environments  # noqa: F401  (register the built-in families before the first call)
    from agentgym.registry import registry

    for module in config.get("imports", []):
        importlib.import_module(module)
    registry.ids()  # load plugins now, not during the first timed call
    host = SessionHost(tuple(config.get("patterns", [])))
    conn.send_bytes(b"ready")
    try:
        while True:
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                break
            reply = _answer(host, data)
            try:
                conn.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:
                break
    finally:
        host.close_all()
    return 0


if __name__ == "__main__":
    if os.getppid() == 1:  # the server is gone already
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))

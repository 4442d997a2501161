"""Run the shop server in a background thread on 127.0.0.1 (for browser tests and the browser env)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from agentgym.core.errors import EnvError
from agentgym.environments.webshop.app import ShopServer


@dataclass
class RunningShop:
    """A shop server listening at ``url``; :meth:`stop` shuts it down."""

    shop: ShopServer
    url: str
    _server: Any
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_shop(shop: ShopServer, port: int | None = None, timeout: float = 30.0) -> RunningShop:
    """Serve ``shop`` with uvicorn in a daemon thread; returns once it accepts connections."""
    import uvicorn

    port = port or _free_port()
    config = uvicorn.Config(shop.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"webshop-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise EnvError(f"the shop server did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    return RunningShop(shop, f"http://127.0.0.1:{port}", server, thread)

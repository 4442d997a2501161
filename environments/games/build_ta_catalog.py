"""Regenerate ``ta_catalog.py``: which TextArena games run offline here, and why the others do not.

Run ``python -m agentgym.environments.games.build_ta_catalog`` (about two minutes). Each base game
(``<Game>-v0``) is probed in its own process with the network blocked and API keys removed: the
smallest seat count TextArena accepts, two seeded episodes of random candidate moves (the same
seed and moves must give the same transcript), the share of moves the game accepted, and whether
random play ends the game within the probe's move budget. A game is available when all of that
works; otherwise its reason is recorded.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import pprint
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROBE_STEPS = 120
MAX_PLAYERS = 6
TIMEOUT_S = 90
_KEY_VARS = ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "HF_TOKEN")
OUTPUT = Path(__file__).with_name("ta_catalog.py")


def _block_network() -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("network access is disabled (offline probe)")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    for var in _KEY_VARS:
        os.environ.pop(var, None)


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip(" *\t") for ln in str(exc).splitlines()]
    return next((ln for ln in lines if ln), "")[:160]


def _episode(env: Any, seed: int) -> tuple[list[Any], int, int, bool]:
    import numpy as np

    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    trace: list[Any] = [[m.text for m in obs], info.get("player")]
    invalid = steps = 0
    done = False
    for _ in range(PROBE_STEPS):
        obs, reward, done, _trunc, info = env.step(env.sample_action(rng))
        steps += 1
        invalid += bool(info.get("invalid_move"))
        trace.append(([m.text for m in obs], reward, info.get("player"), info.get("rewards")))
        if done:
            break
    return trace, steps, invalid, done


def probe(game: str) -> dict[str, Any]:
    """Probe one game in this process (network blocked); the catalog entry as a dict."""
    _block_network()
    from agentgym.environments.games.ta_env import TextArenaEnv

    errors = []
    for players in range(1, MAX_PLAYERS + 1):
        try:
            env = TextArenaEnv(game, num_players=players)
            start = time.process_time()  # CPU time: a loaded machine must not make games look slow
            env.reset(seed=0)
            reset_s = time.process_time() - start
        except Exception as exc:  # the probe records every failure as the game's reason
            errors.append(f"{type(exc).__name__}: {_first_line(exc)}")
            if (
                isinstance(exc, (SyntaxError, ImportError, LookupError, OSError))
                or "download" in str(exc).lower()
            ):
                break
            continue
        try:
            first = _episode(env, 1)
            again = _episode(TextArenaEnv(game, num_players=players), 1)
            start = time.process_time()
            runs = [_episode(env, s) for s in (2, 3, 4)]
            per_step = (time.process_time() - start) / max(1, sum(r[1] for r in runs))
        except Exception as exc:
            return {"available": False, "reason": f"random play crashed: {type(exc).__name__}: {exc}"[:200]}
        if first[0] != again[0]:
            return {"available": False, "reason": "not reproducible: same seed and moves gave different text"}
        steps = sum(r[1] for r in runs)
        return {
            "available": True,
            "num_players": players,
            "accepted_move_share": round(1 - sum(r[2] for r in runs) / max(1, steps), 3),
            "random_play_ends": all(r[3] for r in runs),
            "reset_ms": round(reset_s * 1000, 2),
            "step_us": round(per_step * 1e6, 1),
        }
    return {"available": False, "reason": (errors[-1] if errors else "unknown")[:200]}


def _probe_in_child(game: str) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        try:
            return pool.submit(probe, game).result(timeout=TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            for proc in pool._processes.values():  # the probe is hung (e.g. waiting on a download)
                proc.kill()
            return {"available": False, "reason": f"reset or random play took over {TIMEOUT_S} s"}
        except Exception as exc:
            return {"available": False, "reason": f"probe process failed: {type(exc).__name__}: {exc}"[:200]}


def base_games() -> list[str]:
    """TextArena's base game ids (``<Game>-v0``, no difficulty or wrapper suffix)."""
    from textarena.envs.registration import ENV_REGISTRY

    return sorted(g for g in ENV_REGISTRY if re.fullmatch(r"[A-Za-z0-9]+-v0", g))


def main() -> None:
    """Probe every base game (two at a time) and write ``ta_catalog.py``."""
    from importlib.metadata import version

    import textarena

    games = base_games()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = dict(zip(games, pool.map(_probe_in_child, games), strict=True))
    body = pprint.pformat(results, width=108, sort_dicts=True)
    site = str(Path(textarena.__file__).parent)
    body = body.replace(site, "textarena")  # no machine-specific paths in the shipped table
    OUTPUT.write_text(
        '"""TextArena games probed offline here (generated by ``build_ta_catalog.py``; do not edit)."""\n\n'
        "from typing import Any\n\n"
        f"#: The TextArena version probed.\nTA_VERSION = {version('textarena')!r}\n\n"
        "#: Base game id -> probe result (available: num_players, accepted_move_share, ...; else reason).\n"
        f"GAMES: dict[str, dict[str, Any]] = {body}\n"
    )
    subprocess.run([sys.executable, "-m", "ruff", "format", str(OUTPUT)], check=False)  # house style
    ok = sum(r["available"] for r in results.values())
    print(json.dumps({"games": len(results), "available": ok}), file=sys.stderr)


if __name__ == "__main__":
    main()

"""GUI bench: MiniWoB++ reset/step latency, ours (Playwright) vs Farama's ``miniwob`` gym env (Selenium).

Both drive the same task pages in headless Chromium (/usr/bin/chromium; Farama through
/usr/bin/chromedriver). Each episode is a reset and up to ``--steps`` random clicks inside the
160x210 task area (a new episode starts when one ends); both observe a screenshot and the DOM.
Prints p50/p99 latency of reset and step per side and the ratio ours/theirs (goal <= 0.5), then
episodes per minute with 4 concurrent episodes (ours: 4 async episodes on one browser; Farama: 4
envs, each with its own Chromium, in 4 threads). Ours restarts audited pages in place
(``reset_mode="auto"``); ``agentgym-reload`` is ours with a fresh document every episode
(``reset_mode="reload"``), the behaviour before in-page restarts.

    python bench/gui.py --episodes 30 --steps 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from collections.abc import Callable

import numpy as np

TASKS = ("click-button", "click-link", "enter-text", "click-checkboxes", "click-test-2")


def pct(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    return float(np.percentile(np.asarray(values) * 1000, q))


# ----- Farama's miniwob (Selenium) --------------------------------------------------------------------
def farama_env(task: str):
    """A Farama MiniWoB env driving the system Chromium through /usr/bin/chromedriver, headless."""
    os.environ.setdefault("MINIWOB_CHROME_BINARY", "/usr/bin/chromium")
    os.environ.setdefault("MINIWOB_CHROMEDRIVER", "/usr/bin/chromedriver")
    import gymnasium
    import miniwob

    gymnasium.register_envs(miniwob)
    return gymnasium.make(f"miniwob/{task}-v1", render_mode=None)


def farama_click(env, rng: np.random.Generator):
    """A random CLICK_COORDS action."""
    from miniwob.action import ActionTypes

    coords = np.array([rng.integers(160), rng.integers(210)], dtype=np.float32)
    return env.unwrapped.create_action(ActionTypes.CLICK_COORDS, coords=coords)


# ----- ours -------------------------------------------------------------------------------------------
def our_env(task: str, reset_mode: str = "auto"):
    """Our MiniWoB env (screenshot + DOM observations)."""
    from agentgym.environments.gui.miniwob import MiniWoBEnv

    return MiniWoBEnv(task, observation="both", reset_mode=reset_mode)


def our_reload_env(task: str):
    """Our MiniWoB env, reloading the page for every episode."""
    return our_env(task, reset_mode="reload")


def our_click(env, rng: np.random.Generator) -> str:
    """A random click(x, y)."""
    return f"click({int(rng.integers(160))}, {int(rng.integers(210))})"


IN_PAGE: list[int] = [0, 0]  # our resets done in place, all our resets (after the warm-up)


def latencies(make: Callable, click: Callable, episodes: int, steps: int) -> tuple[list[float], list[float]]:
    """Reset and step latencies over ``episodes`` episodes per task."""
    resets: list[float] = []
    stepped: list[float] = []
    in_page = [0, 0]
    rng = np.random.default_rng(0)
    for task in TASKS:
        env = make(task)
        try:
            env.reset(seed=0)  # warm-up (browser start) not counted
            for ep in range(episodes):
                t0 = time.perf_counter()
                env.reset(seed=ep + 1)
                resets.append(time.perf_counter() - t0)
                kind = getattr(env.unwrapped, "last_reset", None)
                if kind is not None:
                    in_page[0] += kind == "in-page"
                    in_page[1] += 1
                for _ in range(steps):
                    action = click(env, rng)
                    t0 = time.perf_counter()
                    _, _, terminated, truncated, _ = env.step(action)
                    stepped.append(time.perf_counter() - t0)
                    if terminated or truncated:
                        break
        finally:
            env.close()
    if in_page[1]:
        IN_PAGE[:] = in_page
    return resets, stepped


def farama_throughput(seconds: float, steps: int, workers: int = 4) -> float:
    """Episodes per minute with ``workers`` Farama envs stepping in threads."""
    envs = [farama_env("click-checkboxes") for _ in range(workers)]
    for e in envs:
        e.reset(seed=0)
    count = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def run(env, k: int) -> None:
        nonlocal count
        rng = np.random.default_rng(k)
        ep = 0
        while time.perf_counter() < stop:
            env.reset(seed=1000 * k + ep)
            for _ in range(steps):
                if env.step(farama_click(env, rng))[2]:
                    break
            ep += 1
            with lock:
                count += 1

    threads = [threading.Thread(target=run, args=(e, k)) for k, e in enumerate(envs)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for e in envs:
        e.close()
    return count / elapsed * 60


def our_throughput(seconds: float, steps: int, workers: int = 4, reset_mode: str = "auto") -> float:
    """Episodes per minute with ``workers`` async episodes on one browser."""
    envs = [our_env("click-checkboxes", reset_mode) for _ in range(workers)]

    async def main() -> float:
        await asyncio.gather(*(e.areset(seed=0) for e in envs))
        count = 0
        stop = time.perf_counter() + seconds

        async def run(env, k: int) -> None:
            nonlocal count
            rng = np.random.default_rng(k)
            ep = 0
            while time.perf_counter() < stop:
                await env.areset(seed=1000 * k + ep)
                for _ in range(steps):
                    if (await env.astep(our_click(env, rng)))[2]:
                        break
                ep += 1
                count += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(run(e, k) for k, e in enumerate(envs)))
        return count / (time.perf_counter() - t0) * 60

    try:
        return asyncio.run(main())
    finally:
        for e in envs:
            e.close()


def _timed(name: str, fn: Callable, phases: dict[str, list[float]], active: list[bool]) -> Callable:
    """``fn`` (a coroutine function) timed into ``phases[name]`` while ``active[0]``."""

    async def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            if active[0]:
                phases.setdefault(name, []).append(time.perf_counter() - t0)

    return wrapper


def reset_profile(task: str = "click-checkboxes", episodes: int = 20) -> None:
    """Print where a reset's time goes (p50 ms per phase) with in-page restarts and with reloads."""
    for mode in ("auto", "reload"):
        env = our_env(task, mode)
        phases: dict[str, list[float]] = {}
        active = [False]
        names = ("reload_page", "load_page", "begin_episode", "evaluate", "read_instruction", "_observe")
        for name in (*names, "_screenshot"):
            setattr(env, name, _timed(name, getattr(env, name), phases, active))
        totals = []
        try:
            env.reset(seed=0)
            for ep in range(episodes):
                active[0] = True
                t0 = time.perf_counter()
                env.reset(seed=ep + 1)
                totals.append(time.perf_counter() - t0)
                active[0] = False
                env.step("click(80, 100)")
        finally:
            env.close()
        parts = ", ".join(f"{k.strip('_')} {pct(v, 50):.1f}" for k, v in phases.items())
        print(f"reset profile ({mode}, {task}), p50 ms: total {pct(totals, 50):.1f}; {parts}")


def main() -> None:
    """Run both sides and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20, help="episodes per task per side")
    parser.add_argument("--steps", type=int, default=5, help="random clicks per episode at most")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each throughput run")
    parser.add_argument("--profile", action="store_true", help="only print where a reset's time goes")
    args = parser.parse_args()
    if args.profile:
        reset_profile()
        return
    print(f"tasks: {', '.join(TASKS)}; {args.episodes} episodes per task, <= {args.steps} random clicks each")
    results = {}
    for name, make, click in (
        ("farama-selenium", farama_env, farama_click),
        ("agentgym-reload", our_reload_env, our_click),
        ("agentgym", our_env, our_click),
    ):
        results[name] = latencies(make, click, args.episodes, args.steps)
    print(f"{'side':<16} {'reset p50':>10} {'reset p99':>10} {'step p50':>10} {'step p99':>10}   (ms)")
    for name, (resets, steps) in results.items():
        print(
            f"{name:<16} {pct(resets, 50):>10.1f} {pct(resets, 99):>10.1f} {pct(steps, 50):>10.1f} "
            f"{pct(steps, 99):>10.1f}   (n={len(resets)} resets, {len(steps)} steps)"
        )
    print(f"agentgym resets restarted in place: {IN_PAGE[0]} of {IN_PAGE[1]}")
    (fr, fs), (orr, os_) = results["farama-selenium"], results["agentgym"]
    print(
        f"ratio ours/theirs: reset p50 {pct(orr, 50) / pct(fr, 50):.2f}  "
        f"p99 {pct(orr, 99) / pct(fr, 99):.2f}  "
        f"step p50 {pct(os_, 50) / pct(fs, 50):.2f}  p99 {pct(os_, 99) / pct(fs, 99):.2f}  (goal <= 0.5)"
    )
    theirs = farama_throughput(args.seconds, args.steps)
    reloading = our_throughput(args.seconds, args.steps, reset_mode="reload")
    ours = our_throughput(args.seconds, args.steps)
    print(
        f"episodes/min, 4 concurrent (click-checkboxes): farama-selenium {theirs:.0f}, "
        f"agentgym-reload {reloading:.0f}, agentgym {ours:.0f} (ours/theirs x{ours / theirs:.2f})"
    )


if __name__ == "__main__":
    main()

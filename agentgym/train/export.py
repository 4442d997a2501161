"""Export a run's trajectories in the data layouts of verl, TRL and OpenRLHF.

Every exported row carries the conversation as chat messages, the episode's reward and per-turn
rewards under the run's :class:`~agentgym.train.rewards.RewardConfig` (the trainer's: read from the
run's ``config.json`` unless one is given; ``reward`` is the sum of the per-turn rewards, which for
``outcome`` is the final verdict's score), the task's split (``train`` or ``heldout``,
:func:`agentgym.tasks.splits.split_of`), and the token-exact data
(:func:`~agentgym.train.tokens.assemble`): ``input_ids``, the loss mask (1 on the agent's own
tokens) and the turn spans. Episodes the reward config masks out (a status not in its
``trainable_statuses``) are left out (counted in the returned summary), never written with a 0.

- ``verl``: one parquet file with verl's RL columns ``data_source``, ``prompt`` (chat messages),
  ``ability``, ``reward_model`` (``style``, ``ground_truth``) and ``extra_info`` (``split``,
  ``index`` and the rest), plus ``messages`` for verl's multi-turn SFT dataset.
- ``trl``: JSONL in TRL's conversational *prompt-completion* type (``prompt`` and ``completion``
  message lists) plus ``messages`` (conversational language modeling), ``reward``, and the
  pre-tokenized ``input_ids`` with ``completion_mask``; load with
  ``datasets.load_dataset("json", data_files=PATH)``.
- ``openrlhf``: JSONL with OpenRLHF's default keys ``input`` (the rendered prompt) and ``output``
  (the rendered rest of the episode), ``label`` (the gold answer), ``reward``, and ``messages`` for
  ``--apply_chat_template --multiturn``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from agentgym.core.errors import ConfigError
from agentgym.tasks.splits import split_of
from agentgym.train.rewards import RewardConfig, episode_rewards
from agentgym.train.tokens import TokenEpisode, assemble
from agentgym.train.trainer_rows import agent_loop_columns
from agentgym.trajectory import Trajectory, TrajectoryStore

Format = Literal["verl", "trl", "openrlhf"]
FORMATS: tuple[str, ...] = ("verl", "trl", "openrlhf")


def load_run(run_dir: str | Path) -> list[Trajectory]:
    """Trajectories of a run folder (``trajectories.jsonl`` or ``rollouts/trajectories.jsonl``)."""
    root = Path(run_dir)
    for candidate in (root, root / "rollouts"):
        path = candidate if candidate.suffix == ".jsonl" else candidate / TrajectoryStore.FILENAME
        if path.is_file():
            with TrajectoryStore(path) as store:
                return store.load()
    raise ConfigError(f"no {TrajectoryStore.FILENAME} in {root} or {root / 'rollouts'}")


def run_reward_config(run_dir: str | Path) -> RewardConfig | None:
    """The reward config a training run used (``RUN/config.json``), or None when there is none."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8")).get("reward")
    except (ValueError, AttributeError) as exc:
        raise ConfigError(f"{path} is not a training config ({exc})") from None
    return RewardConfig.from_dict(saved) if isinstance(saved, dict) else None


def run_env_kwargs(run_dir: str | Path) -> dict[str, Any]:
    """The env kwargs a run used (``RUN/config.json`` or ``RUN/run.json``), or none."""
    for name in ("config.json", "run.json"):
        path = Path(run_dir) / name
        if path.is_file():
            try:
                kwargs = json.loads(path.read_text(encoding="utf-8")).get("env_kwargs")
            except (ValueError, AttributeError):
                continue
            if isinstance(kwargs, dict):
                return kwargs
    return {}


def task_split(traj: Trajectory) -> str:
    """The split of the episode's task (``train`` when it has no task id or one no split covers)."""
    if not traj.task_id:
        return "train"
    try:
        return split_of(traj.task_id)
    except ValueError:  # not a task hash (a hand-made id): never held out by a generator
        return "train"


def load_tokenizer(spec: str) -> Any:
    """The tokenizer of ``bundled`` or ``hf:PATH`` (local files only)."""
    from transformers import AutoTokenizer

    if spec == "bundled":
        from agentgym.agents.bundled import ensure_converted

        folder = str(ensure_converted())
    else:
        kind, _, folder = spec.partition(":")
        if kind != "hf" or not folder:
            raise ConfigError(f"--tokenizer must be 'bundled' or 'hf:PATH', got {spec!r}")
        if not Path(folder).is_dir():
            raise ConfigError(f"tokenizer folder {folder!r} does not exist")
    return AutoTokenizer.from_pretrained(folder, local_files_only=True)


def _chat(messages: Iterable[Any]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.text} for m in messages]


def _row(traj: Trajectory, ep: TokenEpisode, index: int, rewards: list[float]) -> dict[str, Any]:
    answer = (traj.task or {}).get("answer")
    convo = traj.messages()
    n_prompt = len(traj.initial_observation)
    last_agent = max(i for i, m in enumerate(convo) if m.role == "assistant")
    return {
        "index": index,
        "episode_id": traj.episode_id,
        "env_id": traj.env_id,
        "family": traj.env_id.split("/", 1)[0],
        "group_id": traj.group_id,
        "answer": "" if answer is None else (answer if isinstance(answer, str) else json.dumps(answer)),
        "split": task_split(traj),
        "seed": traj.seed,
        "task": traj.task,
        "reward": sum(rewards),
        "turn_rewards": rewards,
        "prompt": _chat(convo[:n_prompt]),
        "completion": _chat(convo[n_prompt : last_agent + 1]),
        "messages": _chat(convo),
        "input_ids": ep.input_ids,
        "loss_mask": ep.loss_mask,
        "turn_spans": [list(s) for s in ep.turn_spans],
    }


def build_rows(
    trajs: Iterable[Trajectory], tokenizer: Any, reward: RewardConfig | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Rows for the trajectories ``reward`` trains on, and how many were left out."""
    config = reward if reward is not None else RewardConfig()
    config.validate()
    if config.kind == "igpo":
        raise ConfigError("igpo rewards need the policy's answer scores; export with outcome, turn or gra")
    rows, skipped = [], 0
    for traj in trajs:
        rewards = episode_rewards(traj, config)
        if rewards is None:
            skipped += 1
            continue
        rows.append(_row(traj, assemble(traj, tokenizer), len(rows), rewards))
    return rows, skipped


def _verl(rows: list[dict[str, Any]], out: Path, env_kwargs: Mapping[str, Any] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [
        {
            # names verl's "agentgym" agent loop and the episode it replays (env, seed, kwargs, task)
            **agent_loop_columns(r["env_id"], r["seed"], r["task"], env_kwargs),
            "data_source": r["env_id"],
            "prompt": r["prompt"],
            "ability": r["family"],
            "reward_model": {"style": "rule", "ground_truth": r["answer"]},
            "extra_info": {
                "split": r["split"],
                "index": r["index"],
                "episode_id": r["episode_id"],
                "reward": r["reward"],
                "turn_rewards": r["turn_rewards"],
                "input_ids": r["input_ids"],
                "loss_mask": r["loss_mask"],
                "turn_spans": r["turn_spans"],
            },
            "messages": r["messages"],
        }
        for r in rows
    ]
    pq.write_table(pa.Table.from_pylist(records), str(out))


def _trl(rows: list[dict[str, Any]], out: Path) -> None:
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            rec = {
                k: r[k]
                for k in ("prompt", "completion", "messages", "reward", "turn_rewards", "input_ids", "split")
            }
            rec["completion_mask"] = r["loss_mask"]
            rec["episode_id"] = r["episode_id"]
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _openrlhf(rows: list[dict[str, Any]], out: Path, tokenizer: Any) -> None:
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            start = r["turn_spans"][0][0]
            rec = {
                "input": tokenizer.decode(r["input_ids"][:start]),
                "output": tokenizer.decode(r["input_ids"][start:]),
                "label": r["answer"],
                "reward": r["reward"],
                "messages": r["messages"],
                "episode_id": r["episode_id"],
                "split": r["split"],
            }
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def export_run(
    run_dir: str | Path, fmt: str, tokenizer: Any, out: str | Path, reward: RewardConfig | None = None
) -> dict[str, Any]:
    """Write the run's trainable episodes to ``out`` in ``fmt``; returns counts and the path.

    ``reward`` defaults to the run's own reward config (``config.json``), else ``outcome``.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    config = reward or run_reward_config(run_dir) or RewardConfig()
    rows, skipped = build_rows(load_run(run_dir), tokenizer, config)
    if not rows:
        raise ConfigError(f"no trainable (status in {list(config.trainable_statuses)}) episodes in {run_dir}")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "verl":
        _verl(rows, path, run_env_kwargs(run_dir))
    elif fmt == "trl":
        _trl(rows, path)
    else:
        _openrlhf(rows, path, tokenizer)
    splits = {s: sum(r["split"] == s for r in rows) for s in sorted({r["split"] for r in rows})}
    summary = {"format": fmt, "rows": len(rows), "skipped": skipped, "path": str(path)}
    return {**summary, "reward": config.kind, "splits": splits}

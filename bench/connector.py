"""Trajectories per second converted to token data (goal: >= 1,000/s for 5-turn episodes).

Episodes: 5 turns each, built with the bundled model's tokenizer and chat template exactly as the
HF agent records them (each turn's prompt ids = the template's rendering of the conversation so
far, completion ids = the reply's tokens and the end-of-turn token), ~40 reply tokens per turn.

- measured: :func:`agentgym.train.tokens.assemble` on the sampled ids (prefix checks, no
  tokenizer calls), from in-memory trajectories and from the JSONL store (parse included);
- baseline: :func:`agentgym.train.tokens.assemble_text`, which renders the conversation with the
  chat template and tokenizes it (what a connector without sampled ids must do).

Run: ``python bench/connector.py [--episodes 2000]``
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from agentgym.agents.bundled import ensure_converted
from agentgym.core.messages import Message
from agentgym.train.tokens import assemble, assemble_text
from agentgym.trajectory import Trajectory, TrajectoryStore, Turn

WORDS = (
    "the",
    "agent",
    "guesses",
    "a",
    "number",
    "then",
    "reads",
    "the",
    "hint",
    "and",
    "narrows",
    "the",
    "range",
    "until",
    "it",
    "finds",
)


def make_episodes(tokenizer: object, n_distinct: int, turns: int, seed: int = 0) -> list[Trajectory]:
    """``n_distinct`` 5-turn episodes with prompt/completion ids as the HF agent records them."""
    rng = np.random.default_rng(seed)
    tok = tokenizer
    end = tok.convert_tokens_to_ids("<|im_end|>")  # type: ignore[attr-defined]
    out = []
    for e in range(n_distinct):
        obs0 = [Message("system", "We play a guessing game."), Message("user", f"Guess my number ({e}).")]
        traj = Trajectory(f"ep{e}", "puzzles/guess-number-v0", "bench", e, initial_observation=obs0)
        convo = [{"role": m.role, "content": m.text} for m in obs0]
        shown = obs0
        for t in range(turns):
            text = tok.apply_chat_template(convo, tokenize=False, add_generation_prompt=True)  # type: ignore[attr-defined]
            prompt = tok(text, add_special_tokens=False)["input_ids"]  # type: ignore[operator]
            reply = " ".join(rng.choice(WORDS, size=30)) + f" {int(rng.integers(1, 11))}"
            ids = tok(reply, add_special_tokens=False)["input_ids"] + [end]  # type: ignore[operator]
            action = Message("assistant", reply)
            traj.turns.append(
                Turn(t, shown, action, token_ids=ids, logprobs=[-0.5] * len(ids), prompt_token_ids=prompt)
            )
            shown = [Message("user", f"Lower. {turns - t - 1} guesses left. Your guess?")]
            convo += [{"role": "assistant", "content": reply}, {"role": "user", "content": shown[0].text}]
        traj.final_observation = shown
        out.append(traj)
    return out


def rate(fn: object, items: list[Trajectory]) -> float:
    """Items per second of ``fn`` over ``items``."""
    t0 = time.perf_counter()
    for item in items:
        fn(item)  # type: ignore[operator]
    return len(items) / (time.perf_counter() - t0)


def main() -> None:
    """Measure and print conversion rates against the re-rendering baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=5)
    args = parser.parse_args()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(ensure_converted()), local_files_only=True)
    distinct = make_episodes(tokenizer, 50, args.turns)
    episodes = [distinct[i % len(distinct)] for i in range(args.episodes)]
    tokens = sum(len(assemble(t)) for t in distinct) / len(distinct)
    fast = rate(assemble, episodes)
    with tempfile.TemporaryDirectory() as tmp:
        with TrajectoryStore(tmp) as store:
            for i, t in enumerate(episodes):
                t2 = Trajectory.from_dict({**t.to_dict(), "episode_id": f"e{i}"})
                store.append(t2)
        t0 = time.perf_counter()
        loaded = TrajectoryStore(tmp).load()
        for t in loaded:
            assemble(t)
        from_store = len(loaded) / (time.perf_counter() - t0)
    subset = episodes[: max(20, args.episodes // 20)]
    slow = rate(lambda t: assemble_text(t, tokenizer), subset)
    print(f"{args.turns}-turn episodes, {tokens:.0f} tokens each on average")
    print(f"assemble (sampled ids, in memory):        {fast:10.0f} trajectories/s (goal >= 1,000)")
    print(f"assemble (sampled ids, from JSONL store): {from_store:10.0f} trajectories/s")
    print(f"baseline assemble_text (chat template):   {slow:10.0f} trajectories/s")
    print(f"ratio sampled-ids / re-rendering baseline: {fast / slow:.1f}x")


if __name__ == "__main__":
    main()

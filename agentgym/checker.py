"""``check_env``: the contract every registered env must keep, checked by running it.

Checks: observations are valid messages; seeded determinism across two instances; malformed actions
(empty, 1 MB, lone surrogates, wrong tool name, broken JSON, wrong type) give an error observation
and no exception; ``step`` after the end raises EnvError; ``close`` is idempotent; pickling and
``fork`` work where the env declares them.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from agentgym.core.env import Action
from agentgym.core.errors import AgentGymError, EnvError
from agentgym.core.messages import Message, ToolCall
from agentgym.core.verdict import Verdict
from agentgym.registry import make, spec, unwrap

MALFORMED_ACTIONS: dict[str, Any] = {
    "empty": "",
    "whitespace": "   \n\t ",
    "one_megabyte": "a" * (1 << 20),
    "lone_surrogates": "answer \ud800\udfff\ud83d tail",
    "wrong_tool_text": '<tool_call>{"name": "no_such_tool", "arguments": {}}</tool_call>',
    "broken_json_text": '<tool_call>{"name": "x", "arguments": {</tool_call>',
    "wrong_tool_native": Message("assistant", "", tool_calls=(ToolCall("c1", "no_such_tool", "{}"),)),
    "broken_json_native": Message("assistant", "", tool_calls=(ToolCall("c1", "x", '{"a": '),)),
    "wrong_type": 12345,
    "user_role": Message("user", "I am not the assistant"),
}


@dataclass
class CheckResult:
    """One check's outcome."""

    name: str
    passed: bool
    message: str = ""


@dataclass
class CheckReport:
    """All checks run on one env."""

    env_id: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(r.passed for r in self.results)

    def failures(self) -> list[CheckResult]:
        """The checks that failed."""
        return [r for r in self.results if not r.passed]

    def raise_if_failed(self) -> None:
        """Raise EnvError listing the failed checks."""
        if not self.passed:
            lines = "; ".join(f"{r.name}: {r.message}" for r in self.failures())
            raise EnvError(f"{self.env_id} failed check_env: {lines}")


def _valid_observation(obs: Any) -> str | None:
    if not isinstance(obs, list) or not all(isinstance(m, Message) for m in obs):
        return f"observation is not a list of Message: {obs!r:.120}"
    try:
        json.dumps([m.to_dict() for m in obs], ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        return f"observation is not serializable as UTF-8 JSON: {exc}"
    return None


def _episode(env: gym.Env, seed: int, actions: Callable[[gym.Env, int], Action], max_steps: int) -> list[Any]:
    """Run one episode and return everything observable (for determinism comparisons)."""
    obs, info = env.reset(seed=seed)
    trace: list[Any] = [[m.to_dict() for m in obs], _comparable(info)]
    for i in range(max_steps):
        obs, reward, terminated, truncated, info = env.step(actions(env, i))
        trace.append(([m.to_dict() for m in obs], reward, terminated, truncated, _comparable(info)))
        if terminated or truncated:
            break
    return trace


def _comparable(info: dict[str, Any]) -> str:
    return json.dumps(info, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    return value.to_dict() if isinstance(value, Verdict) else repr(value)


def _random_policy(seed: int) -> Callable[[gym.Env, int], Action]:
    rng = np.random.default_rng(seed)
    return lambda env, _i: unwrap(env).sample_action(rng)


def _oracle_policy(env: gym.Env, _i: int) -> Action:
    return unwrap(env).oracle_action()


class _Checker:
    def __init__(self, factory: Callable[[], gym.Env], env_id: str, seed: int, max_steps: int) -> None:
        self.factory = factory
        self.report = CheckReport(env_id)
        self.seed = seed
        self.max_steps = max_steps

    def check(self, name: str, fn: Callable[[], str | None]) -> None:
        try:
            problem = fn()
        except Exception as exc:  # a check that crashes is a failed check, reported with its cause
            problem = f"raised {type(exc).__name__}: {exc}"
        self.report.results.append(CheckResult(name, problem is None, problem or ""))

    def reset_contract(self) -> str | None:
        env = self.factory()
        try:
            obs, info = env.reset(seed=self.seed)
            problem = _valid_observation(obs)
            if problem:
                return problem
            missing = {"task_id", "turn"} - set(info)
            return f"reset info lacks {sorted(missing)}" if missing else None
        finally:
            env.close()

    def determinism(self) -> str | None:
        policies: list[tuple[str, Callable[[gym.Env, int], Action]]] = [("random", _random_policy(1))]
        probe = self.factory()
        if unwrap(probe).has_oracle:
            policies.append(("oracle", _oracle_policy))
        probe.close()
        for label, _ in policies:
            runs = []
            for _ in range(2):
                env = self.factory()
                policy = _random_policy(1) if label == "random" else _oracle_policy
                runs.append(_episode(env, self.seed, policy, self.max_steps))
                env.close()
            if runs[0] != runs[1]:
                return f"two instances diverged under the same seed and {label} actions"
        env = self.factory()
        first = env.reset(seed=self.seed)[0]
        again = env.reset(seed=self.seed)[0]
        env.close()
        return None if first == again else "reset(seed) twice on one instance gave different observations"

    def malformed(self, label: str, action: Any) -> str | None:
        env = self.factory()
        try:
            env.reset(seed=self.seed)
            out = env.step(action)
            if len(out) != 5:
                return f"step returned {len(out)} values, expected 5"
            problem = _valid_observation(out[0])
            if problem:
                return problem
            if not out[0]:
                return "malformed action gave an empty observation (the agent is told nothing)"
            return None
        except AgentGymError as exc:
            return f"raised {type(exc).__name__} instead of an error observation: {exc}"
        finally:
            env.close()

    def end_and_close(self) -> str | None:
        env = self.factory()
        env.reset(seed=self.seed)
        done = False
        policy = _random_policy(2)
        for i in range(10_000):
            _, _, terminated, truncated, info = env.step(policy(env, i))
            if terminated or truncated:
                done = True
                if "verdict" not in info:
                    return "the last step's info lacks 'verdict'"
                if not isinstance(info["verdict"], Verdict):
                    kind = type(info["verdict"]).__name__
                    return f"the last step's info['verdict'] is a {kind}, not a Verdict"
                break
        if not done:
            return "a random policy did not end the episode within 10,000 steps (set max_turns)"
        try:
            env.step("after the end")
            return "step after the end did not raise EnvError"
        except EnvError:
            pass
        env.close()
        env.close()
        return None

    def copies(self, how: str) -> str | None:
        env = self.factory()
        base = unwrap(env)
        declared = base.supports_pickle if how == "pickle" else base.supports_fork
        if not declared:
            env.close()
            return None
        env.reset(seed=self.seed)
        twin = pickle.loads(pickle.dumps(env)) if how == "pickle" else env.fork()  # type: ignore[attr-defined]
        rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
        a = env.step(unwrap(env).sample_action(rng_a))
        b = twin.step(unwrap(twin).sample_action(rng_b))
        env.close()
        twin.close()
        if _comparable({"o": [m.to_dict() for m in a[0]], "r": a[1:]}) != _comparable(
            {"o": [m.to_dict() for m in b[0]], "r": b[1:]}
        ):
            return f"the {how} copy diverged from the original under the same action"
        return None


def check_env(
    env: str | gym.Env | Callable[[], gym.Env],
    *,
    seed: int = 0,
    max_steps: int = 50,
    raise_on_failure: bool = True,
    skip: Sequence[str] = (),
) -> CheckReport:
    """Check an env (an id, a factory, or an instance whose registry id is known) against the contract.

    Returns the :class:`CheckReport`; with ``raise_on_failure`` a failing check raises EnvError.
    """
    if isinstance(env, str):
        env_id = env
        spec(env_id)  # unknown ids raise here with "did you mean"
        factory: Callable[[], gym.Env] = lambda: make(env_id)  # noqa: E731
    elif isinstance(env, gym.Env):
        env_id = getattr(env.unwrapped, "spec_id", type(env.unwrapped).__name__)
        if not hasattr(env.unwrapped, "spec_id"):
            raise EnvError("check_env needs an env id or a factory to build a second instance")
        factory = lambda: make(env_id)  # noqa: E731
    else:
        factory = env
        probe = factory()
        env_id = getattr(probe.unwrapped, "spec_id", type(probe.unwrapped).__name__)
        probe.close()
    checker = _Checker(factory, env_id, seed, max_steps)
    checks: list[tuple[str, Callable[[], str | None]]] = [
        ("reset_contract", checker.reset_contract),
        ("determinism", checker.determinism),
        ("end_and_close", checker.end_and_close),
        ("pickle", lambda: checker.copies("pickle")),
        ("fork", lambda: checker.copies("fork")),
    ]
    for label, action in MALFORMED_ACTIONS.items():
        checks.append((f"malformed:{label}", lambda a=action, lab=label: checker.malformed(lab, a)))
    for name, fn in checks:
        if name not in skip:
            checker.check(name, fn)
    if raise_on_failure:
        checker.report.raise_if_failed()
    return checker.report

"""TRL (``GRPOTrainer``) adapters: ``environment_factory`` classes and a multi-turn ``rollout_func``.

Two ways to train any AgentGym env with TRL 1.16 (``pip install 'agentgym[trl]'``):

- :func:`environment_factory` builds the class that ``GRPOTrainer(environment_factory=...)`` takes.
  TRL runs the conversation and calls the env through tools: each of the env's tools
  (``env.tools``, JSON schemas) becomes a typed method with a Google-style docstring, which is
  what TRL turns into a tool schema; an env without tools (the agent answers in text) gets one
  :data:`ANSWER_TOOL` method ``answer(text)``. Each call is one ``env.step`` and returns the
  observation's text. ``get_reward()`` is the episode's verdict. The model's chat template must
  render tool calls (TRL checks it); for a plain ChatML model such as the bundled SmolLM2 use
  TRL's ``qwen2_5_chat_template`` (same special tokens).
- :func:`rollout_func` builds a ``rollout_func``: AgentGym's runner plays whole episodes with the
  model TRL is training (:class:`~agentgym.agents.hf_agent.HFAgent` on ``trainer.model``), and
  :func:`~agentgym.train.tokens.assemble` turns each into token ids, the env mask and the
  sampler's log-probs, the one implementation every path uses. Pass :func:`env_reward` as the
  reward function: it reads the episode's outcome from the ``env_reward`` field.

Rows pose tasks (:func:`task_rows` makes them). ``environment_factory``: ``reset(**row)`` reads
``task`` (a :class:`~agentgym.core.task.Task` dict or its JSON text), else ``seed`` (an env seed),
else the env draws a task from its own RNG; other columns are ignored. ``rollout_func``: TRL hands
it only the prompts, so a prompt's last message names the task: a Task JSON object, a decimal env
seed, or any other text, whose hash (with the builder's ``seed``) becomes the env seed. Either way
the ``num_generations`` copies of a row play the same task, as GRPO's groups need.

Rewards: the final :class:`~agentgym.core.verdict.Verdict`'s score. An unscored verdict
(``error`` set), a failed env or a failed episode gives ``None``, which TRL turns into NaN and
leaves out of the group baseline (advantage 0): never a silent 0. An episode the model left
unfinished is scored by the env's verdict so far (``Env.verdict()``, as for a cut-short episode).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import keyword
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np

from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message, ToolCall
from agentgym.core.task import Task, canonical_json
from agentgym.core.tools import ToolSpec
from agentgym.core.verdict import Verdict, as_verdict
from agentgym.registry import make, unwrap

if TYPE_CHECKING:
    from agentgym.integrations.trl_rollout import TRLRollout

ANSWER_TOOL = "answer"
_RESERVED = frozenset({"reset", "get_reward"})
_JSON_HINTS: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}
_ANSWER = ToolSpec(
    ANSWER_TOOL,
    "Send your reply (your answer, or your next move) to the environment.",
    {"type": "object", "properties": {"text": {"type": "string", "description": "your reply"}}},
)


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed from ``parts`` (their canonical JSON), the same on every machine and run."""
    digest = hashlib.blake2b(canonical_json(list(parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def task_rows(n: int, seed: int = 0, *, in_prompt: bool = False) -> list[dict[str, Any]]:
    """``n`` dataset rows, each posing one env seed (derived from ``seed`` and the row index).

    By default the seed is a ``seed`` column and the prompt is one empty user message: rows for
    :func:`environment_factory`, whose ``reset`` appends the env's first observation to it. With
    ``in_prompt=True`` the seed is the prompt's text instead, which is what :func:`rollout_func`
    reads (TRL gives it only the prompts; the model never sees that text).
    """
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    seeds = [int(np.random.SeedSequence([seed, i]).generate_state(1, np.uint64)[0] >> 1) for i in range(n)]
    if in_prompt:
        return [{"prompt": [{"role": "user", "content": str(s)}]} for s in seeds]
    return [{"prompt": [{"role": "user", "content": ""}], "seed": s} for s in seeds]


def as_task(value: Any) -> Task:
    """A Task from a row's ``task`` value: a Task, its dict, or the JSON text of its dict."""
    if isinstance(value, Task):
        return value
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, Mapping):
        raise ConfigError(f"a row's task must be a Task dict or its JSON text, got {type(value).__name__}")
    return Task.from_dict(value)


def observation_text(messages: list[Message]) -> str:
    """The text of an observation's messages, joined by blank lines (images are not carried)."""
    return "\n\n".join(m.text for m in messages if m.text)


def verdict_reward(verdict: Verdict | None) -> float | None:
    """A verdict's score, or None (TRL's missing reward) when there is none or it is unscored."""
    if verdict is None or verdict.unscored:
        return None
    return verdict.score


# ----- environment_factory -------------------------------------------------------------------
class _EnvironmentBase:
    """What every generated class shares: ``reset`` and ``get_reward``; tool methods are added."""

    env_id: str = ""
    env_kwargs: Mapping[str, Any] = {}

    def __init__(self) -> None:
        self._env = make(self.env_id, **dict(self.env_kwargs))
        self._over = True
        self._verdict: Verdict | None = None
        self._error: str | None = None
        self._calls = 0

    def reset(self, **row: Any) -> str | None:
        """Start an episode on the row's task (``task``, else ``seed``; see the module docstring)."""
        options = {"task": as_task(row["task"])} if row.get("task") is not None else None
        seed = row.get("seed")
        self._over, self._verdict, self._error, self._calls = False, None, None, 0
        obs, _ = self._env.reset(seed=int(seed) if seed is not None else None, options=options)
        return observation_text(obs)

    def get_reward(self) -> float | None:
        """The episode's verdict score; None when it is unscored or the env failed."""
        if self._error is not None:
            return None
        if self._over:
            return verdict_reward(self._verdict)
        return verdict_reward(unwrap(self._env).verdict())  # left unfinished: judged so far

    def _act(self, tool: str, arguments: dict[str, Any]) -> str:
        if self._over:
            return "The episode is over: this call was not executed."
        self._calls += 1
        if tool == ANSWER_TOOL and not unwrap(self._env).tools:
            action: str | Message = str(arguments.get("text", ""))
        else:
            call = ToolCall(f"call-{self._calls}", tool, json.dumps(arguments))
            action = Message("assistant", "", tool_calls=(call,))
        try:
            obs, _, terminated, truncated, info = self._env.step(action)
        except Exception as exc:  # an env failure leaves the episode unscored, never 0
            self._over, self._error = True, f"{type(exc).__name__}: {exc}"
            return f"The environment failed: {self._error}"
        if terminated or truncated:
            self._over = True
            record = info.get("verdict")
            self._verdict = as_verdict(record) if record is not None else unwrap(self._env).verdict()
        return observation_text(obs)

    def __del__(self) -> None:
        env = getattr(self, "_env", None)
        if env is not None:
            with contextlib.suppress(Exception):  # closing at collection must never raise
                env.close()


def _hint(schema: Mapping[str, Any]) -> Any:
    """The Python type hint transformers turns back into ``schema`` (enums become ``Literal``)."""
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, (str, int, float, bool)) for v in enum):
        return Literal[tuple(enum)]
    kind = schema.get("type", "string")
    kinds = [kind] if isinstance(kind, str) else list(kind)
    hints = []
    for k in kinds:
        base = _JSON_HINTS.get(k, str)
        items = schema.get("items")
        if k == "array" and isinstance(items, Mapping):
            base = list[_hint(items)]  # type: ignore[misc]
        hints.append(base)
    return hints[0] if len(hints) == 1 else Union[tuple(hints)]  # noqa: UP007


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _tool_method(spec: ToolSpec) -> Callable[..., str]:
    """A method named after ``spec``, typed and documented from its JSON schema, that steps the env."""
    name = spec.name
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_") or name in _RESERVED:
        raise ConfigError(f"tool name {name!r} cannot be a TRL tool method (a public Python name is needed)")
    properties: Mapping[str, Any] = spec.parameters.get("properties", {})
    required = set(spec.parameters.get("required", list(properties)))
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    annotations: dict[str, Any] = {}
    lines = []
    for arg, schema in properties.items():
        if not arg.isidentifier() or keyword.iskeyword(arg) or arg == "self":
            raise ConfigError(f"argument {arg!r} of tool {name!r} is not a usable Python parameter name")
        hint = _hint(schema)
        default: Any = inspect.Parameter.empty
        if arg not in required:
            hint, default = hint | None, None
        annotations[arg] = hint
        params.append(
            inspect.Parameter(arg, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint)
        )
        lines.append(f"    {arg}: {_one_line(str(schema.get('description') or f'the {arg} argument'))}")

    def method(self: _EnvironmentBase, **arguments: Any) -> str:
        return self._act(name, {k: v for k, v in arguments.items() if v is not None or k in required})

    method.__name__ = method.__qualname__ = name
    method.__signature__ = inspect.Signature(params, return_annotation=str)  # type: ignore[attr-defined]
    method.__annotations__ = {**annotations, "return": str}
    args_doc = "\n\nArgs:\n" + "\n".join(lines) if lines else ""
    description = _one_line(spec.description) or f"Call the {name} tool."
    method.__doc__ = f"{description}{args_doc}\n\nReturns:\n    The environment's reply."
    return method


def environment_factory(env_id: str, **env_kwargs: Any) -> type:
    """A class for ``GRPOTrainer(environment_factory=...)`` that plays ``env_id`` (see the module doc).

    The class takes no arguments (TRL makes one instance per concurrent rollout and reuses them);
    ``env_kwargs`` are passed to :func:`~agentgym.registry.make`. Its public methods are
    ``reset``, ``get_reward`` and one per tool of the env (or ``answer(text)``).
    """
    probe = make(env_id, **env_kwargs)
    try:
        tools = tuple(unwrap(probe).tools) or (_ANSWER,)
    finally:
        probe.close()
    namespace: dict[str, Any] = {
        "env_id": env_id,
        "env_kwargs": dict(env_kwargs),
        "__doc__": f"The AgentGym env {env_id} as a TRL environment (tools: {[t.name for t in tools]}).",
        "__module__": __name__,
    }
    for spec in tools:
        namespace[spec.name] = _tool_method(spec)
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", env_id) if part)
    return type(f"{name}Environment", (_EnvironmentBase,), namespace)


def rollout_func(env_id: str, **options: Any) -> TRLRollout:
    """A TRL ``rollout_func`` playing ``env_id`` with the trained model (see :class:`TRLRollout`)."""
    from agentgym.integrations.trl_rollout import TRLRollout

    return TRLRollout(env_id, **options)


def env_reward(completions: list[Any], env_reward: list[float | None], **kwargs: Any) -> list[float | None]:
    """TRL reward function: the episode outcomes :func:`rollout_func` returned (None: unscored)."""
    return [None if r is None else float(r) for r in env_reward]

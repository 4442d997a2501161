r"""Model-based verifiers: ``judge`` (a judge model says CORRECT or INCORRECT) and ``grm`` (soft score).

:class:`JudgeVerifier` asks any :class:`~agentgym.core.agent.Agent` whether the candidate's final
answer matches the reference, with a fixed prompt (:mod:`.judge_prompt`). Its safeguards:

- **Guard first.** :func:`~agentgym.verifiers.guards.degenerate_reason` rejects empty, master-key,
  gibberish and grader-injection responses with score 0 and ``details["guard"]``: no judge call.
  The extracted final answer is checked again, with
  :func:`~agentgym.verifiers.guards.vacuous_answer_reason` against the reference.
- **Final answer only** (``answer_mode="final"``, the default): the judge sees the explicit final
  answer (last ``<answer>`` block or agreeing ``\boxed{}``), cut to ``max_answer_chars``; long
  reasoning, where judges get fooled, never reaches it. ``final_or_tail`` / ``full`` relax this.
- **Strict parsing.** The reply must end with ``VERDICT: CORRECT|INCORRECT`` (or hold a JSON
  verdict); conflicting or missing verdicts get one format reminder, then the verdict is
  *unscored* (``error`` set), never 0.
- **Outages are unscored.** :class:`AgentError` and per-call timeouts are retried ``retries``
  times with exponential backoff; then the verdict is unscored, so the caller can carry on.
- **Deterministic and cached.** Judges built from a spec string get ``temperature=0``; a judge
  passed as an Agent keeps its own settings (reported in ``details["judge_temperature"]``).
  Parsed judgements are cached by SHA-256 of (judge name, prompt) in memory, optionally mirrored to
  a JSON-lines file (``cache_path``).

:class:`GRMVerifier` (``grm``) is the generative reward model of *Expanding RL with Verifiable
Rewards Across Diverse Domains*: a soft score in [0, 1] for free-form answers. ``method="score"``
asks for ``SCORE: p`` (a verbalized probability; works with any agent); ``method="logprob"`` asks
for one word, YES or NO, and scores P(YES) from the reply's first-token log-prob: ``exp(lp)`` for
YES; for NO ``min(exp(lp), 1 - exp(lp))``, an upper bound on P(YES) for a greedy judge that is
``1 - P(NO)`` when NO has the majority (see :func:`.judge_prompt.yes_probability`). It needs an agent
returning log-probs (OpenAI-compatible judges get ``logprobs=True``); without log-probs the score
falls back to 1/0 with ``details["soft"] = False``. ``passed`` is ``score >= pass_threshold``.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

from agentgym.core.agent import Agent, AgentReply
from agentgym.core.errors import AgentError, ConfigError
from agentgym.core.messages import Message, assistant, user
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier
from agentgym.verifiers.guards import degenerate_reason, vacuous_answer_reason
from agentgym.verifiers.model.judge_cache import JudgeCache, cache_key
from agentgym.verifiers.model.judge_prompt import (
    ANSWER_MODES,
    AnswerFormatError,
    AnswerMode,
    Judgement,
    build_messages,
    candidate_text,
    clip,
    parse_grm_score,
    parse_verdict,
    yes_probability,
)

__all__ = ["GRMVerifier", "JudgeVerifier"]

PromptMode = Literal["binary", "grm_score", "grm_logprob"]
_REMINDER = {
    "binary": "Your reply did not end with a verdict line. Reply with only one line: "
    "VERDICT: CORRECT or VERDICT: INCORRECT",
    "grm_score": "Your reply did not end with a score line. Reply with only one line: SCORE: p "
    "(p between 0 and 1)",
    "grm_logprob": "Reply with exactly one word: YES or NO.",
}
_QUESTION_KEYS = ("question", "problem")


class _JudgeDown(Exception):
    def __init__(self, reason: str, calls: int) -> None:
        super().__init__(reason)
        self.calls = calls


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


class JudgeVerifier(Verifier):
    """``judge``: a judge model decides whether the response's final answer matches the reference.

    Args:
        judge: an Agent, or an agent spec for :func:`agentgym.agents.make_agent` (``"bundled"``,
            ``"openai:MODEL"``, ``"hf:PATH"``), built on first use with ``temperature=0``.
        judge_options: constructor options for a judge given as a spec (e.g. ``base_url``).
        answer_mode: ``final`` (default), ``final_or_tail`` or ``full``; see :func:`candidate_text`.
        max_answer_chars / max_reference_chars / max_question_chars: prompt budgets (~4 chars/token).
        retries: extra attempts after an outage or a call timeout (``retry_backoff_s * 2**k`` apart).
        format_retries: re-asks, with a format reminder, after an unparsable judgement.
        call_timeout_s: limit of one judge call; ``timeout_s`` bounds the whole verification.
        guard: reject degenerate responses before the judge (score 0, ``details["guard"]``).
        cache: True (in memory), False, or a shared :class:`JudgeCache`; ``cache_path`` adds a file.
    """

    name = "judge"
    kind = "model"
    prompt_mode: PromptMode = "binary"

    def __init__(
        self,
        judge: Agent | str = "bundled",
        *,
        judge_options: Mapping[str, Any] | None = None,
        answer_mode: AnswerMode = "final",
        max_answer_chars: int = 2000,
        max_reference_chars: int = 2000,
        max_question_chars: int = 4000,
        retries: int = 2,
        retry_backoff_s: float = 0.5,
        format_retries: int = 1,
        call_timeout_s: float = 120.0,
        timeout_s: float | None = None,
        guard: bool = True,
        cache: bool | JudgeCache = True,
        cache_path: str | os.PathLike[str] | None = None,
    ) -> None:
        if answer_mode not in ANSWER_MODES:
            raise ConfigError(f"answer_mode must be one of {list(ANSWER_MODES)}, got {answer_mode!r}")
        if retries < 0 or format_retries < 0 or retry_backoff_s < 0 or call_timeout_s <= 0:
            raise ConfigError("retries, format_retries, retry_backoff_s must be >= 0; call_timeout_s > 0")
        if min(max_answer_chars, max_reference_chars, max_question_chars) < 1:
            raise ConfigError("the prompt budgets must be >= 1 character")
        if isinstance(judge, str):
            self._spec: str | None = judge
            self._agent: Agent | None = None
            self.judge_name = judge
        elif isinstance(judge, Agent):
            if judge_options:
                raise ConfigError("judge_options apply to a judge given as a spec string, not an Agent")
            self._spec, self._agent = None, judge
            self.judge_name = judge.name
        else:
            raise ConfigError(f"judge must be an Agent or an agent spec, got {type(judge).__name__}")
        self.judge_options = dict(judge_options or {})
        self.answer_mode: AnswerMode = answer_mode
        self.max_answer_chars = max_answer_chars
        self.max_reference_chars = max_reference_chars
        self.max_question_chars = max_question_chars
        self.retries, self.retry_backoff_s = retries, retry_backoff_s
        self.format_retries, self.call_timeout_s = format_retries, call_timeout_s
        backoff = sum(retry_backoff_s * 2**k for k in range(retries))
        calls = (retries + 1) * (format_retries + 1)
        self.timeout_s = timeout_s if timeout_s is not None else calls * call_timeout_s + backoff + 5.0
        self.guard = guard
        if isinstance(cache, JudgeCache):
            self.cache: JudgeCache | None = cache
        elif cache or cache_path is not None:
            self.cache = JudgeCache(path=cache_path)
        else:
            self.cache = None
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()

    # -- the judge agent -------------------------------------------------------------------------

    def _agent_options(self) -> dict[str, Any]:
        kind = (self._spec or "").partition(":")[0]
        options: dict[str, Any] = {}
        if kind in ("openai", "hf", "bundled"):
            options["temperature"] = 0.0
        if kind == "openai" and self.prompt_mode == "grm_logprob":
            options["logprobs"] = True
        options.update(self.judge_options)
        return options

    @property
    def agent(self) -> Agent:
        """The judge agent (built from the spec on first use)."""
        with self._lock:
            if self._agent is None:
                from agentgym.agents import make_agent

                self._agent = make_agent(self._spec or "", **self._agent_options())
            return self._agent

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n

    # -- one verification ------------------------------------------------------------------------

    def _question(self, task: Task) -> str | None:
        for key in _QUESTION_KEYS:
            value = task.spec.get(key)
            if value:
                return clip(_as_text(value), self.max_question_chars, keep="tail")
        return None

    def judge_messages(self, task: Task, candidate: str) -> list[Message]:
        """The prompt the judge gets for ``candidate`` (an already extracted answer)."""
        reference = clip(_as_text(task.answer), self.max_reference_chars)
        return build_messages(self._question(task), reference, candidate, self.prompt_mode)

    def _parse(self, reply: AgentReply) -> Judgement | None:
        return parse_verdict(reply.message.text)

    def _verdict(self, judgement: Judgement, details: dict[str, Any]) -> Verdict:
        details.update(judgement=judgement.label, soft=judgement.soft)
        return Verdict(judgement.score, judgement.correct, self.name, details)

    async def _averify(self, task: Task, response: str) -> Verdict:
        if task.answer is None:
            return Verdict.failed(self.name, "the task has no reference answer to judge against")
        if self.guard:
            reason = degenerate_reason(response)
            if reason is not None:
                self._count("guarded")
                return Verdict(0.0, False, self.name, {"guard": reason, "judge": self.judge_name})
        try:
            candidate = candidate_text(response, self.answer_mode, self.max_answer_chars)
        except AnswerFormatError as exc:
            return Verdict(0.0, False, self.name, {"format_error": str(exc), "judge": self.judge_name})
        if self.guard and self.answer_mode != "full":
            reason = degenerate_reason(candidate) or vacuous_answer_reason(candidate, _as_text(task.answer))
            if reason is not None:
                self._count("guarded")
                details = {"guard": f"final answer: {reason}", "judge": self.judge_name}
                return Verdict(0.0, False, self.name, details)
        messages = self.judge_messages(task, candidate)
        key = cache_key(self.judge_name, messages)
        details: dict[str, Any] = {
            "judge": self.judge_name,
            "answer": clip(candidate, 300),
            "answer_mode": self.answer_mode,
            "cache_key": key,
        }
        record = self.cache.get(key) if self.cache is not None else None
        if record is not None:
            self._count("cache_hits")
            judgement = Judgement(record["score"], record["correct"], record["label"], record["soft"])
            return self._verdict(judgement, {**details, "cached": True, "calls": 0, "raw": record["raw"]})
        return await self._judge(messages, key, details)

    async def _judge(self, messages: list[Message], key: str, details: dict[str, Any]) -> Verdict:
        try:
            agent = self.agent
        except (AgentError, ConfigError) as exc:
            self._count("outages")
            return Verdict.failed(self.name, f"judge unavailable: {exc}"[:500], **details)
        details["judge_temperature"] = getattr(agent, "temperature", None)
        conversation = list(messages)
        calls, text = 0, ""
        for _ in range(self.format_retries + 1):
            try:
                reply, used = await self._ask(agent, conversation)
            except _JudgeDown as down:
                self._count("outages")
                calls += down.calls
                return Verdict.failed(self.name, f"judge unavailable: {down}"[:500], **details, calls=calls)
            calls += used
            text = reply.message.text
            judgement = self._parse(reply)
            if judgement is not None:
                if self.cache is not None:
                    record = {
                        "score": judgement.score,
                        "correct": judgement.correct,
                        "label": judgement.label,
                        "soft": judgement.soft,
                        "raw": clip(text, 1000, keep="tail"),
                        "judge": self.judge_name,
                    }
                    self.cache.put(key, record)
                raw = clip(text, 500, keep="tail")
                return self._verdict(judgement, {**details, "cached": False, "calls": calls, "raw": raw})
            self._count("unparsable")
            conversation = [*conversation, assistant(text), user(_REMINDER[self.prompt_mode])]
        return Verdict.failed(
            self.name, "unparsable judgement", **details, calls=calls, raw=clip(text, 500, keep="tail")
        )

    async def _ask(self, agent: Agent, messages: list[Message]) -> tuple[AgentReply, int]:
        """One judge reply, retrying outages and timeouts; raises _JudgeDown when they persist."""
        reason = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.retry_backoff_s * 2 ** (attempt - 1))
            self._count("requests")
            try:
                reply = await asyncio.wait_for(agent.act(messages), self.call_timeout_s)
                return reply, attempt + 1
            except asyncio.TimeoutError:
                reason = f"judge call timed out after {self.call_timeout_s:g}s"
            except AgentError as exc:
                reason = str(exc)
        raise _JudgeDown(f"{reason} ({self.retries + 1} attempt(s))", self.retries + 1)


class GRMVerifier(JudgeVerifier):
    """``grm``: a generative reward model's soft score in [0, 1] that the answer is correct.

    ``method="score"`` parses a verbalized ``SCORE: p``; ``method="logprob"`` reads P(YES) from the
    first-token log-prob of a one-word YES/NO reply (see the module docstring). ``passed`` is
    ``score >= pass_threshold``. Other options as for :class:`JudgeVerifier`.
    """

    name = "grm"

    def __init__(
        self,
        judge: Agent | str = "bundled",
        *,
        method: Literal["score", "logprob"] = "score",
        pass_threshold: float = 0.5,
        **options: Any,
    ) -> None:
        if method not in ("score", "logprob"):
            raise ConfigError(f"method must be 'score' or 'logprob', got {method!r}")
        if not 0.0 <= pass_threshold <= 1.0:
            raise ConfigError(f"pass_threshold must lie in [0, 1], got {pass_threshold}")
        self.prompt_mode = "grm_score" if method == "score" else "grm_logprob"
        self.method = method
        self.pass_threshold = pass_threshold
        super().__init__(judge, **options)

    def _parse(self, reply: AgentReply) -> Judgement | None:
        text = reply.message.text
        if self.prompt_mode == "grm_score":
            return parse_grm_score(text, self.pass_threshold)
        said = yes_probability(text, reply.tokens, reply.logprobs)
        if said is None:
            return None
        said_yes, p_yes = said
        if p_yes is None:
            return Judgement(1.0 if said_yes else 0.0, said_yes, "YES" if said_yes else "NO", soft=False)
        return Judgement(
            p_yes, p_yes >= self.pass_threshold, f"{'YES' if said_yes else 'NO'} p={p_yes:.3f}", True
        )

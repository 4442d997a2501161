"""An Agent running a local transformers model, with generation batched across episodes.

Concurrent :meth:`HFAgent.act` calls (one per running episode) are queued; one worker per event
loop gathers up to ``max_batch_size`` of them (waiting at most ``batch_wait_ms`` for stragglers),
runs a single left-padded ``model.generate`` in a worker thread and hands each episode its reply
with the prompt ids, completion ids and per-token log-probs that RL training needs.

Determinism: greedy decoding (``temperature=0``) is deterministic. When sampling, each request
draws from its own ``torch.Generator`` seeded from ``(seed, context.seed, context.sample_index,
prompt ids)`` (or, without a context, ``(seed, call number, prompt ids)``), so a reply does not
depend on which other requests share its batch (up to float round-off of padded batches).

torch and transformers are imported only when the model is first used; nothing is fetched from the
network (local folders only, ``HF_HUB_OFFLINE=1`` is set while loading).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgym.agents.chat_format import template_dicts
from agentgym.agents.sampling import SeededSampler
from agentgym.core.agent import AgentReply, EpisodeContext
from agentgym.core.errors import AgentError, ConfigError
from agentgym.core.messages import Message
from agentgym.core.tools import ToolSpec

_DTYPES = ("float32", "float16", "bfloat16", "auto")
# Explicit neutral values, so that a model's generation_config (e.g. repetition_penalty) cannot
# reshape the distribution that tokens are drawn from and that the log-probs report.
# fmt: off
_NEUTRAL: dict[str, Any] = {
    "do_sample": False, "num_beams": 1, "num_return_sequences": 1, "min_length": 0,
    "temperature": 1.0, "top_k": 50, "top_p": 1.0, "typical_p": 1.0, "repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0, "encoder_repetition_penalty": 1.0, "output_logits": True,
    "return_dict_in_generate": True,
}
_TEMPLATE_KW = {"add_generation_prompt": True, "tokenize": True, "return_dict": True}
# fmt: on


@dataclass
class _Completion:
    token_ids: list[int]
    logprobs: list[float]
    finish_reason: str
    batch_size: int


@dataclass
class _Request:
    prompt_ids: list[int]
    seed: int
    future: asyncio.Future[_Completion]


@dataclass
class _Batcher:
    queue: asyncio.Queue[_Request]
    task: asyncio.Task[None] | None = field(default=None)


class HFAgent:
    """Agent backed by a local transformers causal LM, with batched generation.

    Args:
        model_path: a local folder holding a transformers model and tokenizer.
        max_new_tokens: the most tokens generated per reply.
        temperature: sampling temperature; ``0`` means greedy decoding.
        top_p: nucleus sampling threshold (used when ``temperature > 0``).
        max_batch_size: the most requests generated together.
        batch_wait_ms: how long the worker waits for more requests before generating.
        seed: base seed of the per-request samplers.
        device: torch device, e.g. ``"cpu"`` or ``"cuda"``.
        dtype: ``"float32"``, ``"float16"``, ``"bfloat16"`` or ``"auto"``.
        max_prompt_tokens: longer prompts lose their oldest messages after the system message;
            if the system message plus the last message is still too long, :class:`AgentError`.
        name: the agent's name (default ``"hf:<folder name>"``).

    Reported ``logprobs`` are ``log_softmax(logits / T)`` at each generated token (raw
    ``log_softmax(logits)`` when greedy); the ``top_p`` truncation is not reflected in them.
    Tools are rendered by the chat template when it takes ``tools=``; otherwise they are described
    in the system message (:func:`~agentgym.core.tools.tools_prompt`) and tool results are shown
    as user messages, and the model calls tools in the text form the env parses.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_batch_size: int = 16,
        batch_wait_ms: float = 5.0,
        seed: int = 0,
        device: str = "cpu",
        dtype: str = "float32",
        max_prompt_tokens: int = 4096,
        name: str | None = None,
    ) -> None:
        if max_new_tokens < 1 or max_batch_size < 1 or max_prompt_tokens < 1:
            raise ConfigError("max_new_tokens, max_batch_size and max_prompt_tokens must be >= 1")
        if temperature < 0 or not 0 < top_p <= 1 or batch_wait_ms < 0:
            raise ConfigError("need temperature >= 0, 0 < top_p <= 1 and batch_wait_ms >= 0")
        if dtype not in _DTYPES:
            raise ConfigError(f"dtype must be one of {list(_DTYPES)}, got {dtype!r}")
        self.model_path = str(model_path)
        self.name = name or f"hf:{Path(self.model_path).name}"
        self.max_new_tokens, self.temperature, self.top_p = max_new_tokens, temperature, top_p
        self.max_batch_size, self.batch_wait_ms, self.seed = max_batch_size, batch_wait_ms, seed
        self.device, self.dtype, self.max_prompt_tokens = device, dtype, max_prompt_tokens
        self.batches_run = 0
        self.requests_run = 0
        self._model: Any = None
        self._tokenizer: Any = None
        self._native_tools = False
        self._stop_ids: list[int] = []
        self._load_lock = threading.Lock()
        self._tok_lock = threading.Lock()
        self._gen_lock = threading.Lock()
        self._calls = itertools.count()
        self._batchers: dict[asyncio.AbstractEventLoop, _Batcher] = {}
        self._check_model_dir()

    # -- loading -------------------------------------------------------------------------------
    def _check_model_dir(self) -> None:
        """Fail fast when the model folder is missing."""
        if not Path(self.model_path).is_dir():
            raise AgentError(f"model folder {self.model_path!r} does not exist")

    def _resolve_model_dir(self) -> Path:
        """Return the folder to load from (subclasses may prepare it here)."""
        self._check_model_dir()
        return Path(self.model_path)

    def load(self) -> None:
        """Load the tokenizer and model now (thread-safe; later calls return at once)."""
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            folder = self._resolve_model_dir()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
                dtype = self.dtype if self.dtype == "auto" else getattr(torch, self.dtype)
                model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype, local_files_only=True)
                model.to(self.device).eval()
            except Exception as exc:
                msg = f"cannot load model from {folder}: {type(exc).__name__}: {exc}"
                raise AgentError(msg) from exc
            if not tok.chat_template:
                raise AgentError(f"the tokenizer in {folder} has no chat template")
            eos = model.generation_config.eos_token_id
            stops = [eos] if isinstance(eos, int) else list(eos or [])
            if tok.eos_token_id is not None and tok.eos_token_id not in stops:
                stops.append(tok.eos_token_id)
            if not stops:
                raise AgentError(f"the model in {folder} defines no end-of-sequence token")
            self._stop_ids = stops
            self._pad_id = tok.pad_token_id if tok.pad_token_id is not None else stops[0]
            template = tok.chat_template
            template = template if isinstance(template, str) else json.dumps(template)
            self._native_tools = "tools" in template
            self._tokenizer, self._model = tok, model

    @property
    def tokenizer(self) -> Any:
        """The transformers tokenizer (loads the model if needed)."""
        self.load()
        return self._tokenizer

    @property
    def model(self) -> Any:
        """The transformers model (loads it if needed)."""
        self.load()
        return self._model

    # -- prompts -------------------------------------------------------------------------------
    def template_messages(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> list[dict[str, Any]]:
        """Return the dicts handed to the chat template (see :func:`template_dicts`)."""
        self.load()
        return template_dicts(messages, tools, native_tools=self._native_tools)

    def _render(self, dicts: list[dict[str, Any]], tools: Sequence[ToolSpec]) -> list[int]:
        tool_dicts = [t.to_openai() for t in tools] if tools and self._native_tools else None
        try:
            with self._tok_lock:
                enc = self._tokenizer.apply_chat_template(dicts, tools=tool_dicts, **_TEMPLATE_KW)
        except Exception as exc:
            raise AgentError(f"chat template failed: {type(exc).__name__}: {exc}") from exc
        ids = enc["input_ids"]
        return list(ids[0] if ids and isinstance(ids[0], list) else ids)

    def encode_prompt(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> tuple[list[int], int]:
        """Return ``(prompt token ids, number of messages dropped to fit max_prompt_tokens)``."""
        dicts = self.template_messages(messages, tools)
        head = dicts[:1] if dicts and dicts[0]["role"] == "system" else []
        rest = dicts[len(head) :]
        dropped = 0
        ids = self._render(head + rest, tools)
        while len(ids) > self.max_prompt_tokens:
            if len(rest) <= 1:
                raise AgentError(
                    f"prompt has {len(ids)} tokens, over max_prompt_tokens={self.max_prompt_tokens}"
                    " even with only the system and last messages"
                )
            rest, dropped = rest[1:], dropped + 1
            while len(rest) > 1 and rest[0]["role"] != "user":
                rest, dropped = rest[1:], dropped + 1
            ids = self._render(head + rest, tools)
        return ids, dropped

    def _request_seed(self, prompt_ids: list[int], context: EpisodeContext | None) -> int:
        if context is not None:
            key: tuple[Any, ...] = (self.seed, context.seed, context.sample_index)
        else:
            key = (self.seed, "call", next(self._calls))
        digest = hashlib.blake2b(repr(key).encode(), digest_size=8)
        digest.update(",".join(map(str, prompt_ids)).encode())
        return int.from_bytes(digest.digest(), "little") & (2**63 - 1)

    # -- acting --------------------------------------------------------------------------------
    async def act(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        context: EpisodeContext | None = None,
    ) -> AgentReply:
        """Return the model's next assistant reply, generated in a batch with concurrent calls."""
        if not messages:
            raise AgentError("act() needs at least one message")
        if self._model is None:
            await asyncio.to_thread(self.load)
        tok = self._tokenizer
        prompt_ids, dropped = await asyncio.to_thread(self.encode_prompt, messages, tools)
        seed = self._request_seed(prompt_ids, context)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Completion] = loop.create_future()
        self._batcher(loop).queue.put_nowait(_Request(prompt_ids, seed, future))
        done = await future
        text = tok.decode(done.token_ids, skip_special_tokens=True)
        info: dict[str, Any] = {"finish_reason": done.finish_reason, "batch_size": done.batch_size}
        if dropped:
            info["dropped_messages"] = dropped
        if self.temperature > 0:
            info["sample_seed"] = seed
        n_prompt, n_reply = len(prompt_ids), len(done.token_ids)
        usage = {"prompt_tokens": n_prompt, "completion_tokens": n_reply}
        return AgentReply(
            message=Message("assistant", text),
            token_ids=done.token_ids,
            logprobs=done.logprobs,
            prompt_token_ids=prompt_ids,
            tokens=list(tok.convert_ids_to_tokens(done.token_ids)),
            usage={**usage, "total_tokens": n_prompt + n_reply},
            info=info,
        )

    def _batcher(self, loop: asyncio.AbstractEventLoop) -> _Batcher:
        for old in [lp for lp in self._batchers if lp.is_closed()]:
            del self._batchers[old]
        state = self._batchers.get(loop)
        if state is None or state.task is None or state.task.done():
            state = _Batcher(asyncio.Queue())
            state.task = loop.create_task(self._worker(state.queue), name=f"{self.name}-batcher")
            self._batchers[loop] = state
        return state

    async def _worker(self, queue: asyncio.Queue[_Request]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            deadline = loop.time() + self.batch_wait_ms / 1000
            while True:
                while len(batch) < self.max_batch_size and not queue.empty():
                    batch.append(queue.get_nowait())
                remaining = deadline - loop.time()
                if len(batch) >= self.max_batch_size or remaining <= 0:
                    break
                await asyncio.sleep(min(remaining, 0.001))
            batch = [r for r in batch if not r.future.done()]
            if not batch:
                continue
            try:
                results = await asyncio.to_thread(self._generate_batch, batch)
            except asyncio.CancelledError:
                _fail(batch, "the agent was closed")
                raise
            except Exception as exc:
                msg = str(exc) if isinstance(exc, AgentError) else f"{type(exc).__name__}: {exc}"
                _fail(batch, f"generation failed: {msg}")
                continue
            for r, result in zip(batch, results, strict=True):
                if not r.future.done():
                    r.future.set_result(result)

    def _generate_batch(self, batch: list[_Request]) -> list[_Completion]:
        """Run one left-padded ``generate`` for ``batch`` (called in a worker thread)."""
        import torch

        with self._gen_lock:
            model = self._model
            if model is None:
                raise AgentError("the agent was closed")
            width = max(len(r.prompt_ids) for r in batch)
            input_ids = torch.full((len(batch), width), self._pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for i, r in enumerate(batch):
                input_ids[i, width - len(r.prompt_ids) :] = torch.tensor(r.prompt_ids)
                mask[i, width - len(r.prompt_ids) :] = 1
            from transformers import GenerationConfig, LogitsProcessorList

            sampling = self.temperature > 0
            seeds = [r.seed for r in batch]
            procs = [SeededSampler(seeds, self.temperature, self.top_p)] if sampling else []
            ids = {"eos_token_id": self._stop_ids, "pad_token_id": self._pad_id}
            config = GenerationConfig(max_new_tokens=self.max_new_tokens, **ids, **_NEUTRAL)
            inputs = {"input_ids": input_ids, "attention_mask": mask}
            inputs = {k: v.to(model.device) for k, v in inputs.items()}
            with torch.inference_mode():
                out = model.generate(
                    **inputs, generation_config=config, logits_processor=LogitsProcessorList(procs)
                )
                new = out.sequences[:, width:].cpu()
                scale = self.temperature if sampling else 1.0
                chosen = torch.empty(new.shape, dtype=torch.float32)
                for t, step in enumerate(out.logits):
                    logp = torch.log_softmax(step.float() / scale, dim=-1).cpu()
                    chosen[:, t] = logp.gather(1, new[:, t : t + 1]).squeeze(1)
            self.batches_run += 1
            self.requests_run += len(batch)
        results = []
        stops = set(self._stop_ids)
        for i in range(len(batch)):
            ids = new[i].tolist()
            end = next((j + 1 for j, tid in enumerate(ids) if tid in stops), None)
            reason = "length" if end is None else "stop"
            n = len(ids) if end is None else end
            results.append(_Completion(ids[:n], chosen[i, :n].tolist(), reason, len(batch)))
        return results

    async def aclose(self) -> None:
        """Stop the batch workers, fail queued requests and release the model (reloads on use)."""
        current = asyncio.get_running_loop()
        for loop, state in list(self._batchers.items()):
            if loop is current:
                _shutdown(state)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_shutdown, state)
        self._batchers.clear()
        await asyncio.to_thread(self._release)

    def _release(self) -> None:
        with self._load_lock, self._gen_lock:
            self._model = None
            self._tokenizer = None


def _fail(requests: Sequence[_Request], message: str) -> None:
    for r in requests:
        if not r.future.done():
            r.future.set_exception(AgentError(message))


def _shutdown(state: _Batcher) -> None:
    """Cancel a batch worker and fail its queued requests (runs on the worker's loop)."""
    if state.task is not None:
        state.task.cancel()
    queued = []
    while not state.queue.empty():
        queued.append(state.queue.get_nowait())
    _fail(queued, "the agent was closed")

"""``search/qa-v0``: answer a question by searching a corpus over several turns.

Tools: ``search(query, k)`` (the best k documents with snippets), ``open(doc_id)`` (a document's
text, truncated at ``open_chars``), ``answer(text)`` (ends the episode). Models without tool
calling write ``<tool_call>{json}</tool_call>`` or ``<answer>...</answer>``. The episode is
truncated when ``max_calls`` search/open calls are spent without an answer (or after ``max_calls``
unreadable replies).

Questions come from the ``search/qa`` generator (a generated fictional world: its corpus is that
world's articles) or, with ``corpus=`` and ``qa=``, from your own JSONL files (see
:mod:`agentgym.environments.search.corpus` and :mod:`agentgym.tasks.search.byo`). Any search task
can be posed with ``reset(options={"task": task})``; a task about another world switches the
corpus.

Reward: exact match against the gold answer and its aliases (``reward="exact"``), token F1
(``reward="f1"``), or any registered verifier by name (``reward="judge"`` for a model judge).
The gold answer is never shown to the agent. Trainers (information-gain rewards, IGPO) read it
with :meth:`SearchQAEnv.gold_answers` (or ``env.task.answer``); the final ``info["verdict"]``
also carries it (``details["gold"]``), as it is only written when the episode is over.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message, tool_result
from agentgym.core.task import Task
from agentgym.core.tools import ParsedCall, ToolCallError, parse_tool_calls
from agentgym.core.verdict import Verdict
from agentgym.environments.search.corpus import JsonlCorpus, world_corpus
from agentgym.environments.search.engine import SearchEngine, shared_engine
from agentgym.environments.search.tools import ANSWER, OPEN, SEARCH, TEXT_FORM, format_document, format_hits
from agentgym.tasks.registry import make_generator
from agentgym.tasks.search.byo import load_qa
from agentgym.tasks.search.generator import task_world
from agentgym.tasks.search.scoring import gold_answers, score_response
from agentgym.tasks.splits import SPLITS, draw_task, given_task, split_of
from agentgym.verifiers.rule.answer import last_answer_block
from agentgym.verifiers.wrapped import FunctionVerifier

REWARDS = ("exact", "f1")
INSTRUCTIONS = (
    "You answer questions about {what} by searching it. Tools: search(query, k) returns the k best "
    "documents with their ids and snippets; open(doc_id) returns a document's text; answer(text) gives "
    "your final answer and ends the episode. {text_form} You have at most {budget} search/open calls. "
    "Answer with just the name, year or number."
)


class SearchQAEnv(Env):
    """Multi-turn search QA over a generated world or your own corpus (see the module docstring)."""

    family = "search"
    tools = (SEARCH, OPEN, ANSWER)
    #: The tool that ends the episode, and the note on a step that spent the budget without it.
    final_tool = ANSWER
    out_of_calls = "search/open calls without answering"
    no_call = "no tool call and no <answer>...</answer> found"
    supports_fork = True
    supports_pickle = True

    def __init__(
        self,
        generator: str = "search/qa",
        difficulty: dict[str, Any] | None = None,
        split: str = "train",
        corpus: str | None = None,
        qa: str | None = None,
        retriever: str = "bm25",
        dense_model: str | None = None,
        k: int = 5,
        open_chars: int = 3000,
        snippet_chars: int = 240,
        max_calls: int = 12,
        reward: str = "exact",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode=render_mode)
        if split not in (*SPLITS, "all"):
            raise EnvError(f"split must be one of {(*SPLITS, 'all')}, got {split!r}")
        for name, value in (
            ("k", k),
            ("open_chars", open_chars),
            ("snippet_chars", snippet_chars),
            ("max_calls", max_calls),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise EnvError(f"{name} must be an int >= 1, got {value!r}")
        if qa is not None and corpus is None:
            raise EnvError("qa= needs corpus= (the JSONL corpus the questions are about)")
        self.settings = {
            "generator": generator,
            "difficulty": dict(difficulty or {}),
            "corpus": corpus,
            "qa": qa,
            "retriever": retriever,
            "dense_model": dense_model,
            "snippet_chars": snippet_chars,
        }
        self.split, self.k, self.open_chars, self.max_calls = split, k, open_chars, max_calls
        self.reward_name = reward
        # The search generator's scoring rule, under the verifier contract (cap, time limit, errors).
        mode = "f1" if reward == "f1" else "exact"
        self.scorer = FunctionVerifier(functools.partial(score_response, reward=mode), "search_qa")
        self.verifier: Any = None
        if reward not in REWARDS:
            from agentgym.verifiers import make_verifier

            self.verifier = make_verifier(reward)
        self._attach()
        self._new_episode()

    # ----- corpus, engine, tasks (rebuilt after unpickling: the index is shared, never copied) -----
    def _attach(self) -> None:
        s = self.settings
        self.generator: Any = None
        self.byo_tasks: list[Task] = []
        if s["corpus"] is not None:
            self.corpus: Any = JsonlCorpus(s["corpus"])
            if s["qa"] is not None:
                self.byo_tasks = load_qa(s["qa"], self.corpus.fingerprint)
        else:
            self.generator = make_generator(s["generator"], **s["difficulty"])
            self.corpus = world_corpus(self.generator.config.world())
        self.base_engine = self._engine(self.corpus)
        self.engine: SearchEngine = self.base_engine

    def _engine(self, corpus: Any) -> SearchEngine:
        s = self.settings
        return shared_engine(corpus, s["retriever"], s["dense_model"], s["snippet_chars"])

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("generator", "byo_tasks", "corpus", "base_engine", "engine"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._attach()
        if self.task is not None:
            self.engine = self._engine_for(self.task)

    def _engine_for(self, task: Task) -> SearchEngine:
        world = task_world(task)
        if world is not None:
            corpus = world_corpus(world)
            return self.base_engine if corpus.fingerprint == self.corpus.fingerprint else self._engine(corpus)
        if task.spec.get("corpus") != self.corpus.fingerprint:
            raise EnvError(
                "the task was made for another corpus (spec['corpus'] differs from this env's corpus)"
            )
        return self.base_engine

    # ----- episode ------------------------------------------------------------------------------
    def _new_episode(self) -> None:
        self.calls = 0
        self.format_errors = 0
        self.queries: list[str] = []
        self.seen: list[str] = []
        self.opened: list[str] = []

    def _pose(self, options: dict[str, Any]) -> Task:
        """The given search task, else one drawn in the split (from your questions, or generated)."""
        task = given_task(options, accepts=_is_question, expected="a search Task (spec['question'])")
        if task is not None:
            return task
        if self.generator is not None:
            return draw_task(self.generator, self.np_random, self.split)
        pool = [t for t in self.byo_tasks if self.split == "all" or split_of(t) == self.split]
        if not pool:
            raise EnvError(f"no {self.split} question in {self.settings['qa']}; pass split='all' or a task")
        return pool[int(self.np_random.integers(len(pool)))]

    def _system_prompt(self) -> str:
        what = "a fictional encyclopedia" if task_world(self.task) is not None else "a document collection"  # type: ignore[arg-type]
        return INSTRUCTIONS.format(what=what, text_form=TEXT_FORM, budget=self.max_calls)

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self._pose(options)
        self.engine = self._engine_for(task)
        self.task = task
        self._new_episode()
        obs = [
            Message("system", self._system_prompt()),
            Message("user", f"Question: {task.spec['question']}"),
        ]
        info = {"difficulty": dict(task.difficulty), "split": split_of(task), "hops": task.spec.get("hops")}
        return obs, info

    def _step(self, action: Message) -> StepResult:
        try:
            calls = parse_tool_calls(action, self.tools)
        except ToolCallError as exc:
            return self._error(f"bad tool call: {exc}", action)
        if not calls:
            final = self._text_final(action)
            if final is None:
                return self._error(self.no_call, action)
            calls = [final]
        return self._run_calls(action, calls)

    def _text_final(self, action: Message) -> ParsedCall | None:
        """The final call a reply without tool calls stands for (its ``<answer>`` block), or None."""
        block = last_answer_block(action.text)
        return None if block is None else ParsedCall("", ANSWER.name, {"text": block.strip()})

    def _finish(self, call: ParsedCall) -> tuple[Verdict, str]:
        """The verdict and reply of the episode-ending tool call (here: the answer, judged)."""
        return self._judge(str(call.arguments["text"])), "Answer received."

    def _run_calls(self, action: Message, calls: list[ParsedCall]) -> StepResult:
        """Run the calls in order (search/open spend the budget; :attr:`final_tool` ends the episode)."""
        texts: list[str] = []
        retrieved: list[str] = []
        verdict: Verdict | None = None
        for call in calls:
            if verdict is not None or self.calls >= self.max_calls:
                texts.append("Not executed: the episode is over.")
            elif call.name == self.final_tool.name:
                verdict, text = self._finish(call)
                texts.append(text)
            else:
                self.calls += 1
                texts.append(self._run_tool(call, retrieved))
        truncated = verdict is None and self.calls >= self.max_calls
        if truncated:
            texts[-1] += f"\nYou used all {self.max_calls} {self.out_of_calls}."
            verdict = self.verdict()
        native = bool(action.tool_calls) and all(c.id for c in action.tool_calls)
        if native:
            obs = [tool_result(c.id, t, name=c.name) for c, t in zip(action.tool_calls, texts, strict=False)]
        else:
            obs = [Message("user", "\n\n".join(texts))]
        terminated = verdict is not None and not truncated
        reward = verdict.score if terminated and verdict is not None else 0.0
        info = {"retrieved": retrieved, "calls": self.calls}
        return StepResult(
            obs, reward=reward, terminated=terminated, truncated=truncated, info=info, verdict=verdict
        )

    def _run_tool(self, call: ParsedCall, retrieved: list[str]) -> str:
        if call.name == SEARCH.name:
            query = str(call.arguments["query"])
            hits = self.engine.search(query, int(call.arguments.get("k", self.k)))
            self.queries.append(query)
            for h in hits:
                retrieved.append(h.doc_id)
                if h.doc_id not in self.seen:
                    self.seen.append(h.doc_id)
            return format_hits(query, hits)
        doc_id = str(call.arguments["doc_id"]).strip().strip("[]")
        doc = self.engine.open(doc_id)
        if doc is None:
            return f"No document with id {doc_id[:200]!r}; use an id shown in search results."
        retrieved.append(doc.id)
        if doc.id not in self.opened:
            self.opened.append(doc.id)
        return format_document(doc.id, doc.title, doc.text, self.open_chars)

    def _error(self, problem: str, action: Message) -> StepResult:
        self.format_errors += 1
        text = f"Your reply could not be used: {problem}. {TEXT_FORM}"
        if action.tool_calls and all(c.id for c in action.tool_calls):
            obs = [tool_result(c.id, text) for c in action.tool_calls]
        else:
            obs = [Message("user", text)]
        truncated = self.format_errors >= self.max_calls  # unreadable replies cannot go on forever
        if truncated:
            obs[-1] = Message(
                obs[-1].role,
                obs[-1].text + f"\n{self.max_calls} unreadable replies: the episode ends.",
                tool_call_id=obs[-1].tool_call_id,
                name=obs[-1].name,
            )
        verdict = self.verdict() if truncated else None
        return StepResult(obs, self.format_penalty, False, truncated, {"action_error": problem}, verdict)

    # ----- judgement ----------------------------------------------------------------------------
    def _stats(self) -> dict[str, Any]:
        task = self.task
        path = list(task.spec.get("path") or []) if task is not None else []
        found = [d for d in path if d in self.opened]
        return {
            "searches": len(self.queries),
            "opened": len(self.opened),
            "format_errors": self.format_errors,
            "hops": task.spec.get("hops") if task is not None else None,
            "path_recall": round(len(found) / len(path), 4) if path else None,
            "gold": gold_answers(task) if task is not None else [],
        }

    def _judge(self, text: str) -> Verdict:
        response = f"<answer>{text}</answer>"
        verdict = self.scorer.verify(self.task, response)  # type: ignore[arg-type]
        if self.verifier is not None:
            judged = self.verifier.verify(self.task, response)
            details = {**verdict.details, **judged.details}
            verdict = Verdict(judged.score, judged.passed, judged.kind, details, judged.error)
        return Verdict(
            verdict.score, verdict.passed, verdict.kind, {**verdict.details, **self._stats()}, verdict.error
        )

    def verdict(self) -> Verdict:
        """The answer's verdict, or (no answer yet) a failing one with the episode's statistics."""
        if self._verdict is not None or self.task is None:
            return super().verdict()
        return Verdict(0.0, False, "no_answer", {"reason": "no answer given", **self._stats()})

    def gold_answers(self) -> list[str]:
        """The current task's accepted answers (for trainers; never shown to the agent)."""
        if self.task is None:
            raise EnvError("call reset() first")
        return gold_answers(self.task)

    # ----- scripted policies --------------------------------------------------------------------
    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random search (a word of the question), open (a seen or random id) or answer."""
        words = str(self.task.spec["question"]).split() if self.task is not None else ["x"]
        roll = rng.random()
        if roll < 0.45:
            return _call(SEARCH.name, {"query": words[int(rng.integers(len(words)))]})
        if roll < 0.8:
            pool = self.seen or [self.corpus.doc_id(int(rng.integers(len(self.corpus))))]
            return _call(OPEN.name, {"doc_id": pool[int(rng.integers(len(pool)))]})
        return _call(ANSWER.name, {"text": words[int(rng.integers(len(words)))]})

    def oracle_action(self) -> Action:
        """Follow the gold path: search each path document's title, open it, then answer."""
        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        for doc_id in self.task.spec.get("path") or []:
            if doc_id in self.opened:
                continue
            doc = self.engine.open(doc_id)
            if doc is not None and doc_id not in self.seen and doc.title not in self.queries:
                return _call(SEARCH.name, {"query": doc.title})
            return _call(OPEN.name, {"doc_id": doc_id})
        return _call(ANSWER.name, {"text": gold_answers(self.task)[0]})


def _is_question(task: Task) -> bool:
    return isinstance(task.spec.get("question"), str)


def _call(name: str, arguments: dict[str, Any]) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"

"""Search self-play (SSP): proposals of questions, accepted by a RAG check.

A proposer searches and writes a question with its answer; the question is accepted only if a
solver given every document the proposer retrieved answers it correctly.

- :class:`ProposerEnv` (``search/ssp-proposer-v0``): tools ``search``, ``open`` and
  ``propose(question, answer)``. The episode starts from a topic (a random article). On
  ``propose`` the RAG check runs: the question must not contain its answer, and ``rag_solver``
  must answer it from the retrieved documents. ``rag_solver`` is an agent (``"bundled"``,
  ``"hf:PATH"``, an :class:`~agentgym.core.agent.Agent`) for the SSP check proper, or
  ``"evidence"`` (the default, no model): the answer must appear in the retrieved text. Reward 1.0
  for an accepted question; the verdict carries the new task (``details["task"]``).
- :class:`~agentgym.environments.search.pool.SelfPlayPool` holds accepted tasks as a curriculum
  for solver episodes on ``search/qa-v0`` (see :func:`~agentgym.selfplay.run_self_play`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.core.env import Action
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.tools import ParsedCall, ToolSpec, object_schema
from agentgym.core.verdict import Verdict
from agentgym.environments.search.qa import SearchQAEnv, _call
from agentgym.environments.search.tools import OPEN, SEARCH, TEXT_FORM
from agentgym.tasks.search.generator import task_world
from agentgym.tasks.search.questions import _YEAR_QUESTION, _cap
from agentgym.tasks.search.scoring import normalize_answer, score_response
from agentgym.tasks.splits import split_of

PROPOSE = ToolSpec(
    "propose",
    "Propose a question and its short answer (ends the episode).",
    object_schema(
        {"question": {"type": "string", "maxLength": 2000}, "answer": {"type": "string", "maxLength": 200}}
    ),
)
MAX_EVIDENCE_CHARS = 12_000
PROPOSER_PROMPT = (
    "You write quiz questions about {what}. Start from the topic you are given, search and read "
    "documents, then call propose(question, answer): a question with one short, unambiguous answer (a "
    "name, year or number) that the documents you retrieved support; the question must not contain the "
    "answer. {text_form} You have at most {budget} search/open calls."
)
SOLVER_PROMPT = (
    "Answer the question using only the documents below. Give just the name, year or number inside "
    "<answer></answer> tags."
)


class ProposerEnv(SearchQAEnv):
    """The SSP proposer: search from a topic, then propose a question that passes the RAG check."""

    tools = (SEARCH, OPEN, PROPOSE)
    final_tool = PROPOSE
    out_of_calls = "calls without proposing"
    no_call = "no tool call found; search, open, or propose(question, answer)"

    def __init__(self, rag_solver: Any = "evidence", f1_threshold: float = 1.0, **kwargs: Any) -> None:
        self.rag_solver_spec = rag_solver
        self._solver: Any = None
        self.f1_threshold = f1_threshold
        super().__init__(**kwargs)
        if rag_solver != "evidence" and not isinstance(rag_solver, str):
            self.supports_pickle = self.supports_fork = False  # type: ignore[misc]  # the model is not copied

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_solver"] = None
        return state

    # ----- episode ------------------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = options.get("task")
        if task is None:
            index = int(self.np_random.integers(len(self.corpus)))
            doc = self.corpus.get(self.corpus.doc_id(index))
            origin = (
                {"world": self.corpus.world.config.to_dict()}
                if self.generator is not None
                else {"corpus": self.corpus.fingerprint}
            )
            spec = {"generator": "search/ssp-topic", **origin, "topic": doc.title, "topic_doc": doc.id}
            task = Task("search", spec, None, {}, {})
        elif not isinstance(task, Task) or "topic" not in task.spec:
            raise EnvError("options['task'] must be a proposer topic Task (spec['topic'])")
        self.engine = self._engine_for(task)
        self.task = task
        self._new_episode()
        what = "a fictional encyclopedia" if task_world(task) is not None else "a document collection"
        system = PROPOSER_PROMPT.format(what=what, text_form=TEXT_FORM, budget=self.max_calls)
        obs = [Message("system", system), Message("user", f"Topic: {task.spec['topic']}")]
        return obs, {"split": split_of(task), "topic": task.spec["topic"]}

    def _text_final(self, action: Message) -> ParsedCall | None:
        """None: a proposal is only read from a tool call."""
        return None

    def _finish(self, call: ParsedCall) -> tuple[Verdict, str]:
        """The proposal's RAG check and the reply to it."""
        question, answer = str(call.arguments["question"]).strip(), str(call.arguments["answer"]).strip()
        verdict = self.rag_check(question, answer)
        return verdict, "Accepted." if verdict.passed else f"Rejected: {verdict.details['reason']}"

    # ----- the RAG check ------------------------------------------------------------------------
    def evidence(self) -> list[str]:
        """Every document the proposer retrieved (search results and opened), in first-seen order."""
        return list(dict.fromkeys([*self.opened, *self.seen]))

    def _evidence_text(self) -> str:
        parts = []
        for doc_id in self.evidence():
            doc = self.engine.open(doc_id)
            if doc is not None:
                parts.append(f"[{doc.id}] {doc.title}\n{doc.text}")
        return "\n\n".join(parts)[:MAX_EVIDENCE_CHARS]

    def solver(self) -> Any:
        """The RAG solver agent (built on first use from a ``make_agent`` spec)."""
        if self._solver is None:
            if isinstance(self.rag_solver_spec, str):
                from agentgym.agents import make_agent

                self._solver = make_agent(self.rag_solver_spec)
            else:
                self._solver = self.rag_solver_spec
        return self._solver

    def rag_check(self, question: str, answer: str) -> Verdict:
        """Accept the proposal when it is well-formed and the solver answers it from the evidence."""
        proposal = Task("search", {"generator": "search/ssp", "question": question}, [answer])
        details: dict[str, Any] = {"question": question, "answer": answer, "evidence": self.evidence()}
        reason = None
        if not question or not normalize_answer(answer):
            reason = "the question and the answer must be non-empty"
        elif normalize_answer(answer) in normalize_answer(question):
            reason = "the question contains its answer"
        elif not self.evidence():
            reason = "no document was retrieved"
        if reason is None:
            evidence = self._evidence_text()
            if self.rag_solver_spec == "evidence":
                passed = normalize_answer(answer) in normalize_answer(evidence)
                reason = None if passed else "the answer does not appear in the retrieved documents"
            else:
                from agentgym.core.agent import run_sync

                messages = [
                    Message("system", SOLVER_PROMPT),
                    Message("user", f"{evidence}\n\nQuestion: {question}"),
                ]
                reply = run_sync(self.solver().act(messages)).message.text
                scored = score_response(proposal, reply, "f1")
                details["solver_reply"] = reply[:2000]
                details["solver_f1"] = scored.details.get("f1", 0.0)
                passed = scored.passed or float(scored.details.get("f1", 0.0)) >= self.f1_threshold
                reason = None if passed else "the RAG solver did not answer it correctly"
        details["reason"] = reason or "accepted"
        details["rag_passed"] = reason is None
        if reason is None:
            details["task"] = self._accepted_task(question, answer).to_dict()
        score = 1.0 if reason is None else 0.0
        return Verdict(score, reason is None, "ssp_proposal", {**details, **self._stats()})

    def _accepted_task(self, question: str, answer: str) -> Task:
        origin = {k: self.task.spec[k] for k in ("world", "corpus") if k in self.task.spec}  # type: ignore[union-attr]
        path = self.opened or self.evidence()
        spec = {
            "generator": "search/ssp",
            **origin,
            "question": question,
            "path": path,
            "hops": max(1, len(self.opened)),
        }
        return Task(
            "search",
            spec,
            [answer],
            {"hops": spec["hops"]},
            {"source": "ssp", "topic": self.task.spec["topic"]},
        )  # type: ignore[union-attr]

    # ----- scripted policies --------------------------------------------------------------------
    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random search, open, or proposal made of the topic's words."""
        words = str(self.task.spec["topic"]).split() if self.task is not None else ["x"]
        word = words[int(rng.integers(len(words)))]
        roll = rng.random()
        if roll < 0.4:
            return _call(SEARCH.name, {"query": word})
        if roll < 0.75 and self.seen:
            return _call(OPEN.name, {"doc_id": self.seen[int(rng.integers(len(self.seen)))]})
        return _call(PROPOSE.name, {"question": f"What is {word}?", "answer": words[0]})

    def oracle_action(self) -> Action:
        """Search the topic, open its article, propose a question answered by that article."""
        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        topic_doc = str(self.task.spec["topic_doc"])
        if not self.queries:
            return _call(SEARCH.name, {"query": str(self.task.spec["topic"])})
        if topic_doc not in self.opened:
            return _call(OPEN.name, {"doc_id": topic_doc})
        question, answer = self._oracle_question(topic_doc)
        return _call(PROPOSE.name, {"question": question, "answer": answer})

    def _oracle_question(self, doc_id: str) -> tuple[str, str]:
        if self.generator is not None:
            world = self.corpus.world
            t, i = world.parse_doc_id(doc_id)
            return _cap(_YEAR_QUESTION[t].format(x=world.ref(t, i))), str(int(world.year[t][i]))
        doc = self.engine.open(doc_id)
        opening = " ".join(doc.text.split()[:8])
        return f'Which document begins with "{opening}"?', doc.title

"""Answer scoring for search QA: exact match (the ``exact`` rule verifier) and SQuAD-style token F1.

``task.answer`` is a list of accepted answers (canonical first, then aliases); a response is scored
against the best-matching one.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.rule.answer import last_answer_block
from agentgym.verifiers.rule.basic import ExactVerifier

MAX_ANSWER_CHARS = 2000
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_EXACT = ExactVerifier(punctuation=True)


def normalize_answer(text: str) -> str:
    """SQuAD normalization: casefold, drop punctuation and articles, squeeze spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        c for c in text if c not in string.punctuation and not unicodedata.category(c).startswith("P")
    )
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1 between two answers after :func:`normalize_answer`."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, golds: Sequence[str]) -> float:
    """The highest token F1 of ``prediction`` against any accepted answer."""
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def gold_answers(task: Task) -> list[str]:
    """The accepted answers of a search task (canonical first)."""
    answer = task.answer
    return [str(a) for a in answer] if isinstance(answer, list) else [str(answer)]


def score_response(task: Task, response: str, reward: str = "exact") -> Verdict:
    """Score a reply holding ``<answer>...</answer>``: exact (``exact`` verifier) and F1 in the details.

    ``reward`` picks the verdict's score: ``exact`` (1/0) or ``f1``. A reply without an answer block
    fails with ``format_error`` in the details.
    """
    block = last_answer_block(response)
    if block is None:
        return Verdict(0.0, False, "search_qa", {"format_error": "no <answer>...</answer> block found"})
    prediction = block.strip()[:MAX_ANSWER_CHARS]
    try:  # the rule itself: the async wrapper's event loop costs more than the check (input is capped)
        exact = _EXACT._verify(task, f"<answer>{prediction}</answer>")
    except Exception as exc:  # an unreadable reference is unscored, never a silent 0
        return Verdict.failed("search_qa", f"{type(exc).__name__}: {exc}"[:500])
    f1 = round(best_f1(prediction, gold_answers(task)), 4)
    passed = exact.passed
    score = float(passed) if reward == "exact" else max(f1, float(passed))
    return Verdict(score, passed, "search_qa", {"prediction": prediction, "exact": float(passed), "f1": f1})

"""Wordle's rules, shared by the env and the generator, and the consistent-candidate solver (the oracle).

Any word of :mod:`.wordlist` is a valid guess (:func:`is_valid_guess`). Feedback per letter
(:func:`feedback`): ``G`` right letter, right place; ``Y`` in the word elsewhere; ``-`` not in the
word (repeated letters are scored as in Wordle: a letter is marked ``Y`` only as often as it
occurs unmatched in the secret). A guess equal to the secret wins (:func:`is_solution`).

The solver keeps the answer-vocabulary words consistent with all feedback so far and guesses
the candidate that splits the others into the most feedback groups (ties: the more frequent
word); scoring is capped to keep a move fast (``MAX_GUESSES_SCORED`` x ``MAX_TARGETS_SCORED``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from agentgym.tasks.games.wordlist import WORDS

LENGTH = 5
MAX_GUESSES_SCORED = 60
MAX_TARGETS_SCORED = 400
_WORD = re.compile(r"^[a-z]{1,20}$")


@lru_cache(maxsize=1)
def word_set() -> frozenset[str]:
    """Every valid guess."""
    return frozenset(WORDS)


def is_valid_guess(word: str) -> bool:
    """True when ``word`` (lower case) is a five-letter word of the list."""
    return bool(_WORD.match(word)) and len(word) == LENGTH and word in word_set()


def is_solution(guess: str, secret: str) -> bool:
    """True when ``guess`` (any case, surrounding spaces ignored) is the secret: the game is won."""
    return guess.strip().lower() == secret


def feedback(guess: str, secret: str) -> str:
    """Wordle's marks for ``guess`` against ``secret`` (``G``, ``Y``, ``-`` per letter)."""
    marks = ["-"] * len(guess)
    unmatched: dict[str, int] = {}
    for i, (g, s) in enumerate(zip(guess, secret, strict=True)):
        if g == s:
            marks[i] = "G"
        else:
            unmatched[s] = unmatched.get(s, 0) + 1
    for i, g in enumerate(guess):
        if marks[i] != "G" and unmatched.get(g, 0) > 0:
            marks[i] = "Y"
            unmatched[g] -= 1
    return "".join(marks)


def solver_guess(history: list[tuple[str, str]], vocabulary: int) -> str:
    """The solver's next guess from past ``(guess, marks)`` pairs."""
    if not history:
        return _opener(vocabulary)
    return _best_split(history, vocabulary)


@lru_cache(maxsize=16)
def _opener(vocabulary: int) -> str:
    return _best_split([], vocabulary)


def _best_split(history: list[tuple[str, str]], vocabulary: int) -> str:
    candidates = [w for w in WORDS[:vocabulary] if all(feedback(g, w) == m for g, m in history)]
    if not candidates:
        candidates = [w for w in WORDS if all(feedback(g, w) == m for g, m in history)] or list(WORDS[:1])
    if len(candidates) <= 2:
        return candidates[0]
    step = max(1, len(candidates) // MAX_TARGETS_SCORED)
    targets = candidates[::step][:MAX_TARGETS_SCORED]
    best, best_groups = candidates[0], -1
    for guess in candidates[:MAX_GUESSES_SCORED]:
        groups = len({feedback(guess, t) for t in targets})
        if groups > best_groups:
            best, best_groups = guess, groups
    return best

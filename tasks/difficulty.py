"""Difficulty estimates recorded on tasks: SATURN's ``D(n, k, l)`` for k-SAT.

SATURN (Liu et al., 2025, "SATURN: SAT-based Reinforcement Learning to Unleash Language Model
Reasoning", arXiv:2505.16368; code at github.com/gtxygyzb/Saturn-code) estimates the difficulty of
a k-SAT instance as::

    D(n, k, l) = log2(k) + 2 * log2(l) - n + k / n

in THEIR notation: ``n`` literals per clause, ``k`` variables in all, ``l`` clauses. (The formula is
the ``compute_difficulty`` used to draw the paper's difficulty-vs-pass@3 figure in the public code,
``experiments/draw_pic/draw_difficulty.py``; their generator's ``--n_sat`` is "variables in a clause"
and ``--k`` is "total number of variables".) Harder means more variables to search and more clauses
to check (the log terms), fewer literals per clause (each clause is harder to satisfy), and a larger
variables-per-clause ratio.

Our SAT config names these differently (``n_vars`` variables, ``k`` literals per clause,
``n_clauses`` clauses), so :func:`saturn_difficulty` maps ours onto theirs: ``n = k``,
``k = n_vars``, ``l = n_clauses``. The value is not floored: tiny instances can score below zero;
only differences between configs are meaningful.

Difficulty transitions. SATURN's released training scripts move one parameter at a time, in small
steps of ``D``: (n, k, l) = (3, 5, 5) -> (3, 5, 6) for the 1.5B model (dD = 2 log2(6/5) = 0.526) and
(3, 5, 13) -> (3, 5, 15) for the 7B model (dD = 2 log2(15/13) = 0.413). :data:`SATURN_MIN_DELTA` is
the smaller of those two steps (rounded down), the default least rise in ``D`` per promotion of the
threshold curriculum (:mod:`agentgym.tasks.curriculum`).
"""

from __future__ import annotations

import math

#: The least rise of ``D`` per promotion, from SATURN's released transitions (dD = 0.413 and 0.526).
SATURN_MIN_DELTA = 0.4


def saturn_difficulty(n_vars: int, k: int, n_clauses: int) -> float:
    """SATURN's ``D(n, k, l)`` for ``n_vars`` variables, ``k`` literals per clause and ``n_clauses`` clauses.

    ``log2(n_vars) + 2 * log2(n_clauses) - k + n_vars / k`` (SATURN's ``n`` is our ``k``, their
    ``k`` our ``n_vars``, their ``l`` our ``n_clauses``; see the module docstring).
    """
    for name, value in (("n_vars", n_vars), ("k", k), ("n_clauses", n_clauses)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return math.log2(n_vars) + 2.0 * math.log2(n_clauses) - k + n_vars / k

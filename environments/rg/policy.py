"""Which reasoning-gym datasets become envs, and the per-dataset handling each one needs.

Every decision here was measured on reasoning-gym 0.1.25 (see ``catalog.RG_VERSION``): each dataset
was built and scored in a subprocess without network, its entries round-tripped through JSON, and
its ``score_answer`` read for ``eval``/``exec``/``parse_expr`` on model text.
"""

from __future__ import annotations

import functools

from agentgym.environments.rg.catalog import DATASETS

#: Datasets that get no env, with the reason (the sandbox issue can bring back code-running ones).
EXCLUDED: dict[str, str] = {
    "composite": "meta-dataset mixing other datasets (needs a `datasets` config); use the per-dataset envs",
    "game_of_life_halting": "its scorer passes any non-empty answer (bool(answer) == bool(entry['answer']))",
    "boxnet": "no reference answer (entry['answer'] is None, many plans are valid) and no solver here",
    "rush_hour": "no reference answer (entry['answer'] is None, many move lists pass) and no solver here",
}

#: Modules whose scorers call ``eval`` to read a Python list from the answer (number_sorting: from
#: the task's own answer). In the worker, their global name ``eval`` is bound to a literal-only
#: reader (:func:`.guards.literal_eval`): same result on literals, an error (which these scorers
#: catch) on anything else, so no answer text runs as code.
LITERAL_EVAL_MODULES: tuple[str, ...] = (
    "reasoning_gym.algorithmic.binary_matrix",
    "reasoning_gym.algorithmic.number_sorting",
    "reasoning_gym.algorithmic.spiral_matrix",
    "reasoning_gym.algorithmic.string_insertion",
    "reasoning_gym.games.n_queens",
)

#: Datasets whose scorer hands model text to sympy's ``parse_expr`` (which calls ``eval``). The
#: worker runs the scorer only on answers the guard of that name accepts (see :mod:`.guards`).
GUARDED: dict[str, str] = {
    "countdown": "arithmetic",
    "puzzle24": "arithmetic",
    "polynomial_multiplication": "symbolic",
    "simple_integration": "symbolic",
    "intermediate_integration": "symbolic",
}

#: Datasets whose constructor does work proportional to ``size`` (or caps it): each item is made by
#: a fresh dataset of this size seeded from the task RNG. The others are built once per config with
#: seed 0 and a huge virtual size, and indexed (item ``i`` depends only on ``Random(seed + i)``).
SEEDED_SIZES: dict[str, int] = {
    "acre": 10,  # keeps reasoning-gym's 6:2:2 split of IID / compositional / systematic questions
    "gsm_symbolic": 1,
    "list_functions": 1,
    "word_ladder": 1,
}

#: Datasets without ``entry['answer']``: the metadata key holding one valid answer (JSON-encoded
#: when it is not a string), used as the reference answer.
REFERENCE_KEYS: dict[str, str] = {
    "graph_color": "possible_answer",
    "propositional_logic": "example_answer",
    "rubiks_cube": "example_correct_answer",
}

#: Items whose reference answer contains this text are redrawn: intermediate_integration leaves
#: some integrals unevaluated (``Integral(...)``), which its scorer accepts as correct, so an answer
#: that restates the question would pass; the symbolic guard rejects ``Integral``.
REDRAW_IF_ANSWER_CONTAINS: dict[str, str] = {"intermediate_integration": "Integral"}

#: Metadata fields holding grids that the scorer compares as tuples of tuples (JSON gives lists).
TUPLE_GRIDS: dict[str, tuple[str, ...]] = {"arc_agi": ("output",), "rearc": ("output",)}


@functools.cache
def available_datasets() -> tuple[str, ...]:
    """The datasets that get an env: the catalog minus :data:`EXCLUDED`, sorted."""
    return tuple(name for name in sorted(DATASETS) if name not in EXCLUDED)

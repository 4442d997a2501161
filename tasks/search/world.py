"""A fictional world: people, places, organisations, works and events with typed relations.

The world is a set of numpy arrays drawn from one seed, so a world of a million documents is built
in well under a second and any entity (and its article) can be rendered alone. Relations are
functions (every person has one birthplace and one employer, every work one creator...), so a
chain of relations from a uniquely named entity names exactly one entity: questions built from
chains have unique gold answers.

Distractors: with probability ``namesake_rate`` the odd member of each pair of same-type entities
(``2m``, ``2m+1``) takes its partner's name with another kind and shares one fact with it (the
same birthplace, headquarters, setting, venue or region). Both then carry the kind in their title
(``Orla Venmark (painter)``), and questions name entities with their kind (``the painter Orla
Venmark``), which stays unique.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.tasks.search import names

TYPES: tuple[str, ...] = ("person", "place", "org", "work", "event")
FRACTIONS = {"person": 0.40, "place": 0.08, "org": 0.12, "work": 0.25, "event": 0.15}
PREFIX = {"person": "p", "place": "l", "org": "o", "work": "w", "event": "e"}
TYPE_OF_PREFIX = {v: k for k, v in PREFIX.items()}
#: Relations: (source type, relation) -> target type. Each source entity has exactly one target.
RELATIONS: dict[tuple[str, str], str] = {
    ("person", "born_in"): "place",
    ("person", "works_for"): "org",
    ("org", "hq"): "place",
    ("org", "founder"): "person",
    ("work", "creator"): "person",
    ("work", "set_in"): "place",
    ("event", "held_in"): "place",
    ("event", "organiser"): "org",
}
#: The relation a namesake copies from its partner (the shared fact).
SHARED = {"person": "born_in", "org": "hq", "work": "set_in", "event": "held_in"}
YEARS = {
    "person": (1600, 1950),
    "place": (900, 1800),
    "org": (1650, 1980),
    "work": (1650, 1990),
    "event": (1700, 1995),
}
MIN_DOCS = 50
MAX_DOCS = 5_000_000


@dataclass(frozen=True)
class WorldConfig:
    """What defines a world: its seed, its size in documents, and its namesake (distractor) rate."""

    seed: int = 0
    n_docs: int = 2000
    namesake_rate: float = 0.3

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise TaskError(f"WorldConfig.seed must be an int in [0, 2**63), got {self.seed!r}")
        if not isinstance(self.n_docs, int) or not MIN_DOCS <= self.n_docs <= MAX_DOCS:
            raise TaskError(
                f"WorldConfig.n_docs must be an int in [{MIN_DOCS}, {MAX_DOCS}], got {self.n_docs!r}"
            )
        if not isinstance(self.namesake_rate, (int, float)) or not 0.0 <= self.namesake_rate <= 1.0:
            raise TaskError(f"WorldConfig.namesake_rate must be in [0, 1], got {self.namesake_rate!r}")

    def to_dict(self) -> dict[str, float]:
        """The config as a plain dict (as stored in task specs)."""
        return {"seed": self.seed, "n_docs": self.n_docs, "namesake_rate": float(self.namesake_rate)}


def type_counts(n_docs: int) -> dict[str, int]:
    """How many entities of each type a world of ``n_docs`` documents holds (they sum to ``n_docs``)."""
    counts = {t: max(2, int(n_docs * FRACTIONS[t])) for t in TYPES}
    counts["person"] += n_docs - sum(counts.values())
    return counts


class World:
    """The arrays of one fictional world; build with :func:`get_world` (cached per config)."""

    def __init__(self, config: WorldConfig) -> None:
        config.validate()
        self.config = config
        self.counts = type_counts(config.n_docs)
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, config.n_docs, 7]))
        self.kind: dict[str, np.ndarray] = {}
        self.year: dict[str, np.ndarray] = {}
        self.name_num: dict[str, np.ndarray] = {}
        self.namesake: dict[str, np.ndarray] = {}
        self.rel: dict[tuple[str, str], np.ndarray] = {}
        for t in TYPES:
            n = self.counts[t]
            self.kind[t] = rng.integers(len(names.KINDS[t]), size=n)
            lo, hi = YEARS[t]
            self.year[t] = rng.integers(lo, hi + 1, size=n)
            space = names.NAME_SPACES[t]
            if n > space:
                raise TaskError(f"a world of {config.n_docs} documents needs more {t} names than exist")
            a = names.coprime_multiplier(space, int(rng.integers(2**62)))
            b = int(rng.integers(space))
            self.name_num[t] = (a * np.arange(n, dtype=np.int64) + b) % space
        for (src, relation), dst in RELATIONS.items():
            self.rel[(src, relation)] = rng.integers(self.counts[dst], size=self.counts[src])
        self.region = rng.integers(len(names.REGIONS), size=self.counts["place"])
        self.population = (10 ** rng.uniform(2.0, 6.3, size=self.counts["place"])).astype(np.int64)
        for t in TYPES:
            self._pair_namesakes(t, rng)
        self._reverse: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        # Plain lists for the per-entity lookups of rendering (numpy scalar indexing is slow).
        self._names = {t: self.name_num[t].tolist() for t in TYPES}
        self._kinds = {t: self.kind[t].tolist() for t in TYPES}
        self._flags = {t: self.namesake[t].tolist() for t in TYPES}
        self._targets = {key: values.tolist() for key, values in self.rel.items()}

    def _pair_namesakes(self, t: str, rng: np.random.Generator) -> None:
        n = self.counts[t]
        pairs = n // 2
        chosen = np.flatnonzero(rng.random(pairs) < self.config.namesake_rate)
        shift = rng.integers(1, len(names.KINDS[t]), size=pairs)
        flags = np.zeros(n, dtype=bool)
        left, right = 2 * chosen, 2 * chosen + 1
        flags[left] = flags[right] = True
        self.name_num[t][right] = self.name_num[t][left]
        self.kind[t][right] = (self.kind[t][left] + shift[chosen]) % len(names.KINDS[t])
        if t in SHARED:
            shared = self.rel[(t, SHARED[t])]
            shared[right] = shared[left]
        else:
            self.region[right] = self.region[left]
        self.namesake[t] = flags

    # ----- entities ---------------------------------------------------------------------------
    def name(self, t: str, i: int) -> str:
        """The entity's name (shared with its namesake, if it has one)."""
        return names.NAMERS[t](self._names[t][i])

    def kind_name(self, t: str, i: int) -> str:
        """The entity's kind (``painter``, ``town``, ``company``, ``novel``, ``festival`` ...)."""
        return names.KINDS[t][self._kinds[t][i]]

    def title(self, t: str, i: int) -> str:
        """The article title: the name, with the kind in brackets when a namesake exists."""
        name = self.name(t, i)
        return f"{name} ({self.kind_name(t, i)})" if self._flags[t][i] else name

    def ref(self, t: str, i: int) -> str:
        """A phrase naming the entity uniquely (``the painter Orla Venmark``, ``the town of Dunmere``)."""
        kind, name = self.kind_name(t, i), self.name(t, i)
        if t == "place":
            return f"the {kind} of {name}"
        if t == "work":
            return f'the {kind} "{name}"'
        return f"the {kind} {name}"

    def target(self, t: str, relation: str, i: int) -> int:
        """The index of the entity ``relation`` points to from entity ``(t, i)``."""
        return self._targets[(t, relation)][i]

    def sources(self, t: str, relation: str, j: int) -> np.ndarray:
        """The indices of entities of type ``t`` whose ``relation`` points to ``j`` (sorted)."""
        if (t, relation) not in self._reverse:
            targets = self.rel[(t, relation)]
            order = np.argsort(targets, kind="stable")
            starts = np.searchsorted(targets[order], np.arange(self.counts[RELATIONS[(t, relation)]] + 1))
            self._reverse[(t, relation)] = (order, starts)
        order, starts = self._reverse[(t, relation)]
        return order[starts[j] : starts[j + 1]]

    # ----- documents ------------------------------------------------------------------------------
    @property
    def n_docs(self) -> int:
        """The number of documents (one article per entity)."""
        return self.config.n_docs

    def doc_id(self, t: str, i: int) -> str:
        """The document id of an entity's article (``p12``, ``l3``, ``o40`` ...)."""
        return f"{PREFIX[t]}{i}"

    def parse_doc_id(self, doc_id: str) -> tuple[str, int] | None:
        """``(type, index)`` of a document id of this world, or None."""
        t = TYPE_OF_PREFIX.get(doc_id[:1])
        if t is None or not doc_id[1:].isdigit() or len(doc_id) > 12:
            return None
        i = int(doc_id[1:])
        return (t, i) if i < self.counts[t] else None

    def entities(self) -> list[tuple[str, int]]:
        """Every entity, in document order (types in :data:`TYPES` order, then index)."""
        return [(t, i) for t in TYPES for i in range(self.counts[t])]


@functools.lru_cache(maxsize=4)
def get_world(config: WorldConfig) -> World:
    """The world of ``config`` (built once per process for the last few configs)."""
    return World(config)

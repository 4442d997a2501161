"""Multi-hop questions from paths in a fictional world's knowledge graph.

Four kinds, each with a unique gold answer and its aliases:

- ``bridge``: an attribute of an entity named through a chain of relations ("In what year was the
  organisation that employed the creator of the novel "The Pale Mill" founded?"), or that entity's
  name;
- ``comparison``: which of two entities (each possibly named through a chain) is earlier/later;
- ``intersection``: the one person (work) satisfying two relations at once;
- ``counting``: how many people a place's (organisation's) article lists.

``hops`` is the number of articles the gold path reads; ``path`` lists them in reading order (the
oracle opens them one by one). Entities on a path are distinct.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agentgym.tasks.search import names
from agentgym.tasks.search.articles import LIST_CAP
from agentgym.tasks.search.world import RELATIONS, TYPES, World

QTYPES: tuple[str, ...] = ("bridge", "comparison", "intersection", "counting")
MIN_HOPS = {"bridge": 1, "comparison": 2, "intersection": 1, "counting": 1}
MAX_HOPS = 4
_REL_PHRASE = {
    "born_in": "the birthplace of {x}",
    "works_for": "the organisation that employed {x}",
    "hq": "the place where {x} has its headquarters",
    "founder": "the founder of {x}",
    "creator": "the creator of {x}",
    "set_in": "the place where {x} is set",
    "held_in": "the place where {x} was held",
    "organiser": "the organiser of {x}",
}
_INCOMING: dict[str, list[tuple[str, str]]] = {t: [] for t in TYPES}
for (_src, _rel), _dst in RELATIONS.items():
    _INCOMING[_dst].append((_src, _rel))
_YEAR_QUESTION = {
    "person": "In what year was {x} born?",
    "place": "In what year was {x} founded?",
    "org": "In what year was {x} founded?",
    "work": "In what year was {x} created?",
    "event": "In what year was {x} held?",
}
_COMPARE = {
    "person": "Who was born {w}",
    "place": "Which was founded {w}",
    "org": "Which was founded {w}",
    "work": "Which was created {w}",
    "event": "Which was held {w}",
}
_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
)  # fmt: skip
Entity = tuple[str, int]


@dataclass(frozen=True)
class Question:
    """A generated question: text, gold answers (canonical first), kind, gold path of doc ids."""

    text: str
    answers: tuple[str, ...]
    qtype: str
    hops: int
    path: tuple[str, ...]
    namesakes: int


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _random_entity(world: World, rng: np.random.Generator, t: str) -> Entity:
    return t, int(rng.integers(world.counts[t]))


def refer(
    world: World, rng: np.random.Generator, entity: Entity, edges: int, used: set[Entity]
) -> tuple[str, list[Entity]] | None:
    """A phrase naming ``entity`` through ``edges`` relations, and the entities read to resolve it.

    Walks the graph backwards (entity <- source <- ...), never through an entity in ``used`` (which
    is updated). Returns None when the walk hits a dead end.
    """
    if edges == 0:
        used.add(entity)
        return world.ref(*entity), []
    options = list(_INCOMING[entity[0]])
    rng.shuffle(options)  # type: ignore[arg-type]
    for src_type, relation in options:
        sources = world.sources(src_type, relation, entity[1])
        for _ in range(min(4, len(sources))):
            source = (src_type, int(sources[int(rng.integers(len(sources)))]))
            if source in used or source == entity:
                continue
            used.add(entity)
            inner = refer(world, rng, source, edges - 1, used)
            if inner is None:
                used.discard(entity)
                continue
            phrase, read = inner
            return _REL_PHRASE[relation].format(x=phrase), [*read, source]
    return None


def _name_answers(world: World, entity: Entity) -> tuple[str, ...]:
    name, title = world.name(*entity), world.title(*entity)
    return (name,) if name == title else (name, title)


def bridge(
    world: World, rng: np.random.Generator, hops: int
) -> tuple[str, tuple[str, ...], list[Entity]] | None:
    """An attribute of an entity reached through ``hops - 1`` relations, or the name of one at ``hops``."""
    if rng.random() < 0.5:
        target = _random_entity(world, rng, TYPES[int(rng.integers(len(TYPES)))])
        found = refer(world, rng, target, hops, set())
        if found is None:
            return None
        phrase, read = found
        return _cap(f"What is the name of {phrase}?"), _name_answers(world, target), read
    t = TYPES[int(rng.integers(len(TYPES)))]
    target = _random_entity(world, rng, t)
    found = refer(world, rng, target, hops - 1, set())
    if found is None:
        return None
    phrase, read = found
    if t == "place" and rng.random() < 0.4:
        region = names.REGIONS[int(world.region[target[1]])]
        answers = (region, region.removeprefix("the "))
        return _cap(f"In which region is {phrase}?"), answers, [*read, target]
    question = _cap(_YEAR_QUESTION[t].format(x=phrase))
    return question, (str(int(world.year[t][target[1]])),), [*read, target]


def comparison(
    world: World, rng: np.random.Generator, hops: int
) -> tuple[str, tuple[str, ...], list[Entity]] | None:
    """Which of two same-type entities came earlier (or later); each side reads its chain and itself."""
    first_edges = int(rng.integers(hops - 1))
    edges = (first_edges, hops - 2 - first_edges)
    t = TYPES[int(rng.integers(len(TYPES)))]
    a, b = _random_entity(world, rng, t), _random_entity(world, rng, t)
    year_a, year_b = int(world.year[t][a[1]]), int(world.year[t][b[1]])
    if a == b or year_a == year_b or world.name(*a) == world.name(*b):
        return None
    used: set[Entity] = {a, b}
    found_a = refer(world, rng, a, edges[0], set(used))
    if found_a is None:
        return None
    used |= set(found_a[1])
    found_b = refer(world, rng, b, edges[1], used)
    if found_b is None or set(found_b[1]) & set(found_a[1]):
        return None
    earlier = rng.random() < 0.5
    winner = a if (year_a < year_b) == earlier else b
    verb = _COMPARE[t].format(w="earlier" if earlier else "later")
    question = f"{verb}: {found_a[0]} or {found_b[0]}?"
    return question, _name_answers(world, winner), [*found_a[1], a, *found_b[1], b]


def intersection(
    world: World, rng: np.random.Generator, hops: int
) -> tuple[str, tuple[str, ...], list[Entity]] | None:
    """The one person (born in X, worked for Y) or work (created by X, set in Y) matching both."""
    if rng.random() < 0.5:
        t, (r1, r2), template = (
            "person",
            ("born_in", "works_for"),
            "Which person was born in {a} and worked for {b}?",
        )
    else:
        t, (r1, r2), template = (
            "work",
            ("creator", "set_in"),
            "Which work was created by {a} and is set in {b}?",
        )
    answer = _random_entity(world, rng, t)
    x1, x2 = world.target(t, r1, answer[1]), world.target(t, r2, answer[1])
    both = np.intersect1d(world.sources(t, r1, x1), world.sources(t, r2, x2), assume_unique=True)
    if len(both) != 1:
        return None
    first_edges = int(rng.integers(hops))
    e1 = (RELATIONS[(t, r1)], x1)
    e2 = (RELATIONS[(t, r2)], x2)
    used: set[Entity] = {answer, e1, e2}
    found_1 = refer(world, rng, e1, first_edges, set(used))
    if found_1 is None:
        return None
    used |= set(found_1[1])
    found_2 = refer(world, rng, e2, hops - 1 - first_edges, used)
    if found_2 is None or set(found_2[1]) & set(found_1[1]):
        return None
    question = template.format(a=found_1[0], b=found_2[0])
    return question, _name_answers(world, answer), [*found_1[1], *found_2[1], answer]


def counting(
    world: World, rng: np.random.Generator, hops: int
) -> tuple[str, tuple[str, ...], list[Entity]] | None:
    """How many people an article lists (natives of a place, staff of an organisation)."""
    if rng.random() < 0.5:
        t, relation, template = (
            "place",
            "born_in",
            "How many people listed in the encyclopedia were born in {x}?",
        )
    else:
        t, relation, template = (
            "org",
            "works_for",
            "How many people listed in the encyclopedia worked for {x}?",
        )
    target = _random_entity(world, rng, t)
    count = len(world.sources("person", relation, target[1]))
    if not 1 <= count <= LIST_CAP:
        return None
    found = refer(world, rng, target, hops - 1, set())
    if found is None:
        return None
    answers = (str(count), _NUMBER_WORDS[count]) if count < len(_NUMBER_WORDS) else (str(count),)
    return template.format(x=found[0]), answers, [*found[1], target]


BUILDERS = {"bridge": bridge, "comparison": comparison, "intersection": intersection, "counting": counting}


def make_question(
    world: World,
    rng: np.random.Generator,
    hops: int,
    qtypes: tuple[str, ...] = QTYPES,
    min_namesakes: int = 0,
    max_attempts: int = 2000,
) -> Question | None:
    """A question of ``hops`` hops, of a kind drawn from ``qtypes``, or None after ``max_attempts``.

    At least ``min_namesakes`` entities on its path have a namesake.
    """
    kinds = [q for q in qtypes if MIN_HOPS[q] <= hops]
    for _ in range(max_attempts):
        qtype = kinds[int(rng.integers(len(kinds)))]
        built = BUILDERS[qtype](world, rng, hops)
        if built is None:
            continue
        text, answers, read = built
        if len(read) != hops or len(set(read)) != hops:
            continue
        namesakes = sum(bool(world.namesake[t][i]) for t, i in read)
        if namesakes < min_namesakes:
            continue
        path = tuple(world.doc_id(t, i) for t, i in read)
        return Question(text, answers, qtype, hops, path, namesakes)
    return None

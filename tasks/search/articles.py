"""Encyclopedia-style articles of a fictional world, one per entity, rendered on demand.

Every relation of an entity is stated in its own article, naming the target by its title (so a
namesake's article is told apart); places list the people born there and organisations their
staff (what counting questions count). Articles are streamed (:func:`iter_documents`), so a world
of a million documents is never held in memory as text unless the caller keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from agentgym.tasks.search import names
from agentgym.tasks.search.world import TYPES, World

#: Most people an article lists (places: natives; organisations: staff). Counting questions only
#: ask about lists that fit.
LIST_CAP = 12
_FLAVOR = (
    "Contemporary accounts describe {n} as {adj} and {adj2}.",
    "Records of {n} survive in the archives of {region}.",
    "Later writers often compared {n} with the traditions of {region}.",
    "Little else is known of {n} beyond these facts.",
    "{N} is mentioned in several chronicles as {adj}.",
    "Surviving letters portray {n} as {adj}.",
)
_ADJS = (
    "ambitious", "reserved", "celebrated", "obscure", "influential", "eccentric", "meticulous",
    "controversial", "modest", "prolific", "restless", "admired",
)  # fmt: skip


class Document(NamedTuple):
    """One article: ``id``, ``title``, ``text``."""

    id: str
    title: str
    text: str


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeio" else f"a {noun}"


def _people(world: World, idx: list[int]) -> str:
    titles = [world.title("person", int(i)) for i in idx]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def _flavor(world: World, t: str, i: int) -> str:
    h = (i * 2654435761 + TYPES.index(t) * 97 + world.config.seed) % 1_000_003
    template = _FLAVOR[h % len(_FLAVOR)]
    region = names.REGIONS[h % len(names.REGIONS)]
    name = world.name(t, i)
    return template.format(
        n=name,
        N=name,
        adj=_ADJS[h % len(_ADJS)],
        adj2=_ADJS[(h + 1 + (h // 7) % (len(_ADJS) - 1)) % len(_ADJS)],
        region=region,
    )


def render(world: World, t: str, i: int) -> Document:
    """The article of entity ``(t, i)``."""
    i = int(i)
    name, kind, year = world.name(t, i), world.kind_name(t, i), int(world.year[t][i])
    tt = world.title
    if t == "person":
        place, org = world.target(t, "born_in", i), world.target(t, "works_for", i)
        text = (
            f"{name} was {_a(kind)}, born in {year} in {tt('place', place)}. "
            f"{name} worked for {tt('org', org)}."
        )
    elif t == "place":
        region = names.REGIONS[int(world.region[i])]
        text = (
            f"{name} is {_a(kind)} in {region}, founded in {year}. "
            f"It has a population of {int(world.population[i]):,}."
        )
        natives = world.sources("person", "born_in", i)
        if 0 < len(natives) <= LIST_CAP:
            text += f" People born in {name}: {_people(world, list(natives))}."
    elif t == "org":
        hq, founder = world.target(t, "hq", i), world.target(t, "founder", i)
        text = (
            f"{name} is {_a(kind)} founded in {year} by {tt('person', founder)}. "
            f"Its headquarters are in {tt('place', hq)}."
        )
        staff = world.sources("person", "works_for", i)
        if 0 < len(staff) <= LIST_CAP:
            text += f" People who worked for {name}: {_people(world, list(staff))}."
    elif t == "work":
        creator, place = world.target(t, "creator", i), world.target(t, "set_in", i)
        text = (
            f"{name} is {_a(kind)} created in {year} by {tt('person', creator)}. "
            f"It is set in {tt('place', place)}."
        )
    else:
        place, org = world.target(t, "held_in", i), world.target(t, "organiser", i)
        text = f"{name} was {_a(kind)} held in {year} in {tt('place', place)}, organised by {tt('org', org)}."
    return Document(world.doc_id(t, i), tt(t, i), f"{text} {_flavor(world, t, i)}")


def iter_documents(world: World) -> Iterator[Document]:
    """Every article of the world, in document order, rendered one at a time."""
    for t in TYPES:
        for i in range(world.counts[t]):
            yield render(world, t, i)


def get_document(world: World, doc_id: str) -> Document | None:
    """The article with id ``doc_id``, or None when the world has no such document."""
    parsed = world.parse_doc_id(doc_id)
    return render(world, *parsed) if parsed is not None else None

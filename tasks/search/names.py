"""Invented names for the fictional world: fixed tables and unique-name bijections.

Every word is made of invented syllables (no real person, place or brand), so questions about the
world cannot be answered from pretraining. Names of one entity type are unique by construction:
entity ``i`` gets name number ``(a * i + b) mod M`` (``gcd(a, M) = 1``, ``a`` and ``b`` from the
world seed), decoded in mixed radix into table entries.
"""

from __future__ import annotations

import math
import threading

_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "th")
_VOWELS = ("a", "e", "i", "o", "u", "ae")
_CODAS = ("n", "r", "l", "s", "th", "nd", "rk", "m")
_FIRST_ENDINGS = ("a", "o", "is", "en", "ia", "el", "ine", "us")

#: CV syllables (108).
SYLLABLES: tuple[str, ...] = tuple(o + v for o in _ONSETS for v in _VOWELS)
#: Invented words: two syllables and a coda (93,312), capitalized.
N_WORDS = len(SYLLABLES) ** 2 * len(_CODAS)
#: Invented first names: one syllable and an ending (864).
FIRST_NAMES: tuple[str, ...] = tuple((s + e).capitalize() for s in SYLLABLES for e in _FIRST_ENDINGS)

PLACE_SUFFIXES = ("", "ford", "mere", "wick", "holm", "stead", "by", "haven")
ORG_NOUNS = (
    "Guild",
    "Society",
    "Institute",
    "Company",
    "Foundry",
    "Press",
    "Collective",
    "Academy",
    "Bank",
    "Observatory",
    "Works",
    "Trust",
)
WORK_ADJECTIVES = (
    "Silent", "Golden", "Hollow", "Crimson", "Northern", "Broken", "Quiet", "Distant", "Pale", "Burning",
    "Last", "Hidden", "Iron", "Glass", "Winter", "Salt", "Amber", "Restless", "Little", "Long",
)  # fmt: skip
WORK_NOUNS = (
    "Harbour", "Orchard", "Lantern", "River", "Garden", "Tower", "Mirror", "Road", "Bell", "Meadow",
    "Cathedral", "Letter", "Voyage", "Island", "Clock", "Feast", "Bridge", "Forest", "Mill", "Crown",
)  # fmt: skip
EVENT_NOUNS = ("Gathering", "Assembly", "Convention", "Days", "Meeting", "Week", "Congress", "Fair")

PERSON_KINDS = (
    "painter", "chemist", "poet", "architect", "composer", "botanist", "cartographer", "engineer",
    "novelist", "astronomer", "sculptor", "physician", "historian", "mathematician", "merchant", "jurist",
)  # fmt: skip
PLACE_KINDS = ("city", "town", "village", "port", "hamlet")
ORG_KINDS = ("company", "university", "charity", "museum", "guild")
WORK_KINDS = ("novel", "painting", "opera", "symphony", "poem", "film")
EVENT_KINDS = ("festival", "conference", "expedition", "exhibition", "tournament")
REGIONS = tuple(f"the {w} Marches" for w in ("Vell", "Orn", "Kaskar", "Dunel", "Thessary", "Brume")) + tuple(
    f"{w} Province" for w in ("Aldmoor", "Zerin", "Hallowmere", "Pentre", "Norcaster", "Volta")
)


#: Syllable draws that spell real words unfit for names; their first letter becomes ``x`` (no onset
#: starts with x, and no two of them differ only in their first letter, so names stay unique).
_AVOID = frozenset({"penis", "pubes", "semen", "rapes", "nazis", "homos", "nudes", "kikes", "pedos"})


def _make_word(n: int) -> str:
    n, coda = divmod(n, len(_CODAS))
    first, second = divmod(n, len(SYLLABLES))
    text = SYLLABLES[first % len(SYLLABLES)] + SYLLABLES[second] + _CODAS[coda]
    return ("x" + text[1:] if text in _AVOID else text).capitalize()


_WORDS: list[str] = []
_WORDS_LOCK = threading.Lock()


def _word_table() -> list[str]:
    with _WORDS_LOCK:  # envs reset in worker threads: the table is filled once, whole
        if len(_WORDS) != N_WORDS:
            _WORDS[:] = [_make_word(i) for i in range(N_WORDS)]
    return _WORDS


def word(n: int) -> str:
    """Invented word number ``n`` (``0 <= n < N_WORDS``; the table is built on first use)."""
    table = _WORDS if len(_WORDS) == N_WORDS else _word_table()
    return table[n]


def person_name(n: int) -> str:
    """Person name number ``n``: first name and surname."""
    first, last = divmod(n, N_WORDS)
    return f"{FIRST_NAMES[first % len(FIRST_NAMES)]} {word(last)}"


def place_name(n: int) -> str:
    """Place name number ``n``: an invented word with an optional suffix."""
    w, s = divmod(n, len(PLACE_SUFFIXES))
    return word(w % N_WORDS) + PLACE_SUFFIXES[s]


def org_name(n: int) -> str:
    """Organisation name number ``n``: ``<Word> <Noun>``."""
    w, s = divmod(n, len(ORG_NOUNS))
    return f"{word(w % N_WORDS)} {ORG_NOUNS[s]}"


def work_name(n: int) -> str:
    """Work title number ``n``: ``The <Adjective> <Noun>`` or ``The <Noun> of <Word>``."""
    small = len(WORK_ADJECTIVES) * len(WORK_NOUNS)
    if n < small:
        a, b = divmod(n, len(WORK_NOUNS))
        return f"The {WORK_ADJECTIVES[a]} {WORK_NOUNS[b]}"
    w, b = divmod(n - small, len(WORK_NOUNS))
    return f"The {WORK_NOUNS[b]} of {word(w % N_WORDS)}"


def event_name(n: int) -> str:
    """Event name number ``n``: ``The <Word> <Noun>``."""
    w, s = divmod(n, len(EVENT_NOUNS))
    return f"The {word(w % N_WORDS)} {EVENT_NOUNS[s]}"


#: Size of each name space (names ``0 .. M-1`` are distinct).
NAME_SPACES: dict[str, int] = {
    "person": len(FIRST_NAMES) * N_WORDS,
    "place": N_WORDS * len(PLACE_SUFFIXES),
    "org": N_WORDS * len(ORG_NOUNS),
    "work": len(WORK_ADJECTIVES) * len(WORK_NOUNS) + N_WORDS * len(WORK_NOUNS),
    "event": N_WORDS * len(EVENT_NOUNS),
}
NAMERS = {"person": person_name, "place": place_name, "org": org_name, "work": work_name, "event": event_name}
KINDS: dict[str, tuple[str, ...]] = {
    "person": PERSON_KINDS,
    "place": PLACE_KINDS,
    "org": ORG_KINDS,
    "work": WORK_KINDS,
    "event": EVENT_KINDS,
}


def coprime_multiplier(space: int, raw: int) -> int:
    """A multiplier in ``[1, space)`` coprime with ``space``, derived from ``raw``."""
    a = raw % (space - 1) + 1
    while math.gcd(a, space) != 1:
        a += 1
    return a

"""Twenty Questions and Guess My City (LMRL-Gym): a rule-based answerer over attribute tables.

Questions are parsed with a size cap (``MAX_QUESTION_CHARS``), lower-cased and matched against
phrase lists, longest phrase first (a matched phrase is blanked, so "north america" is not also
"america"). Each recognised phrase is a condition (``key``); a question holding several is their
conjunction ("Is it a wild animal?" = animal and wild). Sizes compare with a breadbox or a person;
populations with a number of millions ("more than 5 million people"). The answer is "Yes." or
"No."; a question with a negation is not parsed ("please ask without 'not'"), and a question
with no recognised condition is answered "I don't know." All of them count as questions.
A guess is a question that names an entry ("Is it a dog?", "Is the city Paris?", "guess: paris").

The oracle questioner (:func:`best_question`) keeps the entries consistent with every answer so
far and asks the single-condition question that splits them most evenly, then guesses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from agentgym.tasks.games.questions_data import CITIES, OBJECTS, SOUTHERN

MAX_QUESTION_CHARS = 300
DOMAINS = ("objects", "cities")
_NEGATION = re.compile(r"\b(not|never|no)\b|n't\b")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(million|m\b|k\b|thousand)?")
_MORE = re.compile(r"\b(more|over|greater|larger|bigger|above|exceed\w*|at least)\b")
_LESS = re.compile(r"\b(less|fewer|under|below|smaller)\b")
_GUESS_PREFIX = re.compile(
    r"^(?:is it|it is|it's|is the (?:object|thing|city|answer|secret)|my guess is|i guess|guess|answer|"
    r"final answer|the answer is)\b\s*"
)
THRESHOLDS = (1.0, 2.0, 5.0, 10.0)

_OBJECT_PHRASES: dict[str, tuple[str, ...]] = {
    "cat:animal": ("animal", "creature"),
    "cat:plant": ("plant",),
    "cat:food": ("food", "edible", "something you eat", "eat it", "you eat"),
    "cat:furniture": ("furniture",),
    "cat:vehicle": ("vehicle", "transport", "transportation"),
    "cat:electronics": ("electronic", "electronics", "device", "gadget", "appliance"),
    "cat:tool": ("tool",),
    "cat:clothing": ("clothing", "clothes", "garment", "piece of clothing"),
    "cat:instrument": ("instrument", "musical"),
    "cat:toy": ("toy", "play with", "sport", "sports"),
    "cat:kitchenware": ("kitchenware", "utensil", "cutlery", "dish", "dishes"),
    "living": ("alive", "living", "organism"),
    "manmade": ("man made", "manmade", "human made", "artificial", "manufactured", "made by people"),
    "prop:legs": ("legs", "leg"),
    "prop:pet": ("pet",),
    "prop:fur": ("fur", "furry", "hair", "hairy"),
    "prop:mammal": ("mammal",),
    "prop:farm": ("farm",),
    "prop:bird": ("bird",),
    "prop:feathers": ("feather", "feathers"),
    "prop:fly": ("fly", "flies", "flying"),
    "prop:wild": ("wild",),
    "prop:water": ("water", "swim", "sea", "ocean", "aquatic"),
    "prop:fish": ("fish",),
    "prop:dangerous": ("dangerous", "harmful", "bite", "sting"),
    "prop:insect": ("insect", "bug"),
    "prop:horns": ("horn", "horns"),
    "prop:wood": ("wood", "wooden"),
    "prop:outdoors": ("outdoor", "outdoors", "outside"),
    "prop:sharp": ("sharp", "spiky", "prickly", "thorns"),
    "prop:fruit": ("fruit",),
    "prop:vegetable": ("vegetable", "veggie"),
    "prop:sweet": ("sweet", "sugary", "dessert"),
    "prop:round": ("round", "circular", "ball", "sphere"),
    "prop:kitchen": ("kitchen", "cook", "cooking"),
    "prop:soft": ("soft",),
    "prop:electric": ("electric", "electricity", "plug", "battery", "batteries"),
    "prop:wheels": ("wheel", "wheels"),
    "prop:metal": ("metal", "metallic", "steel", "iron"),
    "prop:screen": ("screen", "display"),
    "prop:glass": ("glass",),
    "prop:worn": ("wear", "worn", "wearable"),
    "prop:mane": ("mane",),
    "prop:dairy": ("dairy", "milk"),
    "prop:keyboard": ("keyboard",),
}
_PROP_QUESTIONS = {
    "legs": "Does it have legs?",
    "pet": "Is it a pet?",
    "fur": "Does it have fur?",
    "mammal": "Is it a mammal?",
    "farm": "Does it live on a farm?",
    "bird": "Is it a bird?",
    "feathers": "Does it have feathers?",
    "fly": "Can it fly?",
    "wild": "Is it wild?",
    "water": "Does it live in or go on water?",
    "fish": "Is it a fish?",
    "dangerous": "Is it dangerous?",
    "insect": "Is it an insect?",
    "horns": "Does it have horns?",
    "wood": "Is it made of wood?",
    "outdoors": "Is it found outdoors?",
    "sharp": "Is it sharp?",
    "fruit": "Is it a fruit?",
    "vegetable": "Is it a vegetable?",
    "sweet": "Is it sweet?",
    "round": "Is it round?",
    "kitchen": "Is it found in a kitchen?",
    "soft": "Is it soft?",
    "electric": "Does it use electricity?",
    "wheels": "Does it have wheels?",
    "metal": "Is it made of metal?",
    "screen": "Does it have a screen?",
    "glass": "Is it made of glass?",
    "worn": "Is it worn?",
    "mane": "Does it have a mane?",
    "dairy": "Is it a dairy product?",
    "keyboard": "Does it have a keyboard?",
}
_COUNTRY_ALIASES = {
    "united kingdom": ("uk", "britain", "england", "great britain"),
    "united states": ("usa", "us", "america"),
}
_LANG_ALIASES = {"chinese": ("mandarin",)}
_CONTINENT_ALIASES = {
    "europe": ("european",),
    "asia": ("asian",),
    "africa": ("african",),
    "north america": ("north american",),
    "south america": ("south american",),
    "oceania": (),
}


@lru_cache(maxsize=2)
def phrases(domain: str) -> tuple[tuple[str, str], ...]:
    """``(phrase, condition key)`` pairs of a domain, longest phrase first."""
    pairs: list[tuple[str, str]] = []
    if domain == "objects":
        pairs = [(p, k) for k, ps in _OBJECT_PHRASES.items() for p in ps]
    else:
        for country in sorted({row[0] for row in CITIES.values()}):
            pairs += [(p, f"country:{country}") for p in (country, *_COUNTRY_ALIASES.get(country, ()))]
        for lang in sorted({row[5] for row in CITIES.values()}):
            pairs += [(p, f"lang:{lang}") for p in (lang, *_LANG_ALIASES.get(lang, ()))]
        for continent, aliases in _CONTINENT_ALIASES.items():
            pairs += [(p, f"continent:{continent}") for p in (continent, *aliases)]
        pairs += [("capital", "capital"), ("olympics", "olympics"), ("olympic", "olympics")]
        pairs += [(p, "coastal") for p in ("coast", "coastal", "sea", "ocean", "beach", "seaside", "port")]
        pairs += [(p, "south") for p in ("southern hemisphere", "south of the equator")]
        pairs += [(p, "north") for p in ("northern hemisphere", "north of the equator")]
    return tuple(sorted(pairs, key=lambda pk: (-len(pk[0]), pk[0])))


def names(domain: str) -> list[str]:
    """The entries of a domain, in table order."""
    return list(OBJECTS if domain == "objects" else CITIES)


def normalize(question: str) -> str:
    """Lower-case letters, digits, dots and single spaces (capped at ``MAX_QUESTION_CHARS``)."""
    text = question[:MAX_QUESTION_CHARS].lower().replace("-", " ").replace("'", "'")
    text = re.sub(r"[^a-z0-9.' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip(" .")


def parse(domain: str, question: str) -> tuple[str, list[str]]:
    """``("guess", [name])``, ``("negated", [])``, ``("conditions", keys)`` or ``("unknown", [])``."""
    text = normalize(question)
    name = _guessed_name(domain, text)
    if name is not None:
        return "guess", [name]
    if _NEGATION.search(text):
        return "negated", []
    keys: list[str] = []
    if domain == "objects":
        text, size = _size_condition(text)
        keys += size
    else:
        text, pop = _population_condition(text)
        keys += pop
    padded = f" {text} "
    for phrase, key in phrases(domain):
        token = f" {phrase} "
        if token in padded:
            padded = padded.replace(token, " | ")
            if key not in keys:
                keys.append(key)
    return ("conditions", keys) if keys else ("unknown", [])


def _guessed_name(domain: str, text: str) -> str | None:
    table = OBJECTS if domain == "objects" else CITIES
    rest = _GUESS_PREFIX.sub("", text, count=1).strip()
    for article in ("a ", "an ", "the "):
        if rest.startswith(article) and rest[len(article) :] in table:
            return rest[len(article) :]
    for candidate in (rest, rest.removesuffix(" city")):
        if candidate in table:
            return candidate
    return None


def _size_condition(text: str) -> tuple[str, list[str]]:
    ref = "medium" if "breadbox" in text or "bread box" in text else None
    if re.search(r"\b(person|human|people|adult)\b", text):
        ref = "large"
    bigger = bool(re.search(r"\b(bigger|larger|taller|heavier|big|large|huge)\b", text))
    smaller = bool(re.search(r"\b(smaller|shorter|lighter|small|little|tiny)\b", text))
    if not (bigger or smaller or ref):
        return text, []
    level = ref or "medium"
    key = f"size>={level}" if bigger or not smaller else f"size<{level}"
    text = re.sub(
        r"\b(bigger|larger|taller|heavier|big|large|huge|smaller|shorter|lighter|small|little|tiny|breadbox)\b",
        " ",
        text,
    )
    return text, [key]


def _population_condition(text: str) -> tuple[str, list[str]]:
    if not re.search(r"\b(population|people|inhabitants|residents|million)\b", text):
        return text, []
    number = _NUMBER.search(text)
    more, less = _MORE.search(text), _LESS.search(text)
    if number is None or not (more or less):
        return text, []
    value = float(number.group(1))
    unit = number.group(2) or ""
    if unit in ("k", "thousand"):
        value /= 1000
    elif not unit and value >= 1000:
        value /= 1_000_000
    op = ">" if more and (not less or more.start() < less.start()) else "<"
    return text.replace(number.group(0), " "), [f"pop{op}{value:g}"]


def holds(domain: str, key: str, name: str) -> bool:
    """Whether condition ``key`` is true of entry ``name``."""
    if domain == "objects":
        category, size, props = OBJECTS[name]
        order = {"small": 0, "medium": 1, "large": 2}
        if key.startswith("cat:"):
            return category == key[4:]
        if key.startswith("prop:"):
            return key[5:] in props.split()
        if key.startswith("size>="):
            return order[size] >= order[key[6:]]
        if key.startswith("size<"):
            return order[size] < order[key[5:]]
        if key == "living":
            return category in ("animal", "plant")
        if key == "manmade":
            return category not in ("animal", "plant", "food")
        raise ValueError(f"unknown condition {key!r}")
    country, continent, capital, coastal, population, language, olympics = CITIES[name]
    if key.startswith("country:"):
        return country == key[8:]
    if key.startswith("continent:"):
        return continent == key[10:]
    if key.startswith("lang:"):
        return language == key[5:]
    if key.startswith("pop>"):
        return population > float(key[4:])
    if key.startswith("pop<"):
        return population < float(key[4:])
    flags = {"capital": capital, "coastal": coastal, "olympics": olympics, "south": name in SOUTHERN}
    flags["north"] = name not in SOUTHERN
    if key in flags:
        return flags[key]
    raise ValueError(f"unknown condition {key!r}")


def answer(domain: str, secret: str, keys: Iterable[str]) -> bool:
    """The conjunction of ``keys`` about ``secret``."""
    return all(holds(domain, k, secret) for k in keys)


def canonical_questions(domain: str) -> dict[str, str]:
    """One question per single condition (what the oracle asks): condition key -> question text."""
    if domain == "objects":
        out = {
            k: f"Is it {_article(ps[0])}?" if k.startswith("cat:") else ""
            for k, ps in _OBJECT_PHRASES.items()
        }
        out |= {"living": "Is it alive?", "manmade": "Is it man made?"}
        out |= {"size>=medium": "Is it bigger than a breadbox?", "size>=large": "Is it bigger than a person?"}
        out |= {f"prop:{p}": q for p, q in _PROP_QUESTIONS.items()}
        return out
    out = {}
    for _phrase, key in phrases(domain):
        kind, _, value = key.partition(":")
        if kind in ("country", "continent"):
            out.setdefault(key, f"Is it in {value}?")
        elif kind == "lang":
            out.setdefault(key, f"Do people there speak {value}?")
    out |= {
        "capital": "Is it a capital?",
        "coastal": "Is it on the coast?",
        "olympics": "Did it host the olympics?",
    }
    out |= {"south": "Is it in the southern hemisphere?"}
    out |= {f"pop>{t:g}": f"Does it have a population of more than {t:g} million?" for t in THRESHOLDS}
    return out


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def consistent(domain: str, record: Iterable[tuple[tuple[str, ...], bool]], pool: Iterable[str]) -> list[str]:
    """Entries of ``pool`` consistent with every ``(condition keys, answer)`` recorded."""
    record = list(record)
    return [n for n in pool if all(answer(domain, n, keys) == said for keys, said in record)]


def best_question(domain: str, candidates: list[str]) -> str:
    """The oracle's next question: a guess when one entry is left, else the most even split."""
    if len(candidates) <= 1:
        return f"Is it {candidates[0] if candidates else names(domain)[0]}?"
    best, best_gap = None, len(candidates) + 1
    for key, question in canonical_questions(domain).items():
        yes = sum(holds(domain, key, n) for n in candidates)
        gap = abs(2 * yes - len(candidates))
        if 0 < yes < len(candidates) and gap < best_gap:
            best, best_gap = question, gap
    return best if best is not None else f"Is it {candidates[0]}?"

"""The scripted shopper: parses the instruction, searches, picks a matching product and its options.

It reads only the instruction and what the shop shows (result titles and prices, product pages,
their option lists and feature/description tabs), with one shortcut: it reads a candidate's product
page without spending a step on it. Query variants go from specific to broad; when no candidate
matches everything, it buys the best one on the last page it saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agentgym.environments.webshop.engine import (
    BACK_TO_SEARCH,
    BUY,
    ITEM,
    NEXT,
    PREV,
    RESULTS,
    SEARCH,
    PageView,
    ShopEngine,
)
from agentgym.tasks.webshop import vocab
from agentgym.tasks.webshop.catalog import options_of

_PRICE = re.compile(r"(?:lower than|less than|under|below)\s+\$?(\d+(?:\.\d+)?)\s*dollars")


@dataclass(frozen=True)
class ParsedGoal:
    """What the oracle read from an instruction."""

    product_type: str
    attributes: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    price_upper: float


@lru_cache(maxsize=1)
def _option_pattern() -> re.Pattern[str]:
    names = sorted(vocab.OPTION_VALUES, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r"): ([^,]+?)(?=, |$)")


def parse_instruction(text: str) -> ParsedGoal:
    """Read the product type, attributes, ``group: value`` options and price bound of an instruction."""
    text = text.lower().strip()
    price = _PRICE.search(text)
    price_upper = float(price.group(1)) if price else 1_000_000.0
    text = _PRICE.sub(" ", text).strip().rstrip(",").strip()
    options = tuple((m.group(1), m.group(2).strip()) for m in _option_pattern().finditer(text))
    head = _option_pattern().sub(" ", text)
    types = sorted({t.name for _, t in vocab.all_types()}, key=len, reverse=True)
    product_type = next((t for t in types if re.search(rf"\b{re.escape(t)}\b", head)), "")
    if product_type:
        head = re.sub(rf"\b{re.escape(product_type)}\b", " ", head)
    attrs = []
    for attr in sorted(vocab.all_attributes(), key=len, reverse=True):
        if re.search(rf"\b{re.escape(attr)}\b", head):
            attrs.append(attr)
            head = re.sub(rf"\b{re.escape(attr)}\b", " ", head)
    return ParsedGoal(product_type, tuple(sorted(attrs)), options, price_upper)


def queries(goal: ParsedGoal) -> list[str]:
    """Search queries to try, most specific first."""
    values = " ".join(v for _, v in goal.options)
    attrs = " ".join(goal.attributes)
    out = [f"{goal.product_type} {attrs} {values}", f"{goal.product_type} {attrs}", goal.product_type]
    return list(dict.fromkeys(" ".join(q.split()) for q in out if q.strip()))


def fit(product: dict[str, Any], goal: ParsedGoal) -> tuple[int, int]:
    """``(criteria met, criteria total)`` of a product against the goal, from what its pages show."""
    text = " ".join([product["title"], *product["features"], product["description"]]).lower()
    groups = options_of(product)
    met = int(product["product_type"] == goal.product_type or goal.product_type in product["title"].lower())
    met += sum(a in text for a in goal.attributes)
    met += sum(v in groups.get(k, []) for k, v in goal.options)
    met += int(float(product["price"]) <= goal.price_upper)
    return met, 2 + len(goal.attributes) + len(goal.options)


def next_action(engine: ShopEngine, view: PageView, goal: ParsedGoal, searched: list[str]) -> str:
    """The oracle's next action on page ``view`` (``searched``: queries already run this episode)."""
    loc = view.location
    tries = queries(goal)
    if loc.kind == SEARCH:
        pending = [q for q in tries if q not in searched]
        return f"search[{(pending or tries)[-1 if not pending else 0]}]"
    if loc.kind == RESULTS:
        scored = [(fit(p, goal), -i, p) for i, p in enumerate(view.results)]
        full = [s for s in scored if s[0][0] == s[0][1]]
        if full:
            return f"click[{max(full, key=lambda s: s[:2])[2]['asin'].lower()}]"
        if view.find(NEXT) is not None:
            return f"click[{NEXT}]"
        if any(q not in searched for q in tries):
            return f"click[{BACK_TO_SEARCH}]"
        if scored:
            return f"click[{max(scored, key=lambda s: s[:2])[2]['asin'].lower()}]"
        return f"click[{BACK_TO_SEARCH}]"
    if loc.kind == ITEM and view.product is not None:
        chosen = dict(loc.options)
        groups = view.option_groups
        for group, value in goal.options:
            if value in groups.get(group, []) and chosen.get(group) != value:
                return f"click[{value}]"
        for group, values in groups.items():  # a group the goal leaves open still needs a value
            if group not in chosen and group not in dict(goal.options):
                return f"click[{values[0]}]"
        return f"click[{BUY}]"
    return f"click[{PREV}]"

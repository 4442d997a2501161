"""WebShop's reward for a purchase: type match x (attributes + options + price) coverage.

Follows the WebShop paper (Yao et al., 2022) and its ``get_reward``::

    r = r_type * (n_attributes_matched + n_options_matched + 1[price <= bound])
                 / (n_goal_attributes + n_goal_options + 1)

``r_type`` is 1 when the bought product's type agrees with the goal's (same query, two shared
category levels, or enough shared title nouns), 0.5 when none of those hold, 0.1 when the titles
share under 10% of the goal's nouns and 0 when they share none. Attributes and option values match
by fuzzy token-set similarity above 85 (sizes exactly), or by appearing in the title, features or
description. Differences from the original, on purpose: the title nouns are the words of the
catalog's product-type and category vocabulary (the original uses a spaCy POS tagger), and matched
options are capped at the number of goal options so the reward stays in [0, 1], and option values
with digits ("12 pack", "8 fl oz") match exactly like sizes (fuzzy scores put "12 pack" at 86 from
"24 pack", which would count a wrong quantity as a match).

The formula is a :class:`~agentgym.verifiers.base.Rubric` (:func:`purchase_rubric`): the terms
``attributes`` (weight: number of goal attributes), ``options`` (weight: number of goal options)
and ``price`` (weight 1) are a weighted mean, and ``type`` (``r_type``) is a multiplicative gate on
it; the score is rounded to 6 digits and passes at 1. Every term is named in the verdict's
``details["items"]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from agentgym.core.verdict import Verdict
from agentgym.tasks.webshop import vocab
from agentgym.tasks.webshop.catalog import CATEGORY_SEP
from agentgym.verifiers.base import Rubric, RubricItem, term

FUZZY_THRESHOLD = 85
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _process(text: str) -> str:
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def _lcs(a: str, b: str) -> int:
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b):
            cur.append(prev[j] + 1 if ca == cb else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def ratio(a: str, b: str) -> float:
    """Indel similarity in [0, 100]: ``200 * LCS / (len(a) + len(b))`` (fuzzywuzzy's ``ratio``)."""
    if not a and not b:
        return 100.0
    return 200.0 * _lcs(a, b) / (len(a) + len(b))


@lru_cache(maxsize=65536)
def token_set_ratio(a: str, b: str) -> int:
    """Word-set similarity, 0-100 (fuzzywuzzy's ``token_set_ratio``; 100 when one set holds the other)."""
    pa, pb = _process(a), _process(b)
    if not pa or not pb:
        return 0
    ta, tb = set(pa.split()), set(pb.split())
    inter = " ".join(sorted(ta & tb))
    only_a, only_b = " ".join(sorted(ta - tb)), " ".join(sorted(tb - ta))
    if inter and (not only_a or not only_b):
        return 100
    s1, s2 = f"{inter} {only_a}".strip(), f"{inter} {only_b}".strip()
    return round(max(ratio(inter, s1), ratio(inter, s2), ratio(s1, s2)))


@lru_cache(maxsize=1)
def noun_lexicon() -> frozenset[str]:
    """The words counted as a title's nouns: product-type names and category-path words."""
    words: set[str] = set()
    for dept, ptype in vocab.all_types():
        for text in (ptype.name, dept.name, *ptype.path):
            words.update(_process(text).split())
    return frozenset(w for w in words if len(w) > 2 and w not in {"and", "for", "the"})


def title_nouns(title: str) -> set[str]:
    """The lexicon nouns in a title."""
    lexicon = noun_lexicon()
    return {w for w in _process(title).split() if w in lexicon}


def type_reward(product: Mapping[str, Any], goal: Mapping[str, Any]) -> dict[str, Any]:
    """``r_type`` and its parts: query match, category match (>= 2 shared levels), title noun score."""
    query_match = product["product_type"] == goal["product_type"]
    bought = {x.strip() for x in product["category"].split(CATEGORY_SEP)}
    wanted = {x.strip() for x in goal["category"].split(CATEGORY_SEP)}
    category_match = len(bought & wanted) >= 2
    goal_nouns, bought_nouns = title_nouns(goal["name"]), title_nouns(product["title"])
    title_score = len(goal_nouns & bought_nouns) / len(goal_nouns) if goal_nouns else 0.2
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return {
        "r_type": r_type,
        "query_match": query_match,
        "category_match": category_match,
        "title_score": round(title_score, 4),
    }


def _in_text(phrase: str, product: Mapping[str, Any]) -> bool:
    phrase = phrase.lower()
    return (
        phrase in product["title"].lower()
        or phrase in " ".join(product["features"]).lower()
        or phrase in product["description"].lower()
    )


def attribute_matches(product: Mapping[str, Any], goal_attributes: Sequence[str]) -> int:
    """How many goal attributes the product has (fuzzy in its attribute list, or in its text)."""
    n = 0
    for wanted in goal_attributes:
        fuzzy = any(token_set_ratio(have, wanted) > FUZZY_THRESHOLD for have in product["attributes"])
        if fuzzy or _in_text(wanted, product):
            n += 1
    return n


def option_matches(product: Mapping[str, Any], goal_options: Sequence[str], bought: Mapping[str, str]) -> int:
    """How many bought option values match a goal option (exactly, fuzzily, or in the product's text)."""
    n = 0
    for group, value in bought.items():
        value = value.lower()
        if "size" in group.lower() or any(c.isdigit() for c in value):
            matched = value in (g.lower() for g in goal_options)
        else:
            matched = any(token_set_ratio(g, value) > FUZZY_THRESHOLD for g in goal_options)
        if matched or _in_text(value, product):
            n += 1
    return min(n, len(goal_options))


def purchase_rubric(n_goal_attributes: int, n_goal_options: int) -> Rubric:
    """WebShop's reward as a rubric: ``type`` x weighted mean of attributes, options and price."""
    return Rubric(
        [
            RubricItem("attributes", None, float(n_goal_attributes)),
            RubricItem("options", None, float(n_goal_options)),
            RubricItem("price", None, 1.0),
            RubricItem("type", None, gate=True),
        ],
        name="webshop",
        pass_threshold=1.0,
        digits=6,
    )


def _share(matched: int, wanted: int) -> float:
    return matched / wanted if wanted else 1.0  # nothing wanted: a weight-0 term, all matched


def _purchase(
    product: Mapping[str, Any], goal: Mapping[str, Any], options: Mapping[str, str]
) -> tuple[Verdict, dict[str, Any]]:
    """The rubric's verdict of a purchase and the breakdown WebShop reports."""
    goal_attrs = list(goal["attributes"])
    goal_opts = (
        list(goal["options"].values()) if isinstance(goal["options"], Mapping) else list(goal["options"])
    )
    parts = type_reward(product, goal)
    price = float(product["price"])
    r_price = price <= float(goal["price_upper"])
    n_att = attribute_matches(product, goal_attrs)
    n_opt = option_matches(product, goal_opts, options)
    denom = len(goal_attrs) + len(goal_opts) + 1
    n_goal_att, n_goal_opt = len(goal_attrs), len(goal_opts)
    terms = {
        "attributes": term("attributes", _share(n_att, n_goal_att), matched=n_att, wanted=n_goal_att),
        "options": term("options", _share(n_opt, n_goal_opt), matched=n_opt, wanted=n_goal_opt),
        "price": term("price", float(r_price), price=price, upper=float(goal["price_upper"])),
        "type": term("type", parts["r_type"], **parts),
    }
    info = {
        **parts,
        "r_att": round(n_att / len(goal_attrs), 4) if goal_attrs else None,
        "w_att": round(len(goal_attrs) / denom, 4),
        "r_option": round(n_opt / len(goal_opts), 4) if goal_opts else None,
        "w_option": round(len(goal_opts) / denom, 4),
        "r_price": r_price,
        "w_price": round(1 / denom, 4),
        "attributes_matched": n_att,
        "options_matched": n_opt,
    }
    return purchase_rubric(len(goal_attrs), len(goal_opts)).combine(terms), info


def get_reward(
    product: Mapping[str, Any], goal: Mapping[str, Any], options: Mapping[str, str]
) -> tuple[float, dict[str, Any]]:
    """The reward of buying ``product`` with ``options`` for ``goal``, and its breakdown."""
    verdict, info = _purchase(product, goal, options)
    return verdict.score, info


def purchase_verdict(
    product: Mapping[str, Any], goal: Mapping[str, Any], options: Mapping[str, str]
) -> Verdict:
    """The Verdict of a purchase: WebShop's reward as the score (its rubric), passed when it is 1."""
    verdict, info = _purchase(product, goal, options)
    details = {
        **info,
        "bought": {"asin": product["asin"], "title": product["title"], "price": float(product["price"])},
        "bought_options": dict(options),
        "items": verdict.details["items"],
    }
    return Verdict(verdict.score, verdict.passed, verdict.kind, details, verdict.error)

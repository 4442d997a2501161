"""The generated product catalog: product ``i`` of catalog seed ``s`` is a pure function of ``(s, i)``.

Products are made in blocks of :data:`BLOCK` from one numpy RNG per block (PCG64 from
``(seed, block)``: the same on every machine), so a catalog of ``n`` products is the first ``n`` of
an endless sequence (a 1k catalog is a prefix of the 1M one) and any product can be rebuilt alone
from its block (recent blocks are cached). Product ids look like Amazon ASINs (``B0`` and 8 base-36 digits)
and map back to their index arithmetically, without a lookup table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

from agentgym.tasks.base import BufferedUniform
from agentgym.tasks.webshop import vocab

BLOCK = 1000
MAX_SIZE = 10_000_000
_ID_SPACE = 36**8
_ID_MUL = 2654435761  # odd and not a multiple of 3: a bijection modulo 36**8 (= 2**16 * 3**16)
_ID_MUL_INV = pow(_ID_MUL, -1, _ID_SPACE)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"  # base 36, lower case
TYPES = vocab.all_types()
CATEGORY_SEP = " \u203a "  # WebShop's category separator
#: The columns of a catalog, in storage order.
COLUMNS = (
    "idx", "asin", "title", "brand", "product_type", "department", "category", "price",
    "attributes", "options", "features", "description", "rating", "n_reviews",
)  # fmt: skip


def _id_offset(seed: int) -> int:
    return (seed * 7919 + 12345) % _ID_SPACE


def asin_of(seed: int, idx: int) -> str:
    """The product id of product ``idx`` in catalog ``seed``."""
    n = (idx * _ID_MUL + _id_offset(seed)) % _ID_SPACE
    digits = []
    for _ in range(8):
        n, r = divmod(n, 36)
        digits.append(_DIGITS[r])
    return "B0" + "".join(reversed(digits)).upper()


def index_of(seed: int, asin: str) -> int | None:
    """The index of product id ``asin`` in catalog ``seed`` (None when it is not a product id)."""
    asin = asin.strip().lower()
    if len(asin) != 10 or not asin.startswith("b0") or any(c not in _DIGITS for c in asin[2:]):
        return None
    n = int(asin[2:], 36)
    return ((n - _id_offset(seed)) * _ID_MUL_INV) % _ID_SPACE


def _choose(u: BufferedUniform, items: tuple[str, ...], k: int) -> list[str]:
    """``k`` distinct items in their vocabulary order (a partial Fisher-Yates shuffle)."""
    pool = list(range(len(items)))
    picked = []
    for i in range(min(k, len(pool))):
        j = i + u.below(len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
        picked.append(pool[i])
    return [items[i] for i in sorted(picked)]


def _title_case(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def _price(u: BufferedUniform, lo: float, hi: float) -> float:
    x = lo + (hi - lo) * (u.below(10_000) / 10_000) ** 1.5
    return max(1.99, round(round(x) - 0.01, 2))


def _product(seed: int, idx: int, u: BufferedUniform) -> dict[str, Any]:
    dept, ptype = TYPES[u.below(len(TYPES))]
    brand = (
        vocab.BRAND_HEADS[u.below(len(vocab.BRAND_HEADS))]
        + vocab.BRAND_TAILS[u.below(len(vocab.BRAND_TAILS))]
    )
    pool = tuple(a for a in dept.attributes if a not in ptype.exclude and a not in ptype.name)
    attributes = _choose(u, pool, 3 + u.below(3))
    options = {}
    for group in ptype.options:
        values = vocab.OPTION_VALUES[group]
        options[group] = _choose(u, values, 2 + u.below(min(5, len(values) - 1)))
    adj = dept.adjectives[u.below(len(dept.adjectives))]
    first = attributes[u.below(len(attributes))]
    second = attributes[u.below(len(attributes))]
    type_words = set(ptype.name.split())
    words = [brand] + [_title_case(w) for w in (adj, first) if not set(w.split()) & type_words]
    title = " ".join([*words, _title_case(ptype.name)])
    if second != first and u.below(2):
        title += f", {_title_case(second)}"
    features = []
    for attr in attributes:
        template = vocab.FEATURE_TEMPLATES[u.below(len(vocab.FEATURE_TEMPLATES))]
        features.append(template.format(A=attr.upper(), a=attr, t=ptype.name))
    opening = vocab.DESCRIPTION_OPENINGS[u.below(len(vocab.DESCRIPTION_OPENINGS))]
    pitches = _choose(u, dept.pitches, 2)
    groups = " and ".join(f"{len(v)} {k} choices" for k, v in options.items())
    description = " ".join([opening.format(b=brand, t=ptype.name, adj=adj), *pitches, f"Comes in {groups}."])
    return {
        "idx": idx,
        "asin": asin_of(seed, idx),
        "title": title,
        "brand": brand,
        "product_type": ptype.name,
        "department": dept.name,
        "category": CATEGORY_SEP.join((dept.name, *ptype.path)),
        "price": _price(u, *ptype.price),
        "attributes": attributes,
        "options": json.dumps(options, separators=(",", ":")),
        "features": features,
        "description": description,
        "rating": round(3.0 + u.below(21) / 10, 1),
        "n_reviews": u.below(5000),
    }


def generate_block(seed: int, block: int) -> list[dict[str, Any]]:
    """The :data:`BLOCK` products of block ``block`` of catalog ``seed`` (indices ``block * BLOCK ...``)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, block, 0x5E0B]))
    u = BufferedUniform(rng, 4096)
    return [_product(seed, block * BLOCK + i, u) for i in range(BLOCK)]


@lru_cache(maxsize=64)
def _cached_block(seed: int, block: int) -> tuple[dict[str, Any], ...]:
    return tuple(generate_block(seed, block))


def product_at(seed: int, idx: int) -> dict[str, Any]:
    """Product ``idx`` of catalog ``seed`` (a copy), rebuilt from its block."""
    if not 0 <= idx < MAX_SIZE:
        raise ValueError(f"product index must be in [0, {MAX_SIZE}), got {idx}")
    product = _cached_block(seed, idx // BLOCK)[idx % BLOCK]
    return {**product, "attributes": list(product["attributes"]), "features": list(product["features"])}


def iter_products(seed: int, size: int) -> Iterator[list[dict[str, Any]]]:
    """The first ``size`` products of catalog ``seed``, in lists of at most :data:`BLOCK`."""
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"catalog size must be in [1, {MAX_SIZE}], got {size}")
    for block in range((size + BLOCK - 1) // BLOCK):
        rows = generate_block(seed, block)
        yield rows[: size - block * BLOCK]


def options_of(product: dict[str, Any]) -> dict[str, list[str]]:
    """A product's option groups (stored as JSON) as a dict."""
    options = product["options"]
    return json.loads(options) if isinstance(options, str) else dict(options)


def reviews_of(seed: int, product: dict[str, Any], n: int = 3) -> list[dict[str, Any]]:
    """``n`` reviews of ``product``, made on demand from ``(seed, idx)`` (not stored)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, int(product["idx"]), 0x4EE]))
    u = BufferedUniform(rng, 64)
    opts = options_of(product)
    any_option = next(iter(opts.values()))[0] if opts else "color"
    out = []
    for _ in range(n):
        stars, text = vocab.REVIEW_TEMPLATES[u.below(len(vocab.REVIEW_TEMPLATES))]
        author = vocab.REVIEWERS[u.below(len(vocab.REVIEWERS))]
        out.append(
            {"author": author, "stars": stars, "text": text.format(t=product["product_type"], o=any_option)}
        )
    return out

"""WebShop-style shopping instructions, each made from a target product of the generated catalog.

``"i need a gluten free snack pack with flavor: sea salt, and pack size: 12 pack, and price lower
than 30.00 dollars"``: the goal is the target's type, some of its attributes, one value of each of
its option groups, and a price bound drawn as in WebShop (two of the first four multiples of ten
dollars above the price, the larger one). The task's id is the content hash of its spec, so its
split (train or held-out) follows from its content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from agentgym.core.task import Task
from agentgym.tasks.base import MAX_SEED, DifficultyAttr, GeneratorConfig, require, task_rng
from agentgym.tasks.webshop import vocab
from agentgym.tasks.webshop.catalog import MAX_SIZE, options_of, product_at

FAMILY = "webshop"
GENERATOR_ID = "webshop/instructions"


@dataclass(frozen=True)
class InstructionConfig(GeneratorConfig):
    """Which catalog the targets come from, and how many attributes a goal names (1-3)."""

    catalog_size: int = 1000
    catalog_seed: int = 0
    n_attributes: int = 2

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(1 <= self.catalog_size <= MAX_SIZE, self, "catalog_size", f"must be in [1, {MAX_SIZE}]")
        require(0 <= self.catalog_seed <= MAX_SEED, self, "catalog_seed", "must be in [0, 2**63)")
        require(1 <= self.n_attributes <= 3, self, "n_attributes", "must be in [1, 3]")


def price_bound(price: float, rng: np.random.Generator) -> float:
    """WebShop's bound: the larger of two distinct picks among the first four tens above ``price``."""
    above = [vocab.PRICE_STEP * i for i in range(1, 100) if vocab.PRICE_STEP * i > price][:4]
    if len(above) < 2:
        return 1_000_000.0
    picks = rng.choice(len(above), size=2, replace=False)
    return float(above[int(max(picks))])


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def instruction_text(
    product_type: str,
    attributes: list[str],
    options: dict[str, str],
    price_upper: float,
    rng: np.random.Generator,
) -> str:
    """The instruction sentence for a goal (template choices drawn from ``rng``)."""
    before = [a for a in attributes if not a.startswith("for ")]
    after = [a for a in attributes if a.startswith("for ")]
    opening = vocab.INSTRUCTION_OPENINGS[int(rng.integers(len(vocab.INSTRUCTION_OPENINGS)))]
    attrs = _join(before) if before else ""
    head = opening.format(art=_article(attrs or product_type), attrs=attrs, t=product_type)
    text = " ".join(head.split()) + "".join(f" {a}" for a in after)
    if options:
        listed = ", and ".join(f"{k}: {v}" for k, v in options.items())
        text += f" with {listed}" if rng.integers(2) else f", {listed}"
    if price_upper < 1_000_000:
        phrase = vocab.PRICE_PHRASES[int(rng.integers(len(vocab.PRICE_PHRASES)))]
        text += phrase.format(p=price_upper)
    return text


class InstructionGenerator:
    """Makes shopping tasks over catalog ``(catalog_size, catalog_seed)``; item ``(seed, index)`` alone."""

    id: ClassVar[str] = GENERATOR_ID
    family: ClassVar[str] = FAMILY
    config_cls: ClassVar[type[InstructionConfig]] = InstructionConfig
    difficulty_attrs: ClassVar[tuple[DifficultyAttr, ...]] = (
        DifficultyAttr("n_attributes", (1, 2, 3), "attributes the goal names"),
    )

    def __init__(
        self,
        config: InstructionConfig | None = None,
        product_lookup: Callable[[int], dict[str, Any]] | None = None,
        **overrides: Any,
    ) -> None:
        self.config = InstructionConfig.from_overrides(overrides, base=config)
        # A loaded catalog reads product i in microseconds; rebuilding it from its block takes ~30 ms.
        # Both give the same product, hence the same task.
        self.product_lookup = product_lookup

    def product(self, idx: int) -> dict[str, Any]:
        """Product ``idx`` of the catalog (from ``product_lookup`` when given)."""
        if self.product_lookup is not None:
            return self.product_lookup(idx)
        return product_at(self.config.catalog_seed, idx)

    def goal_of(self, product: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        """A goal for ``product``: some of its attributes, one value per option group, a price bound."""
        attrs = list(product["attributes"])
        k = min(self.config.n_attributes, len(attrs))
        chosen = sorted(int(i) for i in rng.choice(len(attrs), size=k, replace=False))
        options = {
            group: values[int(rng.integers(len(values)))] for group, values in options_of(product).items()
        }
        return {
            "product_type": product["product_type"],
            "category": product["category"],
            "name": product["title"],
            "attributes": [attrs[i] for i in chosen],
            "options": options,
            "price_upper": price_bound(float(product["price"]), rng),
        }

    def generate(self, seed: int, index: int = 0) -> Task:
        """Item ``index`` of stream ``seed``: a target product of the catalog and its instruction."""
        rng = task_rng(seed, index)
        idx = int(rng.integers(self.config.catalog_size))
        product = self.product(idx)
        goal = self.goal_of(product, rng)
        text = instruction_text(
            goal["product_type"], goal["attributes"], goal["options"], goal["price_upper"], rng
        )
        spec = {
            "generator": self.id,
            "catalog": {"size": self.config.catalog_size, "seed": self.config.catalog_seed},
            "instruction": text,
            "goal": goal,
        }
        return Task(
            family=FAMILY,
            spec=spec,
            answer={"asin": product["asin"], "options": goal["options"]},
            difficulty={"n_attributes": self.config.n_attributes},
            meta={"seed": seed, "index": index, "config": self.config.to_dict()},
        )

"""The generated catalog, its storage and BM25 search; instructions made from it."""

import pytest

from agentgym.core.errors import ConfigError, EnvError, TaskError
from agentgym.environments.webshop.oracle import parse_instruction
from agentgym.environments.webshop.store import (
    PAGE_SIZE,
    build_catalog,
    catalog_dir,
    open_shop_data,
    tokenize,
)
from agentgym.tasks.splits import generate_split, split_of
from agentgym.tasks.webshop import catalog as cat
from agentgym.tasks.webshop import vocab
from agentgym.tasks.webshop.instructions import InstructionGenerator, price_bound


def test_products_are_deterministic_and_a_small_catalog_is_a_prefix():
    small = [p for rows in cat.iter_products(7, 1500) for p in rows]
    again = [p for rows in cat.iter_products(7, 1500) for p in rows]
    assert small == again and len(small) == 1500
    assert cat.product_at(7, 1234) == small[1234]
    assert [p["idx"] for p in small] == list(range(1500))
    other_seed = [p for rows in cat.iter_products(8, 10) for p in rows]
    assert [p["title"] for p in other_seed] != [p["title"] for p in small[:10]]


def test_products_are_realistic_and_consistent():
    for p in cat.generate_block(0, 3):
        dept = next(d for d in vocab.DEPARTMENTS if d.name == p["department"])
        ptype = next(t for t in dept.types if t.name == p["product_type"])
        assert p["category"].startswith(dept.name + " \u203a ")
        assert set(p["attributes"]) <= set(dept.attributes) and not set(p["attributes"]) & set(ptype.exclude)
        assert 3 <= len(p["attributes"]) <= 5 and len(p["features"]) == len(p["attributes"])
        assert ptype.name.lower() in p["title"].lower() and p["brand"] in p["title"]
        options = cat.options_of(p)
        assert list(options) == list(ptype.options) and all(len(v) >= 2 for v in options.values())
        assert ptype.price[0] - 1 <= p["price"] <= ptype.price[1]
        assert len(cat.reviews_of(0, p)) == 3


def test_product_ids_map_back_to_indices():
    ids = {cat.asin_of(3, i) for i in range(0, 2_000_000, 1999)}
    assert len(ids) == len(range(0, 2_000_000, 1999))
    for i in (0, 1, 999, 123_456, 9_999_999):
        asin = cat.asin_of(3, i)
        assert len(asin) == 10 and asin.startswith("B0")
        assert cat.index_of(3, asin) == i and cat.index_of(3, asin.lower()) == i
    assert cat.index_of(3, "not-an-id") is None and cat.index_of(3, "B0!!!!!!!!") is None


def test_store_builds_once_and_search_ranks_matching_products(tmp_path):
    path = build_catalog(2000, 0, cache_dir=tmp_path)
    assert (path / "products.parquet").exists() and (path / "index").is_dir()
    mtime = (path / "products.parquet").stat().st_mtime
    assert build_catalog(2000, 0, cache_dir=tmp_path) == path
    assert (path / "products.parquet").stat().st_mtime == mtime
    data = open_shop_data(2000, 0, cache_dir=tmp_path)
    assert data.product(5) == cat.product_at(0, 5) | {"attributes": data.product(5)["attributes"]}
    assert data.product_by_asin(cat.asin_of(0, 5))["idx"] == 5
    assert data.product_by_asin(cat.asin_of(0, 2000)) is None  # beyond this catalog
    hits = data.search("gluten free snack pack sea salt")
    assert 0 < len(hits) <= 50
    top = [data.product(i) for i in hits[:PAGE_SIZE]]
    assert all(p["product_type"] == "snack pack" for p in top[:5])
    assert data.search("zzzz qqqq") == [] and data.search("") == []
    assert data.search("gluten free snack pack sea salt") == hits  # deterministic order


def test_tokenizer_drops_stopwords_and_plurals():
    assert tokenize("I need the Cookies, 12 packs!") == ["cookie", "12", "pack"]
    assert tokenize("x-small t-shirt") == ["x-small", "t-shirt"]


def test_open_rejects_bad_sizes():
    with pytest.raises(EnvError):
        open_shop_data(0)


@pytest.mark.parametrize("seed", ["../../x", "/tmp/x", -1, 1.5, True, None])
def test_catalog_seeds_that_would_name_another_folder_are_rejected(seed, tmp_path):
    with pytest.raises(ConfigError, match="catalog seed"):
        catalog_dir(100, seed, tmp_path)
    with pytest.raises(ConfigError, match="catalog seed"):
        open_shop_data(100, seed, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing was built (or removed) anywhere


def test_instructions_are_webshop_style_and_parse_back():
    gen = InstructionGenerator(catalog_size=5000, n_attributes=3)
    for i in range(150):
        task = gen.generate(11, i)
        assert task == gen.generate(11, i)
        goal, text = task.spec["goal"], task.spec["instruction"]
        target = cat.product_at(0, cat.index_of(0, task.answer["asin"]))
        assert goal["product_type"] == target["product_type"] and goal["name"] == target["title"]
        assert set(goal["attributes"]) <= set(target["attributes"]) and len(goal["attributes"]) == 3
        assert all(v in cat.options_of(target)[k] for k, v in goal["options"].items())
        assert target["price"] < goal["price_upper"] <= target["price"] + 40
        assert goal["product_type"] in text and all(f"{k}: {v}" in text for k, v in goal["options"].items())
        parsed = parse_instruction(text)
        assert parsed.product_type == goal["product_type"]
        assert set(parsed.attributes) == set(goal["attributes"])
        assert dict(parsed.options) == goal["options"] and parsed.price_upper == goal["price_upper"]


def test_price_bound_is_one_of_the_next_four_tens():
    import numpy as np

    rng = np.random.default_rng(0)
    bounds = {price_bound(23.5, rng) for _ in range(200)}
    assert bounds == {40.0, 50.0, 60.0}  # the larger of two picks from 30, 40, 50, 60
    assert price_bound(995.0, rng) == 1_000_000.0


def test_heldout_split_is_by_content_hash():
    gen = InstructionGenerator(catalog_size=1000)
    held = list(generate_split(gen, 5, 20, "heldout"))
    train = list(generate_split(gen, 5, 50, "train"))
    assert all(split_of(t) == "heldout" for t in held) and not {t.id for t in held} & {t.id for t in train}


def test_bad_config_is_rejected():
    with pytest.raises(TaskError, match="n_attributes"):
        InstructionGenerator(n_attributes=4)
    with pytest.raises(TaskError, match="catalog_size"):
        InstructionGenerator(catalog_size=0)

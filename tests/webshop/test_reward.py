"""WebShop's reward on crafted purchases, against values computed by hand."""

import pytest

from agentgym.environments.webshop.reward import get_reward, purchase_verdict, token_set_ratio

SNACK_CATEGORY = "Grocery & Gourmet Food \u203a Snack Foods \u203a Chips & Crisps"
GOAL = {
    "product_type": "snack pack",
    "category": SNACK_CATEGORY,
    "name": "Zenly Crunchy Gluten Free Snack Pack",
    "attributes": ["gluten free", "non gmo"],
    "options": {"flavor": "sea salt", "pack size": "12 pack"},
    "price_upper": 30.0,
}


def product(**over):
    base = {
        "asin": "B0TEST0001",
        "title": "Zenly Crunchy Gluten Free Snack Pack",
        "product_type": "snack pack",
        "category": SNACK_CATEGORY,
        "price": 19.99,
        "attributes": ["gluten free", "non gmo", "vegan"],
        "features": ["VEGAN: a vegan snack pack for the whole family."],
        "description": "Meet the Zenly snack pack. Made in small batches.",
    }
    return {**base, **over}


def test_the_target_with_the_right_options_scores_one():
    reward, info = get_reward(product(), GOAL, {"flavor": "sea salt", "pack size": "12 pack"})
    assert reward == 1.0
    assert info["r_type"] == 1.0 and info["r_att"] == 1.0 and info["r_option"] == 1.0 and info["r_price"]
    assert info["w_att"] == 0.4 and info["w_option"] == 0.4 and info["w_price"] == 0.2


def test_half_the_attributes_one_option_and_too_expensive():
    # 1 attribute of 2, 1 option of 2, price above the bound: (1 + 1 + 0) / (2 + 2 + 1) = 0.4
    p = product(price=35.0, attributes=["gluten free", "vegan"])
    reward, info = get_reward(p, GOAL, {"flavor": "sea salt", "pack size": "24 pack"})
    assert reward == pytest.approx(0.4)
    assert info["attributes_matched"] == 1 and info["options_matched"] == 1 and info["r_price"] is False


def test_quantities_match_exactly_not_fuzzily():
    # "12 pack" vs "24 pack" scores 86 > 85 by fuzzy similarity; quantities must match exactly
    assert token_set_ratio("12 pack", "24 pack") == 86
    reward, info = get_reward(product(), GOAL, {"flavor": "sea salt", "pack size": "24 pack"})
    assert info["options_matched"] == 1 and reward == pytest.approx(4 / 5)


def test_sizes_match_exactly():
    goal = {**GOAL, "options": {"size": "small"}}
    assert token_set_ratio("x-small", "small") == 100  # why sizes are exact in WebShop
    reward, _ = get_reward(product(), goal, {"size": "x-small"})
    assert reward == pytest.approx(3 / 4)  # 2 attributes + price, no option, of 4


def test_fuzzy_attribute_and_text_fallback():
    # "gluten free" is a word subset of "gluten free snack" (token-set ratio 100);
    # "non gmo" is not in the attribute list but appears in the description
    p = product(attributes=["gluten free snack"], description="Simple and non gmo, made in small batches.")
    reward, info = get_reward(p, GOAL, {"flavor": "sea salt", "pack size": "12 pack"})
    assert info["attributes_matched"] == 2 and reward == 1.0


def test_option_found_in_the_title_counts():
    # a bought value that appears in the product's title counts (WebShop's fallback)
    p = product(title="Zenly Sea Salt Gluten Free Snack Pack")
    _, info = get_reward(p, GOAL, {"flavor": "sea salt"})
    assert info["options_matched"] == 1


def test_wrong_type_with_no_shared_nouns_scores_zero():
    lamp = product(
        title="Evoline Modern Table Lamp",
        product_type="table lamp",
        category="Home & Kitchen \u203a Lighting \u203a Lamps & Shades \u203a Table Lamps",
    )
    reward, info = get_reward(lamp, GOAL, {"flavor": "sea salt", "pack size": "12 pack"})
    assert info["title_score"] == 0.0 and info["r_type"] == 0.0 and reward == 0.0


def test_weak_type_match_halves_the_reward():
    # goal nouns {snack, pack, cookies, granola, jerky}; bought title shares only "jerky": 1/5 = 0.2,
    # not above 0.2, and neither query nor two category levels match: r_type = 0.5
    goal = {**GOAL, "name": "Zenly Snack Pack Cookies Granola Jerky"}
    jerky = product(
        title="Bluewise Jerky Dog Treats",
        product_type="dog treats",
        category="Pet Supplies \u203a Dogs \u203a Treats \u203a Biscuits",
        attributes=["gluten free", "non gmo"],
    )
    reward, info = get_reward(jerky, goal, {"flavor": "sea salt", "pack size": "12 pack"})
    assert info["title_score"] == 0.2 and info["r_type"] == 0.5
    assert reward == pytest.approx(0.5)


def test_title_score_between_one_and_two_tenths_gives_a_tenth():
    goal = {**GOAL, "name": "Snack Pack Cookies Granola Jerky Mug Lamp Bottle Bed Towel Cable"}  # 11 nouns
    p = product(title="Jerky Thing", product_type="x", category="A \u203a B")
    _, info = get_reward(p, goal, {})
    assert info["title_score"] == pytest.approx(1 / 11, abs=1e-4) and info["r_type"] == 0.1


def test_verdict_carries_the_breakdown():
    v = purchase_verdict(product(), GOAL, {"flavor": "sea salt", "pack size": "12 pack"})
    assert v.passed and v.score == 1.0 and v.kind == "webshop"
    assert v.details["bought"]["asin"] == "B0TEST0001" and v.details["bought_options"]["flavor"] == "sea salt"
    assert {"r_type", "r_att", "r_option", "r_price"} <= set(v.details)

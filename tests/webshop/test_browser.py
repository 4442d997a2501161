"""A person's purchase in a real browser: Playwright drives Debian's chromium through the shop server.

Saves a screenshot of the thank-you page (``webshop-bought.png`` in the test's temporary folder, or
under ``$AGENTGYM_ARTIFACTS`` when set). Skipped with the reason when chromium or playwright is missing.
"""

import os
from pathlib import Path

import pytest

from agentgym.environments.webshop.app import ShopServer
from agentgym.environments.webshop.background import start_shop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop():
    running = start_shop(ShopServer(catalog_size=1000))
    yield running
    running.stop()


def test_buy_in_a_real_browser(browser, shop, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{shop.url}/?goal=3")
    instruction = page.locator("#instruction").inner_text()
    sid = next(c["value"] for c in page.context.cookies() if c["name"] == "shop_session")
    task = shop.shop.sessions[sid].task
    goal = task.spec["goal"]
    assert task.spec["instruction"] in instruction
    # type the product type and some attributes, as a person would
    page.fill("#search-input", f"{goal['product_type']} {' '.join(goal['attributes'])}")
    page.click("#search-button")
    page.wait_for_selector(".product-link")
    assert "Total results" in page.content()
    # open the first result of the right type within the budget
    links = page.locator(".product-link")
    for i in range(links.count()):
        title = links.nth(i).inner_text().lower()
        price = float(page.locator(".price").nth(i).inner_text().strip("$"))
        if goal["product_type"] in title and price <= goal["price_upper"]:
            links.nth(i).click()
            break
    else:
        links.first.click()
    page.wait_for_selector("#buy-now")
    for group, value in goal["options"].items():
        option = page.locator(f'.option[data-group="{group}"][data-value="{value}"]')
        if option.count():
            option.click()
            page.wait_for_selector(f'.option.selected[data-group="{group}"][data-value="{value}"]')
    page.click("#tab-features")
    page.wait_for_selector("#tab-title")
    assert page.locator("#tab-title").inner_text() == "Features"
    page.click("#prev")
    page.click("#buy-now")
    page.wait_for_selector("#thank-you")
    score = float(page.locator("#score").inner_text())
    out = Path(os.environ.get("AGENTGYM_ARTIFACTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    shot = out / "webshop-bought.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5000
    verdict = shop.shop.sessions[sid].verdict
    assert verdict is not None and verdict.score == score and 0.0 < score <= 1.0
    assert verdict.details["r_type"] == 1.0
    page.close()

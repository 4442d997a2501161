"""The shop web app: same pages as the text mode, a purchase through HTTP, the verdict as JSON."""

import re

import pytest
from fastapi.testclient import TestClient

from agentgym.environments.webshop.app import ShopServer, location_of, url_of
from agentgym.environments.webshop.engine import RESULTS, Location
from agentgym.environments.webshop.text_env import ShopTextEnv


@pytest.fixture(scope="module")
def server():
    return ShopServer(catalog_size=1000)


def _unescape(url: str) -> str:
    return url.replace("&amp;", "&")


def test_a_person_can_search_choose_options_and_buy(server):
    client = TestClient(server.app())
    r = client.get("/?goal=0")
    assert r.status_code == 200 and "Instruction:" in r.text and 'id="search-input"' in r.text
    assert str(r.url).endswith("/search")
    sid = client.cookies["shop_session"]
    task = server.sessions[sid].task
    goal = task.spec["goal"]
    r = client.get("/search", params={"q": goal["product_type"]})
    assert "Total results:" in r.text
    r = client.get(f"/item/{task.answer['asin']}", params={"q": goal["product_type"]})
    assert r.status_code == 200 and goal["name"] in r.text
    for group, value in goal["options"].items():
        attrs = f'data-group="{re.escape(group)}" data-value="{re.escape(value)}"'
        link = re.search(attrs + r'\s*href="([^"]+)"', r.text)
        r = client.get(_unescape(link.group(1)))
        assert re.search('option selected" ' + attrs, r.text)
    r = client.get(_unescape(re.search(r'id="tab-reviews" href="([^"]+)"', r.text).group(1)))
    assert "Reviews" in r.text and "/5)" in r.text
    r = client.get(_unescape(re.search(r'href="([^"]+)" id="prev"', r.text).group(1)))
    buy = _unescape(re.search(r'form method="post" action="([^"]+)"', r.text).group(1))
    r = client.post(buy)
    assert r.status_code == 200 and 'id="score">1.0000<' in r.text
    verdict = client.get("/verdict").json()
    assert verdict["bought"] and verdict["verdict"]["score"] == 1.0 and verdict["verdict"]["passed"]


def test_web_and_text_show_the_same_results(server):
    client = TestClient(server.app())
    client.get("/?goal=1")
    html = client.get("/results", params={"q": "wireless earbuds", "page": 2}).text
    web = re.findall(r'data-asin="(\w+)"', html)
    view = server.engine.view(Location(RESULTS, query="wireless earbuds", page=2))
    assert web == [p["asin"] for p in view.results] and len(web) == 10
    env = ShopTextEnv(catalog_size=1000)
    env.reset(seed=0)
    env.step("search[wireless earbuds]")
    obs, *_ = env.step("click[next >]")
    assert [a for a in re.findall(r"\[(B0\w{8})\]", obs[0].text)] == web


def test_sessions_products_and_bad_input(server):
    client = TestClient(server.app())
    assert client.get("/search").status_code == 404  # no session cookie yet
    assert client.get("/start/nope").status_code == 404
    sid = server.open_session(server.goal(2))
    assert str(client.get(f"/start/{sid}").url).endswith("/search") and client.cookies["shop_session"] == sid
    assert client.post("/buy/B0ZZZZZZZZ").status_code == 404
    assert client.get("/results", params={"q": "x" * 600}).status_code == 422
    assert client.get("/verdict").json() == {"bought": False, "verdict": None}
    assert client.get("/healthz").json() == {"ok": True, "catalog_size": 1000}
    asin = server.goal(2).answer["asin"]
    assert "Buy Now" in client.get(f"/item/{asin}", params={"tab": "<script>"}).text  # unknown tab: the item


def test_urls_and_locations_round_trip(server):
    env = ShopTextEnv(catalog_size=1000)
    env.reset(seed=4)
    seen = set()
    for _ in range(30):
        view = server.engine.view(env.location)
        for c in view.clickables:
            assert location_of(url_of(c.target)) == c.target
            seen.add(c.target.kind)
        if env.step(env.oracle_action())[2]:
            break
    assert seen >= {"search", "results", "item", "tab", "done"}

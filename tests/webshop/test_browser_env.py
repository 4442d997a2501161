"""``webshop/shop-browser-v0``: the shop through the GUI family's browser env (real chromium).

``check_env`` runs on it in tests/test_checker.py with every registered id.
"""

import pytest

from agentgym.core.messages import ImagePart
from agentgym.registry import make
from tests.browser_support import chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ENV_ID = "webshop/shop-browser-v0"


@pytest.fixture(autouse=True)
def needs_chromium():
    if chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")


def test_oracle_buys_through_the_browser_and_sees_screenshots():
    env = make(ENV_ID, split="heldout")
    try:
        rewards = []
        for seed in range(4):
            obs, info = env.reset(seed=seed)
            assert info["split"] == "heldout"
            assert any(isinstance(p, ImagePart) for p in obs[-1].content)  # a screenshot
            assert env.unwrapped.task.spec["instruction"] in obs[-1].text
            for _ in range(50):
                obs, reward, term, trunc, info = env.step(env.unwrapped.oracle_action())
                if term or trunc:
                    break
            assert term and info["verdict"].kind == "webshop"
            rewards.append(reward)
        assert sum(rewards) / len(rewards) >= 0.95
        obs, _ = env.reset(seed=9)
        obs, reward, term, _, info = env.step("done")
        assert term and reward == 0.0 and info["verdict"].details["reason"] == "nothing bought"
    finally:
        env.close()


def test_the_shop_browser_reaches_only_the_shop_server():
    import http.server
    import threading

    hits: list[str] = []

    class Secret(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<p>SHOP-SECRET-91</p>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Secret)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = f"http://127.0.0.1:{server.server_address[1]}/"
    env = make(ENV_ID, observation="dom")
    try:
        obs, _ = env.reset(seed=0)
        texts = [m.text for m in obs]
        # the agent types a URL into the search box: the shop searches for it, nothing loads from there
        box = next(line for line in obs[-1].text.splitlines() if "input#search-input" in line)
        for action in [f"click({box.split(']')[0].lstrip('[')})", f"type({secret!r})", 'press("Enter")']:
            obs, *_ = env.step(action)
            texts += [m.text for m in obs]
        shop_url = env.unwrapped.shop.url
        assert env.unwrapped.page.url.startswith(shop_url + "/results")
        # a link on a shop page (as a hostile product text could carry) clicked by the agent
        env.unwrapped.run(
            env.unwrapped.page.evaluate(
                "(url) => { const a = document.createElement('a'); a.id = 'evil'; a.href = url;"
                " a.textContent = 'Deal'; document.body.prepend(a); }",
                secret,
            )
        )
        obs, *_ = env.step("wait")
        evil = next(line for line in obs[-1].text.splitlines() if 'a#evil "Deal"' in line)
        for action in [f"click({evil.split(']')[0].lstrip('[')})", "wait"]:
            obs, *_ = env.step(action)
            texts += [m.text for m in obs]
        assert not any("SHOP-SECRET-91" in t for t in texts)
        told = f"blocked: navigation to {secret} is outside this task's origin ({shop_url})"
        assert any(told in t for t in texts)
        assert env.unwrapped.page.url.startswith(shop_url + "/results") and hits == []
    finally:
        env.close()
        server.shutdown()

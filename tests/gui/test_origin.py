"""Browser contexts load only their task's origin: a page that links, fetches, frames or redirects to
another local server (a "secret" one on 127.0.0.1) never shows it, and the agent is told it was blocked."""

from __future__ import annotations

import http.server
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentgym.environments.gui.env import BrowserEnv
from agentgym.environments.gui.origin import Origin
from tests.browser_support import chromium_path

SECRET = "TOP-SECRET-7f3a"


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> tuple[_Server, str]:
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def secret() -> Iterator[tuple[str, list[str]]]:
    """A local server whose every page holds SECRET (CORS open); yields its URL and the paths it served."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = f"<html><body><p>{SECRET}</p></body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server, url = _serve(Handler)
    yield url, hits
    server.shutdown()


def _page(secret_url: str, outside_file: str) -> str:
    """A page with every way out: links, a JS navigation, fetch, frames, images, a popup, a form post."""
    return f"""<!DOCTYPE html><html><body>
<a id="out" href="{secret_url}/link">Out</a>
<a id="file" href="{outside_file}">File</a>
<a id="redir" href="/redirect">Redirect</a>
<button id="js" onclick="location.href = '{secret_url}/js'">JS</button>
<button id="fetch" onclick="fetch('{secret_url}/fetch').then(r => r.text())
  .then(t => document.getElementById('got').textContent = t)">Fetch</button>
<button id="frame" onclick="const f = document.createElement('iframe'); f.src = '{secret_url}/frame';
  document.body.appendChild(f)">Frame</button>
<button id="popup" onclick="window.open('{secret_url}/popup')">Popup</button>
<button id="ws" onclick="new WebSocket('{secret_url.replace("http", "ws")}/ws')">Socket</button>
<form method="post" action="{secret_url}/form"><button id="post" type="submit">Post</button></form>
<img src="{secret_url}/img.png" alt="img">
<div id="got"></div>
</body></html>"""


@pytest.fixture
def shop_like(secret: tuple[str, list[str]], tmp_path: Path) -> Iterator[str]:
    """The task's own server: the hostile page, and ``/redirect`` sending the browser to the secret."""
    secret_url = secret[0]
    outside = tmp_path / "outside.html"
    outside.write_text(f"<p>{SECRET}</p>", encoding="utf-8")
    page = _page(secret_url, outside.as_uri()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", f"{secret_url}/redirected")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server, url = _serve(Handler)
    yield url + "/page"
    server.shutdown()


def test_origins_allow_only_their_own_server_or_folder():
    shop = Origin.of_url("http://127.0.0.1:8000/healthz")
    assert shop.allows("http://127.0.0.1:8000/search?q=x") and shop.allows("ws://127.0.0.1:8000/ws")
    for other in [
        "http://127.0.0.1:9999/",
        "http://localhost:8000/",
        "https://127.0.0.1:8000/",
        "http://example.com/",
        "file:///etc/passwd",
        "data:text/html,hi",
        "http://127.0.0.1:bad/",
    ]:
        assert not shop.allows(other), other
    assert shop.allows_endpoint("127.0.0.1", 8000) and not shop.allows_endpoint("127.0.0.1", 8001)
    pages = Origin.of_folder("/opt/miniwob/html")
    assert pages.allows("file:///opt/miniwob/html/core/core.js")
    for other in [
        "file:///opt/miniwob/html/../secret.txt",
        "file:///opt/miniwob/html2/x.html",
        "file://otherhost/opt/miniwob/html/x.html",
        "http://127.0.0.1:8000/",
    ]:
        assert not pages.allows(other), other
    assert not Origin.of_url("about:blank").allows("http://127.0.0.1:8000/")
    route = pages.route_pattern()
    assert route.match("file:///etc/passwd") and not route.match("file:///opt/miniwob/html/a.html")
    assert not route.match("http://127.0.0.1:9/")  # http goes through the guard's proxy instead


def _steps(env: BrowserEnv, action: str, waits: int = 10) -> list[str]:
    """The texts of the observations of ``action`` and of ``wait`` steps after it until one reports a
    blocked attempt (reported in the first observation after the browser made it; at most ``waits``)."""
    texts: list[str] = []
    for act in [action] + ["wait"] * waits:
        obs, *_ = env.step(act)
        texts += [m.text for m in obs]
        if act == "wait" and any("blocked: " in m.text for m in obs):
            break
    return texts


def _element(text: str, needle: str) -> str:
    for line in text.splitlines():
        if needle in line:
            return line.split("]", 1)[0].lstrip("[")
    raise AssertionError(f"{needle!r} not in {text}")


@pytest.mark.browser
@pytest.mark.slow
def test_a_page_cannot_reach_another_local_server_or_file(shop_like, secret):
    if chromium_path() is None:
        pytest.skip("chromium is not installed")
    _, hits = secret
    env = BrowserEnv(shop_like, observation="dom", viewport=(400, 600), isolation="page")
    try:
        for element, kind in [
            ('a#out "Out"', "navigation"),
            ('a#file "File"', None),  # Chromium refuses file:// from http itself; nothing to report
            ('a#redir "Redirect"', "navigation"),
            ('button#js "JS"', "navigation"),
            ('button#fetch "Fetch"', "request"),
            ('button#frame "Frame"', "frame"),
            ('button#popup "Popup"', "navigation"),
            ('button#ws "Socket"', "connection"),
            ('button#post "Post"', "navigation"),
        ]:
            obs, info = env.reset(seed=0)
            texts = [m.text for m in obs]
            assert "blocked: image to http://127.0.0.1:" in obs[-1].text  # the page's <img>, once
            assert obs[-1].text.count("blocked: ") == 1 and info["blocked"]
            texts += _steps(env, f"click({_element(obs[-1].text, element)})", 10 if kind else 2)
            assert not any(SECRET in t for t in texts), (element, texts)
            assert env.page.url == shop_like  # the page stayed where it was
            assert len(env.page.context.pages) == 1  # a popup is closed at once
            if kind is not None:
                told = f"blocked: {kind} to " + ("" if kind == "connection" else "http://") + "127.0.0.1:"
                assert any(told in t and "outside this task's origin" in t for t in texts), (element, texts)
        assert hits == []  # not one request reached the other server
    finally:
        env.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_file_page_cannot_open_other_files_or_servers(secret, tmp_path):
    if chromium_path() is None:
        pytest.skip("chromium is not installed")
    _, hits = secret
    outside = tmp_path / "elsewhere" / "secret.html"
    outside.parent.mkdir()
    outside.write_text(f"<p>{SECRET}</p>", encoding="utf-8")
    folder = tmp_path / "task"
    folder.mkdir()
    page = folder / "page.html"
    page.write_text(_page(secret[0], outside.as_uri()), encoding="utf-8")
    env = BrowserEnv(page.as_uri(), observation="dom", viewport=(400, 600))
    try:
        for element in ['a#file "File"', 'a#out "Out"', 'button#fetch "Fetch"']:
            obs, _ = env.reset(seed=0)
            texts = [m.text for m in obs] + _steps(env, f"click({_element(obs[-1].text, element)})")
            assert not any(SECRET in t for t in texts), texts
            assert any("blocked: " in t for t in texts), (element, texts)
            assert env.page.url == page.as_uri()
        assert hits == []
    finally:
        env.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_miniwob_page_cannot_leave_the_package_pages(secret, tmp_path):
    if chromium_path() is None:
        pytest.skip("chromium is not installed")
    from agentgym.environments.gui.miniwob import MiniWoBEnv

    _, hits = secret
    outside = tmp_path / "secret.html"
    outside.write_text(f"<p>{SECRET}</p>", encoding="utf-8")
    env = MiniWoBEnv("click-test", observation="dom")
    try:
        for script in [
            f"location.href = {secret[0] + '/js'!r}",
            f"location.href = {outside.as_uri()!r}",
            f"fetch({secret[0] + '/fetch'!r}).then(r => r.text()).then(t => document.body.append(t))",
            f"document.body.insertAdjacentHTML('beforeend', '<iframe src={outside.as_uri()}></iframe>')",
        ]:
            env.reset(seed=1)
            env.run(env.page.evaluate(f"() => {{ {script}; }}"))  # what a page's own script could do
            texts = _steps(env, "wait")
            assert not any(SECRET in t for t in texts), texts
            assert any("blocked: " in t and "outside this task's origin (file://" in t for t in texts), (
                script,
                texts,
            )
            assert env.page.url.endswith("/click-test.html")
        env.reset(seed=2)
        env.run(env.page.evaluate(f"() => {{ location.href = {secret[0] + '/again'!r}; }}"))
        assert any("blocked: navigation" in t for t in _steps(env, "wait"))
        _, info = env.reset(seed=3)
        assert "blocked" not in info and env.last_reset == "in-page"  # the pooled page restarts as usual
        assert hits == []
    finally:
        env.close()

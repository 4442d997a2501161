"""Fixtures of the GUI tests: a local test page and a browser host that shuts down at once."""

from pathlib import Path

import pytest

PAGE = """<!DOCTYPE html>
<html><head>
<style>body { margin: 0; font: 14px Arial; } #box { height: 60px; overflow-y: scroll; }</style>
</head>
<body>
<button id="go" onclick="document.getElementById('out').textContent = 'clicked'">Press</button>
<input id="name" type="text">
<select id="colour"><option>Red</option><option>Blue</option></select>
<div id="out"></div>
<div id="timer"></div>
<div id="visits"></div>
<div id="box"><p>one</p><p>two</p><p>three</p><p>four</p><p>five</p><p>six</p></div>
<script>
setTimeout(() => { document.getElementById('timer').textContent = 'later'; }, 500);
document.getElementById('out').dataset.stamp = String(Date.now());
document.getElementById('visits').textContent = 'visits ' + (localStorage.getItem('v') || '0');
localStorage.setItem('v', '1');
</script>
</body></html>
"""


@pytest.fixture
def page_url(tmp_path: Path) -> str:
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    return path.as_uri()


async def page_done(page) -> "object":
    """Reward hook of the test page: 1 when clicked, 'hi' typed and Blue chosen."""
    from agentgym.environments.gui.env import PageOutcome

    out, name, colour = await page.evaluate(
        "[document.getElementById('out').textContent, document.getElementById('name').value,"
        " document.getElementById('colour').value]"
    )
    ok = out == "clicked" and name == "hi" and colour == "Blue"
    return PageOutcome(1.0 if ok else 0.0, done=ok, details={"out": out, "name": name, "colour": colour})

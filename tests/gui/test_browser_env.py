"""BrowserEnv on a local page: every action kind, observation modes, virtual time, errors, crashes."""

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from agentgym.core.errors import EnvError
from agentgym.core.messages import Message, ToolCall
from agentgym.environments.gui.browser import BrowserHost, chromium_pids
from agentgym.environments.gui.env import BrowserEnv, check_start_url
from tests.gui.conftest import page_done

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def element_id(obs_text: str, needle: str) -> int:
    match = re.search(r"\[(\d+)\] " + re.escape(needle), obs_text)
    assert match, obs_text
    return int(match.group(1))


def test_a_page_driven_by_every_action_kind(page_url):
    env = BrowserEnv(
        page_url, instruction="Press, type hi, choose Blue", viewport=(320, 240), reward_fn=page_done
    )
    try:
        obs, info = env.reset(seed=0)
        assert [m.role for m in obs] == ["system", "user"]
        text = obs[1].text
        assert "Instruction: Press, type hi, choose Blue" in text
        assert len(obs[1].images) == 1 and obs[1].images[0].startswith(b"\x89PNG")
        button, field, select = (
            element_id(text, 'button#go "Press"'),
            element_id(text, "input#name"),
            element_id(text, "select#colour"),
        )
        assert "later" not in text  # the page's 500 ms timer has not fired: time is virtual

        obs, reward, terminated, _, info = env.step(f"click({button})")
        assert 'div#out "clicked"' in obs[0].text and reward == 0.0 and not terminated
        assert info["action"] == {"action": "click", "element_id": button}
        x, y, w, h = env.element_boxes[field]
        env.step(f"click({x + w // 2}, {y + h // 2})")
        obs, *_ = env.step('type("hi")')
        assert 'input#name type=text value="hi" focused' in obs[0].text
        obs, *_ = env.step("wait")
        assert '"later"' in obs[0].text
        obs, *_ = env.step("scroll(0, 40)")
        obs, reward, terminated, truncated, info = env.step(
            Message(
                "assistant",
                "",
                tool_calls=(ToolCall("t1", "select", f'{{"element_id": {select}, "option": "Blue"}}'),),
            )
        )
        assert obs[0].role == "tool" and obs[0].tool_call_id == "t1"
        assert 'selected="Blue"' in obs[1].text
        assert (reward, terminated, truncated) == (1.0, True, False)
        assert info["verdict"].passed and info["verdict"].score == 1.0
    finally:
        env.close()


def test_invalid_actions_give_error_observations(page_url):
    env = BrowserEnv(page_url, viewport=(320, 240))
    try:
        obs, _ = env.reset(seed=0)
        button = element_id(obs[1].text, 'button#go "Press"')
        for action, needle in [
            ("click(999)", "no visible element with id 999"),
            ("click(400, 10)", "outside the 320x240 screen"),
            (f'select({button}, "Blue")', "not a select"),
            ('press("Hyper")', "unknown key"),
            ("do something", "no action found"),
        ]:
            obs, reward, terminated, truncated, info = env.step(action)
            assert needle in obs[0].text and not (terminated or truncated), (action, obs[0].text)
            assert "action_error" in info
        obs, reward, terminated, *_ = env.step("done")
        assert terminated and reward == 0.0
    finally:
        env.close()


@pytest.mark.parametrize(
    ("mode", "images", "has_dom"), [("dom", 0, True), ("screenshot", 1, False), ("both", 1, True)]
)
def test_observation_modes(page_url, mode, images, has_dom):
    env = BrowserEnv(page_url, observation=mode, viewport=(320, 240))
    try:
        obs, _ = env.reset(seed=0)
        assert len(obs[1].images) == images
        assert ('button#go "Press"' in obs[1].text) == has_dom
    finally:
        env.close()


@pytest.mark.parametrize("isolation", ["context", "page"])
def test_same_actions_give_byte_identical_observations(page_url, isolation):
    def run():
        env = BrowserEnv(page_url, viewport=(320, 240), reward_fn=page_done, isolation=isolation)
        try:
            trace = [[m.to_dict() for m in env.reset(seed=3)[0]]]
            for action in ["click(1)", "wait", "click(2)", 'type("hi")', "scroll(0, 30)"]:
                obs, reward, *_ = env.step(action)
                trace.append(([m.to_dict() for m in obs], reward))
            stamp = env.run(env.page.evaluate("document.getElementById('out').dataset.stamp"))
            return trace, stamp
        finally:
            env.close()

    (a, stamp_a), (b, stamp_b) = run(), run()
    assert a == b
    assert stamp_a == stamp_b  # Date.now() is the fake clock's, not the wall clock's


@pytest.mark.parametrize("isolation", ["context", "page"])
def test_episodes_do_not_share_storage_or_time(page_url, isolation):
    env = BrowserEnv(page_url, viewport=(320, 240), isolation=isolation)
    try:
        for seed in range(3):
            obs, _ = env.reset(seed=seed)
            assert '"visits 0"' in obs[1].text  # localStorage written by the last episode is gone
            assert '"later"' not in obs[1].text  # the clock starts again at the epoch
            env.step("wait")
    finally:
        env.close()


def test_start_urls_are_local_only():
    assert check_start_url("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000/x"
    assert check_start_url("file:///tmp/a.html").startswith("file:")
    for bad in ["http://example.com/", "https://10.0.0.1/", "javascript:alert(1)"]:
        with pytest.raises(EnvError, match="start_url"):
            BrowserEnv(bad)


def test_a_killed_browser_ends_the_episode_and_is_relaunched(page_url):
    env = BrowserEnv(page_url, viewport=(320, 240))
    try:
        env.reset(seed=0)
        host = BrowserHost.get()
        launches = host.launches
        os.kill(host.browser_pid(), signal.SIGKILL)
        time.sleep(0.5)
        obs, _reward, terminated, truncated, info = env.step("click(1)")
        assert truncated and not terminated and "env_error" in info
        assert "crashed" in obs[0].text
        assert info["verdict"].error
        obs, _ = env.reset(seed=0)
        assert host.launches == launches + 1 and obs[1].images
        # one crash (the step's): the reset did not wait on the context being prepared ahead on the
        # dead browser, which never finished and cost the whole open timeout before a retry
        assert env.crashes == 1
        assert not env.step("click(1)")[3]
    finally:
        env.close()


def test_a_crashed_page_ends_the_episode_and_the_next_reset_works(page_url):
    env = BrowserEnv(page_url, viewport=(320, 240), timeout_s=10)
    try:
        env.reset(seed=0)

        async def crash():
            with contextlib.suppress(Exception):
                await env.page.goto("chrome://crash", timeout=3000)

        env.run(crash())
        _, _reward, _terminated, truncated, info = env.step("click(1)")
        assert truncated and "env_error" in info
        _obs, _ = env.reset(seed=1)
        assert not env.step("click(1)")[3]
    finally:
        env.close()


def test_no_chromium_outlives_its_envs(page_url, monkeypatch):
    host = BrowserHost.get()
    monkeypatch.setattr(host, "linger_s", 0.0)
    first, second = BrowserEnv(page_url), BrowserEnv(page_url)
    first.reset(seed=0)
    second.reset(seed=0)
    assert chromium_pids()
    first.close()
    assert chromium_pids()  # the other env still uses the browser
    second.close()
    assert chromium_pids() == []
    assert host.users == 0


def test_no_chromium_outlives_a_killed_worker(page_url):
    code = (
        "import time\nfrom agentgym.environments.gui.env import BrowserEnv\n"
        "from agentgym.environments.gui.browser import chromium_pids\n"
        f"env = BrowserEnv({page_url!r})\nenv.reset(seed=0)\n"
        "print(' '.join(map(str, chromium_pids())), flush=True)\ntime.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") and _alive(p) for p in pids):
        time.sleep(0.2)
    assert not [p for p in pids if os.path.exists(f"/proc/{p}") and _alive(p)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_async_episodes_run_concurrently_without_blocking_the_loop(page_url):
    async def main():
        envs = [BrowserEnv(page_url, viewport=(320, 240), reward_fn=page_done) for _ in range(4)]
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        tick = asyncio.ensure_future(ticker())
        try:
            resets = await asyncio.gather(*(e.areset(seed=i) for i, e in enumerate(envs)))
            steps = await asyncio.gather(*(e.astep("click(1)") for e in envs))
        finally:
            tick.cancel()
            for e in envs:
                e.close()
        return resets, steps, ticks

    resets, steps, ticks = asyncio.run(main())
    assert all(len(r[0]) == 2 for r in resets)
    assert all('"clicked"' in s[0][0].text for s in steps)
    assert ticks > 3

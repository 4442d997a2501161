"""Shared fixtures: `browser`, a module-scoped Playwright browser on Debian's chromium.

Needs ``apt-get install -y chromium`` and ``pip install playwright`` (``playwright install`` is not
used: the system chromium is launched by path). Skips with the reason when either is missing.
"""

import importlib.util

import pytest

from tests.browser_support import CHROMIUM_ARGS, chromium_path


@pytest.fixture(scope="module")
def browser():
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install 'playwright>=1.40')")
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()

"""Open the eval report in a real browser (Debian's chromium through Playwright) and check the plots.

Needs ``apt-get install -y chromium`` and ``pip install playwright`` (``playwright install`` is not
used: the system chromium is launched by path). Skipped with the reason when either is missing.
"""

import pytest

from agentgym.eval.runner import run_eval
from tests.eval.helpers import counting_oracle, counting_random, tiny_suite

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    return run_eval(
        tiny_suite(), [counting_oracle(), counting_random()], out, k=2, progress=False
    ).report_path


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, problems, requests


def test_report_plots_render_without_errors_or_network(browser, report):
    page, problems, requests = open_page(browser, report.as_uri())
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    for i in range(4):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
        bars = charts.nth(i).locator("rect.bar")
        assert bars.count() >= 1
        heights = [bars.nth(j).bounding_box()["height"] for j in range(bars.count())]
        assert max(heights) > 50  # the oracle's 100% bar is drawn at full height
    assert page.locator("#comparison tbody tr").count() == 2
    assert problems == []
    assert all(url.startswith("file:") for url in requests), requests  # self-contained
    page.close()


def test_transcript_links_open_and_lead_back(browser, report):
    page, problems, _ = open_page(browser, report.as_uri())
    links = page.locator("#transcripts a")
    assert links.count() >= 6
    links.first.click()
    page.wait_for_load_state("load")
    assert "Conversation" in page.content() and page.locator(".msg.assistant").count() >= 1
    page.locator("a", has_text="report").first.click()
    page.wait_for_load_state("load")
    assert page.url == report.as_uri()
    assert problems == []
    page.close()

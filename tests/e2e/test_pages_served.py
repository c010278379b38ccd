"""Every page loads in a real browser under its security headers, with nothing blocked.

A Content-Security-Policy violation shows up as a console error, so "no console
errors" also proves the pages need no inline script or style.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from support.servers import LiveServer

PAGES = {"/": "'none'", "/console": "'none'", "/demo": "'self'", "/api-docs": "'none'"}


@pytest.mark.parametrize(("path", "framing"), PAGES.items())
def test_each_page_loads_under_its_policy_with_nothing_blocked(
    browser: Browser, live_server: LiveServer, path: str, framing: str
) -> None:
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(live_server.url + path)
    assert response is not None
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert f"frame-ancestors {framing}" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    page.wait_for_load_state("networkidle")
    assert problems == []
    page.close()


def test_the_front_page_says_what_runs_and_links_the_two_others(
    browser: Browser, live_server: LiveServer
) -> None:
    page = browser.new_page()
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "chatcore is running"
    assert page.locator("a[href='/console']").count() == 1
    assert page.locator("a[href='/demo']").count() == 1
    page.close()

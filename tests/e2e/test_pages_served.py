"""Every page loads in a real browser with its security headers and no console errors."""

from __future__ import annotations

from playwright.sync_api import Browser

from servers import LiveServer


def test_the_front_page_loads_under_its_policy(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    response = page.goto(live_server.url + "/")
    assert response is not None
    assert response.status == 200
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert page.locator("h1").inner_text() == "chatcore is running"
    assert page.locator("a[href='/console']").count() == 1
    assert problems == []
    page.close()

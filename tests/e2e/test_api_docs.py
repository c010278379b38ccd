"""The API page: the OpenAPI document drawn by the vendored Swagger UI, under the
pages' own Content-Security-Policy, with nothing blocked and nothing from elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Browser, expect

from support.browser_people import WAIT_MS
from support.servers import LiveServer


def test_the_api_page_shows_the_operations_with_nothing_blocked(
    browser: Browser, live_server: LiveServer
) -> None:
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    response = page.goto(live_server.url + "/api-docs")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]

    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=WAIT_MS)
    conversations = page.locator(".opblock-summary-path[data-path='/api/v1/agent/conversations']")
    expect(conversations.first).to_be_visible()
    expect(page.locator(".opblock-summary-path[data-path='/healthz']")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    assert operations.count() > 10
    assert problems == []
    assert hosts == {urlsplit(live_server.url).netloc}
    page.close()


def test_the_front_page_links_the_api_page(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="The API").click()
    expect(page).to_have_url(live_server.url + "/api-docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=WAIT_MS)
    page.close()

"""Message text is text: markup typed by either side shows as characters and never runs."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from support.browser_people import WAIT_MS, Agent, Customer
from support.servers import LiveServer

HOSTILE = "<img src=x onerror=alert(1)>"
ALSO_HOSTILE = "<script>alert(2)</script><b>bold?</b>"


def test_markup_both_ways_is_shown_as_text_and_never_runs(
    browser: Browser, live_server: LiveServer
) -> None:
    agent = Agent(browser, live_server.url)
    agent.set_up_first_admin()
    agent.go_online()
    customer = Customer(browser, live_server.url)
    customer.open_chat()
    customer.page.get_by_test_id("talk-to-agent").click()
    expect(customer.page.get_by_test_id("agent-name")).to_be_visible(timeout=WAIT_MS)

    customer.say(HOSTILE)
    agent.open_first("tab-mine")
    on_console = agent.view_messages().filter(has_text=HOSTILE)
    expect(on_console).to_have_count(1, timeout=WAIT_MS)
    agent.say(ALSO_HOSTILE)
    on_widget = customer.messages().filter(has_text=ALSO_HOSTILE)
    expect(on_widget).to_have_count(1, timeout=WAIT_MS)

    assert on_console.first.locator(".msg-body").inner_text() == HOSTILE
    assert on_widget.first.inner_text() == ALSO_HOSTILE
    # Nothing became an element: no <img>, <script> or <b> inside either message.
    assert on_console.first.locator("img, script, b").count() == 0
    assert on_widget.first.locator("img, script, b").count() == 0
    expect(customer.messages().filter(has_text=HOSTILE)).to_have_count(1)
    assert customer.dialogs == []
    assert agent.dialogs == []

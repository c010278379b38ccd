"""An admin list's older answer, landing after a newer one, does not overwrite it.

The quick-questions page loads its list when it opens and again after an entry is
added. Under load the first answer can arrive last; it once wiped the new entry
from the list (a flaky test_console_work on a busy machine). Here the first
answer is held back on purpose until the second has been drawn.
"""

from __future__ import annotations

from playwright.sync_api import APIResponse, Browser, Route, expect

from support.browser_people import WAIT_MS, Agent
from support.servers import LiveServer

FAQS = "**/api/v1/admin/faqs"


def test_a_late_first_answer_does_not_hide_a_new_quick_question(
    browser: Browser, live_server: LiveServer
) -> None:
    agent = Agent(browser, live_server.url)
    agent.set_up_first_admin()
    held: list[tuple[Route, APIResponse]] = []

    def hold_the_first_read(route: Route) -> None:
        if route.request.method == "GET" and not held:
            held.append((route, route.fetch()))  # the list as it is now, before the add
        else:
            route.continue_()

    agent.page.route(FAQS, hold_the_first_read)
    agent.page.goto(live_server.url + "/console#/admin/faqs")
    expect(agent.page.get_by_test_id("admin-faqs")).to_be_visible(timeout=WAIT_MS)
    agent.add_quick_question(
        "gift-cards",
        question="Do you sell gift cards?",
        answer="Yes: from 10 to 200 dollars, by email.",
    )
    new_row = agent.page.get_by_test_id("faq-row").filter(has_text="gift-cards")
    expect(new_row).to_have_count(1, timeout=WAIT_MS)

    assert len(held) == 1, "the page's first read of the list was not seen"
    route, stale = held[0]
    with agent.page.expect_response(lambda answer: answer.request is route.request):
        route.fulfill(response=stale)
    agent.page.wait_for_timeout(300)  # let the page handle the late answer, if it would
    expect(new_row).to_have_count(1)

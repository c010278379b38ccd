"""The console as an agent works all day: unread counts, admin pages, logging out."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from support.browser_people import WAIT_MS, Agent, Customer
from support.servers import LiveServer


def test_unread_badges_and_the_tab_title_count_customer_messages(
    browser: Browser, live_server: LiveServer
) -> None:
    agent = Agent(browser, live_server.url)
    agent.set_up_first_admin()
    agent.go_online()
    customer = Customer(browser, live_server.url)
    customer.open_chat()
    customer.page.get_by_test_id("talk-to-agent").click()
    expect(customer.page.get_by_test_id("agent-name")).to_be_visible(timeout=WAIT_MS)

    customer.say("Hello? Anyone there?")
    mine = agent.page.get_by_test_id("tab-mine")
    expect(mine.get_by_test_id("unread-badge")).to_have_text("1", timeout=WAIT_MS)
    expect(agent.page).to_have_title("(1) chatcore console", timeout=WAIT_MS)

    agent.open_first("tab-mine")
    expect(agent.page).to_have_title("chatcore console", timeout=WAIT_MS)
    expect(mine.get_by_test_id("unread-badge")).to_be_hidden()


def test_a_new_quick_question_reaches_the_widget_and_logout_kills_the_token(
    browser: Browser, live_server: LiveServer
) -> None:
    agent = Agent(browser, live_server.url)
    agent.set_up_first_admin()
    token = agent.page.evaluate("() => sessionStorage.getItem('chatcore.console.token')")
    assert token, "the console keeps its token in sessionStorage"
    assert token not in agent.page.url
    with httpx.Client(base_url=live_server.url) as client:
        me = client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200

    agent.page.goto(live_server.url + "/console#/admin/faqs")
    expect(agent.page.get_by_test_id("admin-faqs")).to_be_visible(timeout=WAIT_MS)
    agent.add_quick_question(
        "gift-cards",
        question="Do you sell gift cards?",
        answer="Yes: from 10 to 200 dollars, by email.",
    )
    expect(agent.page.get_by_test_id("faq-row").filter(has_text="gift-cards")).to_have_count(
        1, timeout=WAIT_MS
    )

    customer = Customer(browser, live_server.url)
    customer.open_chat()
    chip = customer.page.get_by_test_id("quick-question").filter(has_text="gift cards")
    chip.click()
    expect(customer.messages().filter(has_text="from 10 to 200 dollars")).to_have_count(
        1, timeout=WAIT_MS
    )

    agent.page.get_by_test_id("logout").click()
    expect(agent.page.get_by_test_id("login-form")).to_be_visible(timeout=WAIT_MS)
    assert agent.page.evaluate("() => sessionStorage.length") == 0
    with httpx.Client(base_url=live_server.url) as client:
        after = client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"})
        assert after.status_code == 401

"""After a network loss the console resyncs the open conversation and the lists by itself."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from support.browser_people import ADMIN_NAME, WAIT_MS, Agent
from support.servers import LiveServer


def test_messages_sent_while_the_console_was_offline_show_once_it_is_back(
    browser: Browser, live_server: LiveServer
) -> None:
    agent = Agent(browser, live_server.url)
    agent.set_up_first_admin()
    agent.go_online()
    with httpx.Client(base_url=live_server.url) as client:
        started = client.post("/api/v1/customer/conversations/start").json()
        session, x = started["customer_session_id"], started["conversation"]["id"]
        headers = {"X-Customer-Session-Id": session}
        escalated = client.post(f"/api/v1/customer/conversations/{x}/escalate", headers=headers)
        assert escalated.status_code == 200, escalated.text
        assert escalated.json()["assigned_agent"]["display_name"] == ADMIN_NAME
        agent.open_first("tab-mine")
        expect(agent.view_messages()).to_have_count(2, timeout=WAIT_MS)  # greeting, joined

        agent.context.set_offline(True)
        expect(agent.page.get_by_test_id("status-line")).not_to_have_attribute(
            "data-state", "online", timeout=WAIT_MS
        )
        for n in range(3):
            body = {"body": f"Are you there? ({n + 1})"}
            client.post(f"/api/v1/customer/conversations/{x}/messages", headers=headers, json=body)
        second = client.post("/api/v1/customer/conversations/start").json()
        agent.context.set_offline(False)

    expect(agent.page.get_by_test_id("status-line")).to_have_attribute(
        "data-state", "online", timeout=WAIT_MS * 3
    )
    expect(agent.view_messages()).to_have_count(5, timeout=WAIT_MS)
    seqs = agent.view_messages().evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == [1, 2, 3, 4, 5]
    # The list resynced too: the chat started while offline is in the Bot list.
    agent.page.get_by_test_id("tab-bot").click()
    fresh = agent.page.locator(
        f"[data-testid=conversation-item][data-id='{second['conversation']['id']}']"
    )
    expect(fresh).to_have_count(1, timeout=WAIT_MS)

"""A whole support case, as two people would play it: a customer on the demo shop and an agent
in the console, each in their own browser context, everything arriving live."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from support.browser_people import ADMIN_NAME, WAIT_MS, Agent, Customer
from support.servers import LiveServer


def test_quick_reply_to_close_with_everything_live(
    browser: Browser, live_server: LiveServer, shots: Path
) -> None:
    agent = Agent(browser, live_server.url)
    agent.set_up_first_admin()
    agent.go_online()

    customer = Customer(browser, live_server.url, viewport={"width": 1280, "height": 800})
    customer.open_chat()
    greeting = customer.messages().first
    expect(greeting).to_contain_text("virtual assistant")

    # A quick question: the question as the customer's message, then the bot's answer.
    chip = customer.page.get_by_test_id("quick-question").filter(has_text="Where is my order?")
    chip.click()
    expect(customer.messages().filter(has_text="Track shipment")).to_have_count(1, timeout=WAIT_MS)
    # Free text: the bot answers from the FAQ.
    customer.say("Can I get a refund?")
    expect(customer.messages().filter(has_text="30 days")).to_have_count(1, timeout=WAIT_MS)
    customer.shot(shots, "widget-bot.png")

    # "Talk to an agent": the agent sees the assignment live, the customer sees the agent.
    customer.page.get_by_test_id("talk-to-agent").click()
    expect(customer.page.get_by_test_id("agent-name")).to_have_text(ADMIN_NAME, timeout=WAIT_MS)
    expect(customer.page.get_by_test_id("agent-presence")).to_contain_text("online")
    agent.page.get_by_test_id("tab-mine").click()
    expect(agent.page.get_by_test_id("conversation-item")).to_have_count(1, timeout=WAIT_MS)
    agent.open_first("tab-mine")
    expect(agent.view_messages().filter(has_text="Can I get a refund?")).to_have_count(1)

    # Typing both ways.
    agent_composer = agent.page.get_by_test_id("conversation-view").get_by_test_id("composer")
    agent_composer.press_sequentially("Let me", delay=30)
    expect(customer.page.get_by_test_id("typing")).to_be_visible(timeout=WAIT_MS)
    customer.page.get_by_test_id("composer").press_sequentially("Thanks", delay=30)
    expect(agent.page.get_by_test_id("customer-typing")).to_be_visible(timeout=WAIT_MS)

    # Messages both ways.
    agent_composer.fill("Hi, I am Alice. Your refund is on its way.")
    agent_composer.press("Enter")
    expect(customer.messages().filter(has_text="Your refund is on its way")).to_have_count(
        1, timeout=WAIT_MS
    )
    expect(customer.page.get_by_test_id("typing")).to_be_hidden(timeout=WAIT_MS)
    customer.page.get_by_test_id("composer").fill("Thank you, Alice!")
    customer.page.get_by_test_id("composer").press("Enter")
    expect(agent.view_messages().filter(has_text="Thank you, Alice!")).to_have_count(
        1, timeout=WAIT_MS
    )
    customer.shot(shots, "widget-agent.png")
    agent.shot(shots, "console-conversation.png")

    # The agent closes; the customer sees it closed, with a way to start again.
    agent.page.get_by_test_id("close-conversation").click()
    expect(customer.page.get_by_test_id("closed-banner")).to_be_visible(timeout=WAIT_MS)
    expect(customer.page.get_by_test_id("start-again")).to_be_visible()
    customer.shot(shots, "widget-closed.png")

    assert customer.dialogs == []
    assert agent.dialogs == []
    assert _dense(customer.seqs())


def _dense(seqs: list[int]) -> bool:
    return seqs == list(range(1, len(seqs) + 1))

"""The widget keeps its conversation across a reload, never doubles a message, and fills a phone."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from support.browser_people import WAIT_MS, Customer
from support.servers import LiveServer


def test_a_reload_mid_chat_brings_every_message_back_once(
    browser: Browser, live_server: LiveServer
) -> None:
    customer = Customer(browser, live_server.url)
    customer.open_chat()
    customer.page.get_by_test_id("quick-question").first.click()
    customer.say("How long does shipping take?")
    expect(customer.messages()).to_have_count(5, timeout=WAIT_MS)
    before = customer.messages().all_inner_texts()

    customer.page.reload()
    customer.page.get_by_test_id("launcher").click()
    expect(customer.messages()).to_have_count(5, timeout=WAIT_MS)
    assert customer.messages().all_inner_texts() == before
    assert customer.seqs() == [1, 2, 3, 4, 5]

    # And the chat goes on where it was: the next message is seq 6 and 7, once each.
    customer.say("Thanks")
    expect(customer.messages()).to_have_count(7, timeout=WAIT_MS)
    assert customer.seqs() == [1, 2, 3, 4, 5, 6, 7]


def test_on_a_phone_the_open_chat_fills_the_screen(
    browser: Browser, live_server: LiveServer, shots: Path
) -> None:
    customer = Customer(
        browser, live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    customer.open_chat()
    panel = customer.page.get_by_test_id("panel")
    # The panel slides in: wait for it to come to rest, then it must cover the screen.
    settled = None
    for _ in range(100):
        box = panel.bounding_box()
        assert box is not None
        if box == settled:
            break
        settled = box
        customer.page.wait_for_timeout(50)
    assert settled is not None
    assert (round(settled["x"]), round(settled["y"])) == (0, 0)
    assert (round(settled["width"]), round(settled["height"])) == (390, 844)
    customer.shot(shots, "widget-phone.png")

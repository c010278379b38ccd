"""Playing the two sides of a support chat in a browser: a customer on the demo shop, an agent
in the console. Locators pierce the widget's open shadow root by themselves."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Dialog, Locator, expect

ADMIN_EMAIL = "alice@example.com"
ADMIN_PASSWORD = "correct-horse-42"
ADMIN_NAME = "Alice"
WAIT_MS = 10_000


class Person:
    """Someone at a browser of their own: a context, a page, and the dialogs they saw
    (dismissed, so a test never hangs on one)."""

    def __init__(self, browser: Browser, url: str, **context: object) -> None:
        self.context = browser.new_context(**context)  # type: ignore[arg-type]
        self.page = self.context.new_page()
        self.url = url
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dismiss)

    def _dismiss(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


class Customer(Person):
    def open_chat(self) -> None:
        self.page.goto(self.url + "/demo")
        self.page.get_by_test_id("launcher").click()
        expect(self.page.get_by_test_id("panel")).to_be_visible(timeout=WAIT_MS)
        expect(self.messages().first).to_be_visible(timeout=WAIT_MS)

    def messages(self) -> Locator:
        return self.page.get_by_test_id("messages").get_by_test_id("message")

    def say(self, text: str) -> None:
        composer = self.page.get_by_test_id("composer")
        composer.fill(text)
        composer.press("Enter")

    def seqs(self) -> list[int]:
        items = self.page.get_by_test_id("messages").get_by_test_id("message")
        return [int(s) for s in items.evaluate_all("els => els.map(e => e.dataset.seq)") if s]

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / name))


class Agent(Person):
    def __init__(self, browser: Browser, url: str) -> None:
        super().__init__(browser, url, viewport={"width": 1280, "height": 800})

    def add_quick_question(self, slug: str, *, question: str, answer: str) -> None:
        """On the admin page of quick questions (already open), add one."""
        self.page.get_by_test_id("faq-slug").fill(slug)
        self.page.get_by_test_id("faq-question").fill(question)
        self.page.get_by_test_id("faq-answer").fill(answer)
        self.page.get_by_test_id("faq-submit").click()

    def set_up_first_admin(self) -> None:
        self.page.goto(self.url + "/console")
        form = self.page.get_by_test_id("setup-form")
        expect(form).to_be_visible(timeout=WAIT_MS)
        self.page.get_by_test_id("setup-email").fill(ADMIN_EMAIL)
        self.page.get_by_test_id("setup-name").fill(ADMIN_NAME)
        self.page.get_by_test_id("setup-password").fill(ADMIN_PASSWORD)
        self.page.get_by_test_id("setup-submit").click()
        expect(self.page.get_by_test_id("presence-select")).to_be_visible(timeout=WAIT_MS)

    def go_online(self) -> None:
        select = self.page.get_by_test_id("presence-select")
        select.select_option("online")
        expect(select).to_have_value("online")
        # The <select> shows "online" the moment it is picked, before the POST has even left
        # the browser; a chat escalated before the server stores it finds no agent (409).
        # The dot follows the server's answer, and the select is enabled again after it.
        dot = self.page.locator("#presence-dot")
        expect(dot).to_have_class(re.compile(r"\bdot-online\b"), timeout=WAIT_MS)
        expect(select).to_be_enabled(timeout=WAIT_MS)

    def open_first(self, tab: str) -> None:
        self.page.get_by_test_id(tab).click()
        item = self.page.get_by_test_id("conversation-item").first
        expect(item).to_be_visible(timeout=WAIT_MS)
        item.click()
        expect(self.page.get_by_test_id("conversation-view")).to_be_visible(timeout=WAIT_MS)

    def view_messages(self) -> Locator:
        return self.page.get_by_test_id("view-messages").get_by_test_id("message")

    def say(self, text: str) -> None:
        composer = self.page.get_by_test_id("conversation-view").get_by_test_id("composer")
        composer.fill(text)
        composer.press("Enter")

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / name))

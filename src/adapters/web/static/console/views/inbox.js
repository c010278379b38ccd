// The three lists (Bot, Mine, Closed): tabs with unread badges, items with the
// last message's preview, newest activity first, and the tab title's count.

import { api, describeError } from "../api.js";
import { $, $$, el, formatTime, fullTime, setText, show } from "../dom.js";
import * as store from "../store.js";

const TITLE = "chatcore console";
const EMPTY = {
  automated: "No conversations with the bot right now.",
  agent: "No conversations assigned to you.",
  closed: "No closed conversations yet.",
};

const items = new Map(); // id → <li>

export function initInbox() {
  const tabs = $$(".tabs .tab");
  for (const tab of tabs) {
    tab.addEventListener("click", () => store.setTab(tab.dataset.status));
    tab.addEventListener("keydown", (event) => {
      const index = tabs.indexOf(tab);
      let next = null;
      if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
      else if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
      else if (event.key === "Home") next = tabs[0];
      else if (event.key === "End") next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        next.focus();
        store.setTab(next.dataset.status);
      }
    });
  }
  $("#list-more").addEventListener("click", loadMore);
  store.onChange(renderInbox);
}

async function loadMore() {
  const status = store.state.tab;
  const cursor = store.state.cursors[status];
  if (!cursor) return;
  const button = $("#list-more");
  button.disabled = true;
  try {
    store.appendPage(status, await api.conversations(status, cursor));
    show($("#list-error"), false);
  } catch (error) {
    const slot = $("#list-error");
    slot.textContent = describeError(error);
    show(slot, true);
  } finally {
    button.disabled = false;
  }
}

function senderPrefix(message) {
  const sender = message.sender || {};
  const me = store.state.me;
  switch (sender.type) {
    case "bot":
      return "Bot: ";
    case "system":
      return "";
    case "agent":
      return me && sender.id === me.id ? "You: " : `${sender.display_name || "Agent"}: `;
    default:
      return "";
  }
}

function previewText(conversation) {
  const message = conversation.last_message;
  if (!message) return "No messages yet";
  const body = String(message.body || "").replace(/\s+/g, " ").trim();
  return senderPrefix(message) + (body.length > 160 ? `${body.slice(0, 160)}…` : body);
}

function customerName(conversation) {
  return (conversation.customer && conversation.customer.display_name) || "Customer";
}

function buildItem(id) {
  const name = el("span", { class: "item-name" });
  const time = el("time", { class: "item-time" });
  const preview = el("span", { class: "last-preview", testid: "last-preview" });
  const badge = el("span", { class: "badge", testid: "unread-badge", hidden: true }, "0");
  const holder = el("span", { class: "item-holder" });
  const link = el(
    "a",
    { class: "conv-item", href: `#/c/${encodeURIComponent(id)}`, testid: "conversation-item", dataset: { id } },
    el("span", { class: "item-top" }, name, time),
    el("span", { class: "item-bottom" }, preview, badge),
    holder,
  );
  const li = el("li", { class: "conv-li" }, link);
  li.parts = { link, name, time, preview, badge, holder };
  return li;
}

function updateItem(li, conversation) {
  const { link, name, time, preview, badge, holder } = li.parts;
  const unread = store.unreadOf(conversation.id);
  setText(name, customerName(conversation));
  const when = store.activity(conversation);
  setText(time, formatTime(when));
  time.setAttribute("datetime", when);
  time.title = fullTime(when);
  setText(preview, previewText(conversation));
  setText(badge, String(unread));
  badge.hidden = unread === 0;
  badge.setAttribute("aria-label", `${unread} unread`);
  link.classList.toggle("has-unread", unread > 0);
  const agent = conversation.assigned_agent;
  const me = store.state.me;
  const showHolder = agent && conversation.status !== "automated" && (!me || agent.id !== me.id);
  setText(holder, showHolder ? `with ${agent.display_name}` : "");
  holder.hidden = !showHolder;
  if (conversation.id === store.state.openId) link.setAttribute("aria-current", "page");
  else link.removeAttribute("aria-current");
}

export function renderInbox() {
  const state = store.state;
  // Tabs and their badges
  for (const tab of $$(".tabs .tab")) {
    const status = tab.dataset.status;
    const selected = status === state.tab;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    const count = store.unreadIn(status);
    const badge = tab.querySelector(".badge");
    setText(badge, String(count));
    badge.hidden = count === 0;
  }
  $("#conversation-panel").setAttribute("aria-labelledby", `tab-${{ automated: "bot", agent: "mine", closed: "closed" }[state.tab]}`);

  // The selected list, reusing elements so focus and scroll stay put
  const list = $("#conversation-list");
  const conversations = store.list(state.tab);
  const keep = new Set(conversations.map((c) => c.id));
  for (const [id, li] of items) {
    if (!keep.has(id)) {
      li.remove();
      items.delete(id);
    }
  }
  let cursor = list.firstElementChild;
  for (const conversation of conversations) {
    let li = items.get(conversation.id);
    if (!li) {
      li = buildItem(conversation.id);
      items.set(conversation.id, li);
    }
    updateItem(li, conversation);
    if (li !== cursor) list.insertBefore(li, cursor);
    else cursor = cursor.nextElementSibling;
  }
  const empty = $("#list-empty");
  setText(empty, state.loaded ? EMPTY[state.tab] : "Loading…");
  show(empty, conversations.length === 0);
  show($("#list-more"), Boolean(state.cursors[state.tab]));

  // Totals: the nav badge and the tab title
  const total = store.unreadTotal();
  const navBadge = $("#nav-unread");
  setText(navBadge, String(total));
  navBadge.hidden = total === 0;
  const title = total > 0 ? `(${total}) ${TITLE}` : TITLE;
  if (document.title !== title) document.title = title;
}

export function resetInbox() {
  for (const li of items.values()) li.remove();
  items.clear();
  document.title = TITLE;
}

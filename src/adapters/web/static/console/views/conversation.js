// The open conversation: history (newest page first, older on scroll), live
// messages keyed by seq (never twice), the composer, typing both ways, close.

import { api, ApiError, describeError, NetworkError } from "../api.js";
import { $, el, formatTime, fullTime, setText, show } from "../dom.js";
import * as store from "../store.js";

const PAGE = 50; // older messages per "load older"
const TAIL = 50; // how far back the first page starts
const TYPING_EVERY_MS = 2000;
const TYPING_IDLE_MS = 3000;
const CUSTOMER_TYPING_MAX_MS = 10000;
const SEND_RETRIES = 6;

let socket = null; // the AgentSocket, set by initConversation
let view = null; // state of the open conversation, or null

const dom = {};

export function initConversation(agentSocket) {
  socket = agentSocket;
  dom.section = $("#conversation-view");
  dom.placeholder = $("#no-conversation");
  dom.title = $("#conv-title");
  dom.meta = $("#conv-meta");
  dom.status = $("#conv-status");
  dom.close = $("#close-conversation");
  dom.scroller = $("#view-scroller");
  dom.older = $("#load-older");
  dom.log = $("#view-messages");
  dom.typing = $("#customer-typing");
  dom.error = $("#conv-error");
  dom.form = $("#composer-form");
  dom.composer = $("#composer");
  dom.send = $("#send");
  dom.note = $("#composer-note");

  dom.older.addEventListener("click", () => loadOlder());
  dom.scroller.addEventListener("scroll", () => {
    if (view && dom.scroller.scrollTop < 48 && !view.loadingOlder && minSeq() > 1 && view.ready) loadOlder();
  });
  dom.close.addEventListener("click", closeConversation);
  dom.form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendComposer();
  });
  dom.composer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey) {
      event.preventDefault();
      sendComposer();
    }
  });
  dom.composer.addEventListener("input", onComposerInput);
  dom.composer.addEventListener("blur", () => stopTyping());
  store.onChange(renderHeader);
}

// Opening and leaving

export function openConversation(id) {
  if (view && view.id === id) {
    renderHeader();
    return;
  }
  leaveConversation();
  const known = store.get(id);
  view = {
    id,
    generation: Symbol(id),
    knownLast: known ? known.last_seq || 0 : null,
    messages: new Map(), // seq → Message
    nodes: new Map(), // seq → <li>
    ready: false, // the first page is on screen
    loadingOlder: false,
    filling: false,
    awaitingSnapshot: false,
    tailFromSnapshot: false,
    typingSent: 0,
    typingActive: false,
    typingIdle: null,
    customerTypingTimer: null,
  };
  store.setOpen(id);
  dom.log.replaceChildren();
  dom.composer.value = "";
  showError("");
  setCustomerTyping(false);
  show(dom.placeholder, false);
  show(dom.section, true);
  renderHeader();

  if (view.knownLast !== null) loadTail(view.knownLast);
  subscribe();
}

export function leaveConversation() {
  if (!view) return;
  stopTyping();
  if (view.customerTypingTimer) window.clearTimeout(view.customerTypingTimer);
  if (socket) socket.send({ type: "unsubscribe", conversation_id: view.id });
  view = null;
  store.setOpen(null);
  dom.log.replaceChildren();
  show(dom.section, false);
  show(dom.placeholder, true);
}

export function openId() {
  return view ? view.id : null;
}

/** The socket is (re)connected: ask for what we missed. */
export function resync() {
  if (!view) return;
  if (view.messages.size === 0 && view.knownLast !== null && !view.ready) loadTail(view.knownLast);
  subscribe();
}

function subscribe() {
  if (!view || !socket) return;
  const shown = maxSeq();
  let after;
  if (shown > 0) after = shown;
  else if (view.knownLast !== null) after = view.knownLast;
  else {
    after = 0; // unknown length: the snapshot tells us last_seq, then we fetch the tail
    view.tailFromSnapshot = true;
  }
  view.awaitingSnapshot = socket.send({ type: "subscribe", conversation_id: view.id, after_seq: after });
}

// Frames

/** Returns true when the frame was about the open conversation. */
export function handleFrame(frame) {
  if (!view) return false;
  if (frame.type === "system.error") {
    if (view.awaitingSnapshot) {
      view.awaitingSnapshot = false;
      const data = frame.data || {};
      if (data.code === "forbidden" || data.code === "not_found") showError(data.message || "This conversation cannot be opened.");
    }
    return false;
  }
  if (frame.conversation_id !== view.id) return false;
  const data = frame.data || {};
  switch (frame.type) {
    case "system.subscribed":
      onSnapshot(data);
      return true;
    case "message.created":
      addMessages([data]);
      if (data.sender && data.sender.type === "customer") setCustomerTyping(false);
      return true;
    case "customer.typing":
      setCustomerTyping(Boolean(data.is_typing));
      return true;
    default:
      return false;
  }
}

function onSnapshot(data) {
  view.awaitingSnapshot = false;
  if (data.conversation) {
    store.applyConversation(data.conversation);
    if (view.knownLast === null) view.knownLast = data.conversation.last_seq || 0;
  }
  const messages = data.messages || [];
  if (view.tailFromSnapshot) {
    view.tailFromSnapshot = false;
    if (data.has_more) {
      // Hundreds of messages: show the newest page instead of the oldest ones.
      loadTail(view.knownLast || 0);
      return;
    }
    addMessages(messages);
    markReady();
    return;
  }
  addMessages(messages);
  if (data.has_more) fillGaps(true);
}

// Loading history

async function loadTail(lastSeq) {
  const current = view;
  const after = Math.max(0, lastSeq - TAIL);
  try {
    let from = after;
    for (;;) {
      const page = await api.messages(current.id, from, 100);
      if (view !== current) return;
      addMessages(page.items || []);
      const last = (page.items || []).at(-1);
      if (!page.has_more || !last) break;
      from = last.seq;
    }
    markReady();
  } catch (error) {
    if (view !== current) return;
    showError(`Could not load the messages: ${describeError(error)}`);
  }
}

function markReady() {
  if (!view) return;
  const first = !view.ready;
  view.ready = true;
  if (first) scrollToBottom();
  updateOlderButton();
  fillGaps(false);
}

async function loadOlder() {
  if (!view || view.loadingOlder) return;
  const first = minSeq();
  if (first <= 1) return;
  const current = view;
  current.loadingOlder = true;
  dom.older.disabled = true;
  setText(dom.older, "Loading…");
  const after = Math.max(0, first - PAGE - 1);
  try {
    const page = await api.messages(current.id, after, first - 1 - after);
    if (view !== current) return;
    const before = dom.scroller.scrollHeight;
    const top = dom.scroller.scrollTop;
    addMessages((page.items || []).filter((m) => m.seq < first), { scroll: false });
    dom.scroller.scrollTop = top + (dom.scroller.scrollHeight - before);
  } catch (error) {
    if (view === current) showError(`Could not load older messages: ${describeError(error)}`);
  } finally {
    current.loadingOlder = false;
    dom.older.disabled = false;
    setText(dom.older, "Load older messages");
    if (view === current) updateOlderButton();
  }
}

/** Fetch any seq missing between the oldest and newest shown (or after the newest). */
async function fillGaps(forward) {
  if (!view || view.filling) return;
  const current = view;
  current.filling = true;
  try {
    let hole = firstHole();
    let from = hole !== null ? hole : forward ? maxSeq() : null;
    while (from !== null && view === current) {
      const page = await api.messages(current.id, from, 500);
      if (view !== current) return;
      const items = page.items || [];
      addMessages(items);
      const last = items.at(-1);
      if (page.has_more && last) {
        from = last.seq;
        continue;
      }
      hole = firstHole();
      from = hole !== null && hole >= (last ? last.seq : from) ? hole : null;
    }
  } catch {
    /* the next reconnect or message retries */
  } finally {
    current.filling = false;
  }
}

function firstHole() {
  if (!view || view.messages.size === 0) return null;
  const low = minSeq();
  const high = maxSeq();
  for (let seq = low; seq < high; seq += 1) {
    if (!view.messages.has(seq + 1)) return seq;
  }
  return null;
}

function minSeq() {
  if (!view || view.messages.size === 0) return 0;
  let low = Infinity;
  for (const seq of view.messages.keys()) if (seq < low) low = seq;
  return low;
}

function maxSeq() {
  if (!view || view.messages.size === 0) return 0;
  let high = 0;
  for (const seq of view.messages.keys()) if (seq > high) high = seq;
  return high;
}

function updateOlderButton() {
  show(dom.older, Boolean(view && view.ready && minSeq() > 1));
}

// Rendering messages

function senderLabel(message) {
  const sender = message.sender || {};
  const me = store.state.me;
  switch (sender.type) {
    case "bot":
      return "Bot";
    case "system":
      return "System";
    case "agent":
      return me && sender.id === me.id ? `${sender.display_name || "Agent"} (you)` : sender.display_name || "Agent";
    default:
      return sender.display_name || "Customer";
  }
}

function messageNode(message) {
  const sender = (message.sender && message.sender.type) || "customer";
  const me = store.state.me;
  const own = sender === "agent" && me && message.sender.id === me.id;
  const time = el("time", { class: "msg-time", datetime: message.created_at, title: fullTime(message.created_at) }, formatTime(message.created_at));
  const label = el("span", { class: "msg-sender" }, senderLabel(message));
  const body = el("p", { class: "msg-body" });
  body.textContent = message.body; // text, never markup
  return el(
    "li",
    {
      class: `msg msg-${sender}${own ? " msg-own" : ""}`,
      testid: "message",
      dataset: { seq: String(message.seq), sender },
    },
    el("div", { class: "msg-meta" }, label, " ", time),
    body,
  );
}

function addMessages(messages, { scroll = true } = {}) {
  if (!view || !messages.length) return;
  const stick = isNearBottom();
  let appendedAtEnd = false;
  let ownAppended = false;
  const me = store.state.me;
  for (const message of messages) {
    if (message.conversation_id && message.conversation_id !== view.id) continue;
    const seq = message.seq;
    if (!Number.isInteger(seq) || view.messages.has(seq)) continue; // never twice
    const wasMax = maxSeq();
    view.messages.set(seq, message);
    const node = messageNode(message);
    view.nodes.set(seq, node);
    if (seq > wasMax) {
      dom.log.append(node);
      appendedAtEnd = true;
      if (message.sender && message.sender.type === "agent" && me && message.sender.id === me.id) ownAppended = true;
    } else {
      // Find the first shown message with a larger seq and go before it.
      let next = null;
      for (const child of dom.log.children) {
        if (Number(child.dataset.seq) > seq) {
          next = child;
          break;
        }
      }
      dom.log.insertBefore(node, next);
    }
    store.applyMessage(message, { live: false });
  }
  store.markRead(view.id, maxSeq());
  if (view.knownLast === null || maxSeq() > view.knownLast) view.knownLast = maxSeq();
  if (scroll && appendedAtEnd && (stick || ownAppended || !view.ready)) scrollToBottom();
  updateOlderButton();
  if (view.ready && firstHole() !== null) fillGaps(false);
}

function isNearBottom() {
  const s = dom.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

function scrollToBottom() {
  dom.scroller.scrollTop = dom.scroller.scrollHeight;
}

// Header, composer state

function renderHeader() {
  if (!view) return;
  const conversation = store.get(view.id);
  if (!conversation) {
    setText(dom.title, "Conversation");
    setText(dom.meta, "");
    setText(dom.status, "");
    show(dom.close, false);
    setComposerEnabled(false, "Loading…");
    return;
  }
  const customer = conversation.customer || {};
  setText(dom.title, customer.display_name || "Customer");
  const parts = [];
  if (customer.email) parts.push(customer.email);
  const agent = conversation.assigned_agent;
  if (agent) parts.push(`${conversation.status === "closed" ? "was with" : "with"} ${agent.display_name}${agent.presence && conversation.status === "agent" ? ` (${agent.presence})` : ""}`);
  if (conversation.created_at) parts.push(`started ${formatTime(conversation.created_at)}`);
  setText(dom.meta, parts.join(" · "));
  const statusText = { automated: "Bot", agent: "With agent", closed: "Closed" }[conversation.status] || conversation.status;
  setText(dom.status, statusText);
  dom.status.className = `pill pill-${conversation.status}`;
  show(dom.close, store.canClose(conversation));

  const me = store.state.me;
  let note = "";
  if (conversation.status === "automated") note = "The bot is handling this conversation; the customer can ask for a person.";
  else if (conversation.status === "closed") note = "This conversation is closed.";
  else if (!store.canWrite(conversation)) note = `${agent ? agent.display_name : "Another agent"} holds this conversation${me && me.role === "admin" ? "; as an admin you may close it" : ""}.`;
  setComposerEnabled(store.canWrite(conversation), note);
  if (conversation.status !== "agent") setCustomerTyping(false);
}

function setComposerEnabled(enabled, note) {
  if (dom.composer.disabled === enabled) dom.composer.disabled = !enabled;
  dom.send.disabled = !enabled;
  setText(dom.note, note || "Enter sends · Shift+Enter adds a new line");
  if (!enabled) stopTyping();
}

function setCustomerTyping(on) {
  if (!view) {
    show(dom.typing, false);
    return;
  }
  if (view.customerTypingTimer) window.clearTimeout(view.customerTypingTimer);
  view.customerTypingTimer = null;
  show(dom.typing, on);
  if (on) view.customerTypingTimer = window.setTimeout(() => setCustomerTyping(false), CUSTOMER_TYPING_MAX_MS);
}

function showError(message) {
  setText(dom.error, message);
  show(dom.error, Boolean(message));
}

// Typing (ours)

function onComposerInput() {
  if (!view) return;
  const conversation = store.get(view.id);
  if (!store.canWrite(conversation)) return;
  if (!dom.composer.value.trim()) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (!view.typingActive || now - view.typingSent >= TYPING_EVERY_MS) {
    if (socket && socket.send({ type: "typing", conversation_id: view.id, is_typing: true })) {
      view.typingSent = now;
      view.typingActive = true;
    }
  }
  if (view.typingIdle) window.clearTimeout(view.typingIdle);
  view.typingIdle = window.setTimeout(() => stopTyping(), TYPING_IDLE_MS);
}

function stopTyping() {
  if (!view) return;
  if (view.typingIdle) window.clearTimeout(view.typingIdle);
  view.typingIdle = null;
  if (view.typingActive) {
    view.typingActive = false;
    view.typingSent = 0;
    if (socket) socket.send({ type: "typing", conversation_id: view.id, is_typing: false });
  }
}

// Sending and closing

function newId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

function sendComposer() {
  if (!view) return;
  const conversation = store.get(view.id);
  if (!store.canWrite(conversation)) return;
  const text = dom.composer.value;
  if (!text.trim()) return;
  stopTyping();
  dom.composer.value = "";
  showError("");
  deliver(view, text, newId());
}

/** POST the message; on network failure retry with the same client_message_id. */
async function deliver(current, text, clientMessageId) {
  // Shown below the log until the server has it: it is not a message (no seq) yet.
  const pending = el(
    "div",
    { class: "msg msg-agent msg-own msg-pending" },
    el("div", { class: "msg-meta" }, el("span", { class: "msg-sender" }, "Sending…")),
    el("p", { class: "msg-body", text }),
  );
  dom.scroller.append(pending);
  scrollToBottom();
  for (let attempt = 0; ; attempt += 1) {
    try {
      const answer = await api.send(current.id, text, clientMessageId);
      pending.remove();
      if (view === current && answer && answer.message) addMessages([answer.message]);
      else if (answer && answer.message) store.applyMessage(answer.message, { live: false });
      return;
    } catch (error) {
      if (error instanceof NetworkError && attempt < SEND_RETRIES) {
        setText(pending.querySelector(".msg-sender"), "Not sent yet — retrying…");
        await sleep(Math.min(8000, 500 * 2 ** attempt));
        continue;
      }
      pending.remove();
      if (view !== current) return;
      if (error instanceof NetworkError) {
        showRetry(current, text, clientMessageId);
      } else {
        showError(`Not sent: ${describeError(error)}`);
        if (!dom.composer.value) dom.composer.value = text;
        if (error instanceof ApiError && (error.status === 403 || error.status === 409)) {
          // The conversation moved on (closed or handed over); the next update shows it.
          renderHeader();
        }
      }
      return;
    }
  }
}

function showRetry(current, text, clientMessageId) {
  const retry = el("button", { type: "button", class: "btn btn-quiet" }, "Retry");
  const item = el(
    "div",
    { class: "msg msg-agent msg-own msg-pending msg-failed", role: "alert" },
    el("div", { class: "msg-meta" }, el("span", { class: "msg-sender" }, "Not sent: the server could not be reached."), " ", retry),
    el("p", { class: "msg-body", text }),
  );
  retry.addEventListener("click", () => {
    item.remove();
    if (view === current) deliver(current, text, clientMessageId); // same id: never a duplicate
  });
  dom.scroller.append(item);
  scrollToBottom();
}

async function closeConversation() {
  if (!view) return;
  const current = view;
  dom.close.disabled = true;
  try {
    const conversation = await api.close(current.id);
    store.applyConversation(conversation);
  } catch (error) {
    if (view === current) showError(`Could not close: ${describeError(error)}`);
  } finally {
    dom.close.disabled = false;
  }
}

// Message bubbles: stored ones in seq order, labelled per run of one sender,
// and the customer's own while they are on their way.

import { el } from "../dom.js";

const SENDER_TYPES = ["customer", "bot", "agent", "system"];

function timeOf(iso) {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function fullTimeOf(iso) {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? "" : d.toLocaleString();
}

function senderKey(row) {
  return row ? row._sender + ":" + (row._senderId || "") : "";
}

export function messageRow(msg) {
  let type = (msg.sender && msg.sender.type) || "system";
  if (!SENDER_TYPES.includes(type)) type = "system";
  const bubble = el("div", {
    class: "bubble",
    "data-testid": "message",
    "data-seq": String(msg.seq),
    "data-sender": type,
    title: fullTimeOf(msg.created_at),
    text: msg.body,
  });
  const row = el("div", { class: "row " + type }, [bubble]);
  row._seq = msg.seq;
  row._sender = type;
  row._senderId = msg.sender && msg.sender.id;
  row._name = (msg.sender && msg.sender.display_name) || (type === "bot" ? "Assistant" : "");
  row._time = timeOf(msg.created_at);
  return row;
}

/** The customer's message before the server stored it: it sorts last until then. */
export function pendingRow(body) {
  const bubble = el("div", {
    class: "bubble",
    "data-testid": "message",
    "data-sender": "customer",
    "data-pending": "true",
    text: body,
  });
  const state = el("div", { class: "state", text: "Sending…" });
  const row = el("div", { class: "row customer pending" }, [bubble, state]);
  row._seq = Infinity;
  row._sender = "customer";
  row._state = state;
  return row;
}

export function showPendingState(row, text, onRetry) {
  const st = row._state;
  st.textContent = "";
  st.classList.toggle("failed", Boolean(onRetry));
  st.appendChild(document.createTextNode(text));
  if (onRetry) {
    const retry = el("button", { type: "button", class: "linkish", text: "Retry" });
    retry.addEventListener("click", onRetry);
    st.appendChild(document.createTextNode(" "));
    st.appendChild(retry);
  }
}

// A label ("Alice · 14:05") above the first bubble of a run from the same bot or agent.
export function refreshLabel(row) {
  if (!row || row._seq === undefined) return;
  const prev = row.previousElementSibling;
  const first = !prev || senderKey(prev) !== senderKey(row);
  row.classList.toggle("first", first);
  const wantsLabel = first && (row._sender === "bot" || row._sender === "agent");
  if (wantsLabel && !row._label) {
    row._label = el("div", { class: "label", text: row._name + (row._time ? " · " + row._time : "") });
    row.insertBefore(row._label, row.firstChild);
  } else if (!wantsLabel && row._label) {
    row.removeChild(row._label);
    row._label = null;
  }
}

/** Put `row` in seq order (pending rows stay last) and fix the labels around it. */
export function insertRow(log, row) {
  let before = null;
  for (let n = log.lastElementChild; n; n = n.previousElementSibling) {
    if (n._seq > row._seq) before = n;
    else break;
  }
  log.insertBefore(row, before);
  refreshLabel(row);
  refreshLabel(row.nextElementSibling);
}

export function appendRow(log, row) {
  log.appendChild(row);
  refreshLabel(row);
}

// The customer's messages on their way: shown at once, POSTed with retries
// under one client_message_id (so the server stores each at most once), and
// replaced by the stored message when it comes back.

import { backoffDelay } from "../shared/socket.js";
import { BODY_MAX, SEND_ATTEMPTS } from "./config.js";
import { catchUpIfOffline, refreshConversation } from "./actions.js";
import { clientMessageId } from "./state.js";
import { conversationPath } from "./transport.js";
import { appendRow, pendingRow, showPendingState } from "./views/messages.js";

export class Outbox {
  constructor(w) {
    this.w = w;
  }

  get pending() {
    return this.w.s.pending;
  }

  sendFromComposer() {
    const w = this.w;
    const input = w.e.input;
    let body = input.value;
    if (!body.trim()) return;
    if (w.s.conversation && w.s.conversation.status === "closed") return;
    if (body.length > BODY_MAX) body = body.slice(0, BODY_MAX);
    input.value = "";
    w.composerChanged();
    w.live.stopSelfTyping();
    const p = { cmid: clientMessageId(), body, row: pendingRow(body), attempt: 0, timer: null, inflight: false, failed: false };
    this.pending.set(p.cmid, p);
    appendRow(w.e.log, p.row);
    w.scrollToBottom();
    this.post(p);
  }

  show(p, text) {
    showPendingState(p.row, text, null);
  }

  markFailed(p, text) {
    if (!this.pending.has(p.cmid)) return;
    p.failed = true;
    showPendingState(p.row, text, () => {
      p.attempt = 0;
      this.post(p);
    });
  }

  drop(p) {
    clearTimeout(p.timer);
    this.pending.delete(p.cmid);
    if (p.row.parentNode) p.row.parentNode.removeChild(p.row);
  }

  /** The conversation is being forgotten: stop every retry (the rows go with the log). */
  clear() {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  /** Back online, back to the tab, socket back: retry what waits now, not after its backoff. */
  wake() {
    for (const p of this.pending.values()) {
      if (!p.inflight && (p.failed || p.timer)) {
        p.attempt = 0;
        this.post(p);
      }
    }
  }

  post(p) {
    const w = this.w;
    const s = w.s;
    if (!this.pending.has(p.cmid) || p.inflight) return;
    clearTimeout(p.timer);
    p.timer = null;
    if (!s.conversationId) {
      this.show(p, "Sending…");
      w.ensureConversation().then(
        () => {
          if (this.pending.has(p.cmid)) this.post(p);
        },
        () => this.markFailed(p, "Not sent."),
      );
      return;
    }
    p.failed = false;
    p.inflight = true;
    p.attempt++;
    this.show(p, p.attempt > 1 ? "Retrying…" : "Sending…");
    const body = { body: p.body, client_message_id: p.cmid };
    w.call("POST", conversationPath(s.conversationId, "/messages"), body).then(
      (res) => {
        p.inflight = false;
        if (!this.pending.has(p.cmid) && !res.ok) return;
        if (res.ok && res.data && res.data.message) {
          w.ingest(res.data.message);
          for (const m of res.data.replies || []) w.ingest(m);
          catchUpIfOffline(w);
        } else if (res.status === 429 || res.status === 503 || res.status >= 500) {
          const wait = res.retryAfter !== null ? res.retryAfter * 1000 : backoffDelay(p.attempt);
          this.retryLater(p, Math.min(wait, 60000), "Waiting to send…");
        } else if (res.status === 409) {
          this.markFailed(p, "Not sent: this conversation has ended.");
          refreshConversation(w);
        } else if (res.status === 403 || res.status === 404) {
          w.conversationGone();
        } else {
          this.markFailed(p, "Not sent: " + (res.message || "please try again") + ".");
        }
      },
      () => {
        p.inflight = false;
        this.retryLater(p, backoffDelay(p.attempt), "No connection. Retrying…");
      },
    );
  }

  retryLater(p, ms, text) {
    if (p.attempt >= SEND_ATTEMPTS) {
      this.markFailed(p, "Not sent.");
      return;
    }
    this.show(p, text);
    p.timer = setTimeout(() => {
      p.timer = null;
      this.post(p);
    }, ms);
  }
}

// The widget: one chat with the support team, in the shadow root of <chatcore-widget>.
// This file holds the state, the panel and the conversation's life (start, show
// messages, end); actions.js, outbox.js and live.js do the talking to the server.

/* global WIDGET_CSS -- widget.css as a string, put in front of the modules by widget_bundle.py */

import { ACCENT, SERVER, STORAGE_KEY, TITLE } from "./config.js";
import { adoptStyles, isHiddenIn } from "./dom.js";
import { askQuick, loadQuickQuestions } from "./actions.js";
import { LiveLink } from "./live.js";
import { Outbox } from "./outbox.js";
import {
  createChatState,
  forCurrentConversation,
  forgetConversation,
  isOlderConversation,
  patchedConversation,
  readStoredChat,
  recordSeq,
  writeStoredChat,
} from "./state.js";
import { NetworkError, START_PATH, customerApi } from "./transport.js";
import { insertRow, messageRow } from "./views/messages.js";
import { buildWidget } from "./views/panel.js";
import { renderSendEnabled, renderWidget } from "./views/render.js";
import { wireEvents } from "./views/events.js";

function browserStorage() {
  try {
    return window.localStorage;
  } catch {
    return null; // blocked (sandboxed frame): readStoredChat and writeStoredChat cope
  }
}

export class ChatWidget {
  constructor(host) {
    this.host = host;
    this.root = host.shadowRoot || host.attachShadow({ mode: "open" });
    this.s = createChatState(readStoredChat(browserStorage(), STORAGE_KEY));
    this.api = customerApi(SERVER);
    adoptStyles(this.root, WIDGET_CSS);
    if (ACCENT && window.CSS && window.CSS.supports && window.CSS.supports("color", ACCENT)) {
      host.style.setProperty("--cc-accent", ACCENT);
    }
    this.e = buildWidget(TITLE);
    this.root.appendChild(this.e.wrap);
    this.outbox = new Outbox(this);
    this.live = new LiveLink(this, SERVER);
    this.autoGrow = !(window.CSS && window.CSS.supports && window.CSS.supports("field-sizing", "content"));
    wireEvents(this);
    this.render();
    if (this.s.conversationId && this.s.sessionId) {
      this.s.historyLoading = true;
      this.live.connect();
    }
  }

  /** A customer API call for the conversation on screen; its answer is dropped if that changes. */
  call(method, path, body) {
    return forCurrentConversation(this.s, this.api(method, path, body, this.s.sessionId));
  }

  save() {
    writeStoredChat(browserStorage(), STORAGE_KEY, this.s);
  }

  // ---- open / close

  openPanel() {
    const s = this.s;
    s.open = true;
    s.unread = 0;
    this.render();
    this.scrollToBottom();
    if (!s.conversationId && !s.gone) this.ensureConversation().catch(() => {});
    this.focusBest();
  }

  close(returnFocus) {
    this.s.open = false;
    this.live.stopSelfTyping();
    this.render();
    if (returnFocus) this.e.launcher.focus();
  }

  focusBest() {
    const e = this.e;
    const target = !e.composer.hidden ? e.input : !e.closed.hidden ? e.startAgain : e.close;
    target.focus({ preventScroll: true });
  }

  // ---- showing

  render() {
    const e = this.e;
    const keep = this.nearBottom();
    const hadFocus = this.root.activeElement;
    renderWidget(this.s, e, { onAsk: (q) => askQuick(this, q) });
    // Never leave the keyboard user's focus on something that just disappeared.
    if (this.s.open && hadFocus && isHiddenIn(hadFocus, e.panel)) {
      if (hadFocus === e.talk && !e.noAgent.hidden) e.retryEscalate.focus();
      else if (!e.composer.hidden) e.input.focus();
      else if (!e.closed.hidden) e.startAgain.focus();
    }
    if (keep) this.scrollToBottom();
  }

  // The composer's text changed: typed, or cleared by sending.
  composerChanged() {
    const input = this.e.input;
    if (this.autoGrow) {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 120) + "px";
    }
    renderSendEnabled(this.s, this.e);
    if (input.value.trim()) this.live.noteSelfTyping();
    else this.live.stopSelfTyping();
  }

  nearBottom() {
    const sc = this.e && this.e.scroller;
    if (!sc || !this.s.open) return false;
    return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 80;
  }

  scrollToBottom() {
    const sc = this.e.scroller;
    sc.scrollTop = sc.scrollHeight;
  }

  showError(text, retry) {
    this.s.error = { text, retry: retry || null };
    this.render();
  }

  // Show one stored message: each seq once, in seq order; an optimistic bubble is replaced, not doubled.
  ingest(msg, history) {
    const s = this.s;
    if (!msg || typeof msg.seq !== "number" || msg.conversation_id !== s.conversationId) return;
    const p = msg.client_message_id ? s.pending.get(msg.client_message_id) : null;
    if (s.rows.has(msg.seq)) {
      if (p) this.outbox.drop(p);
      return;
    }
    const type = msg.sender && msg.sender.type;
    const keep = this.nearBottom() || type === "customer";
    const row = messageRow(msg);
    if (p) this.outbox.drop(p);
    insertRow(this.e.log, row);
    if (recordSeq(s, msg.seq, row)) this.save();
    if (type === "agent") this.live.agentSpoke(msg.sender.id);
    if (!history && !s.open && (type === "agent" || type === "bot")) {
      s.unread++;
      this.render();
    }
    if (keep && s.open) this.scrollToBottom();
  }

  applyConversation(conv) {
    const s = this.s;
    if (!conv || conv.id !== s.conversationId || isOlderConversation(s.conversation, conv)) return;
    this.takeConversation(conv);
    if (conv.status === "closed") this.live.stopSelfTyping();
    if (conv.status === "automated" && !s.quickLoaded) loadQuickQuestions(this);
    this.render();
  }

  patchConversation(patch) {
    if (!this.s.conversation) return;
    this.takeConversation(patchedConversation(this.s.conversation, patch));
    this.render();
  }

  takeConversation(conv) {
    this.s.conversation = conv;
    if (conv.status !== "automated") this.s.noAgent = false;
    if (conv.status !== "agent") this.live.hideAgentTyping(true);
  }

  // ---- the conversation's life

  ensureConversation() {
    const s = this.s;
    if (s.conversationId) return Promise.resolve(s.conversationId);
    if (s.starting) return s.starting;
    s.startError = false;
    s.error = null;
    s.starting = this.start(true).then(
      (id) => {
        s.starting = null;
        this.render();
        return id;
      },
      (err) => {
        s.starting = null;
        s.startError = true;
        this.showError(
          err instanceof NetworkError
            ? "We couldn't reach the chat right now. Please check your connection."
            : "Sorry, the chat could not be started.",
          () => this.ensureConversation().catch(() => {}),
        );
        throw err;
      },
    );
    this.render();
    return s.starting;
  }

  async start(mayDropSession) {
    const s = this.s;
    const res = await this.api("POST", START_PATH, {}, s.sessionId);
    if (res.status === 403 && s.sessionId && mayDropSession) {
      s.sessionId = null; // the server no longer knows our session: begin a fresh one
      return this.start(false);
    }
    if (!res.ok || !res.data || !res.data.conversation) throw new Error(res.message || "start failed");
    const d = res.data;
    s.sessionId = d.customer_session_id;
    s.conversationId = d.conversation.id;
    s.conversation = null;
    s.gone = false;
    this.applyConversation(d.conversation);
    if (Array.isArray(d.quick_questions)) {
      s.quickQuestions = d.quick_questions;
      s.quickLoaded = true;
    }
    for (const m of d.messages || []) this.ingest(m, true);
    this.save();
    this.live.connect();
    this.render();
    return s.conversationId;
  }

  // Forget everything about the current conversation (not the session).
  resetConversation() {
    this.live.disconnect();
    this.outbox.clear();
    this.live.hideAgentTyping(true);
    this.live.stopSelfTyping();
    forgetConversation(this.s);
    this.e.log.textContent = "";
  }

  startAgain() {
    const s = this.s;
    if (s.starting) return;
    this.resetConversation();
    s.gone = false;
    this.save();
    this.render();
    this.ensureConversation().then(
      () => {
        if (s.open) this.focusBest();
      },
      () => {},
    );
  }

  // The server says this conversation is not ours or not there (4403/4404, or 403/404 over REST).
  conversationGone() {
    const s = this.s;
    this.resetConversation();
    this.save();
    s.gone = s.open; // visible: say so and offer a new start; invisible: start fresh on next open
    this.render();
  }
}

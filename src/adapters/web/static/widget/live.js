// The live side of the chat over the shared socket client: the snapshot on
// (re)subscribe, frames as they come, the "Connection lost" line, and typing
// both ways.

import { AGENT_TYPING_SAFETY_MS, TYPING_IDLE_MS, TYPING_REFRESH_MS } from "./config.js";
import { pageMessages } from "./actions.js";
import { customerSocket } from "./transport.js";

const CONN_LINE_DELAY_MS = 2500; // a first quick reconnect is not worth a warning

export class LiveLink {
  constructor(w, server, env) {
    this.w = w;
    this.socket = customerSocket({
      server,
      chat: w.s,
      env,
      handlers: {
        onFrame: (frame) => this.onFrame(frame),
        onState: (state, detail) => this.onState(state, detail),
        onRefused: (code) => this.onRefused(code),
      },
    });
  }

  connect() {
    const s = this.w.s;
    if (s.conversationId && s.sessionId) this.socket.start();
  }

  disconnect() {
    this.socket.stop();
    this.setConnShown(false);
  }

  onState(state, detail) {
    const s = this.w.s;
    // "offline" with a string is the browser's offline event while the socket may live on.
    const retrying = (state === "retrying" || state === "offline") && typeof detail === "object";
    if (state === "online" || (state === "offline" && !retrying)) return;
    s.live = false; // until the next system.subscribed
    if (state === "connecting" || state === "stopped") return;
    this.hideAgentTyping();
    if (!retrying) return;
    if (detail.attempt > 1) this.setConnShown(true);
    else {
      clearTimeout(s.connTimer);
      s.connTimer = setTimeout(() => {
        if (!s.live && s.conversationId) this.setConnShown(true);
      }, CONN_LINE_DELAY_MS);
    }
  }

  onRefused(code) {
    if (code === 4401) this.w.showError("The chat connection was refused.", () => this.connect());
    else this.w.conversationGone();
  }

  setConnShown(shown) {
    const s = this.w.s;
    if (!shown) clearTimeout(s.connTimer);
    if (s.connShown === shown) return;
    s.connShown = shown;
    this.w.render();
  }

  send(frame) {
    return this.socket.send(frame);
  }

  onFrame(f) {
    const w = this.w;
    const s = w.s;
    const d = f.data || {};
    if (f.conversation_id && f.conversation_id !== s.conversationId) return;
    switch (f.type) {
      case "system.subscribed":
        this.subscribed(d);
        break;
      case "message.created":
        w.ingest(d);
        break;
      case "conversation.updated":
        w.applyConversation(d);
        break;
      case "agent.assigned":
        if (d.agent) w.patchConversation({ status: "agent", assigned_agent: d.agent });
        break;
      case "chat.closed":
        w.patchConversation({ status: "closed", closed_at: d.closed_at || null });
        this.stopSelfTyping();
        break;
      case "agent.presence.changed": {
        const c = s.conversation;
        if (c && c.assigned_agent && c.assigned_agent.id === d.agent_id) {
          const agent = { ...c.assigned_agent, presence: d.presence };
          if (d.display_name) agent.display_name = d.display_name;
          w.patchConversation({ assigned_agent: agent });
        }
        break;
      }
      case "agent.typing":
        if (d.is_typing) this.showAgentTyping(d);
        else if (!s.typingAgent || !d.agent_id || s.typingAgent.agent_id === d.agent_id) this.hideAgentTyping();
        break;
      default:
        break; // system.error, anything new: nothing to show
    }
  }

  // The server's snapshot after (re)subscribing: the conversation and what came after our after_seq.
  subscribed(d) {
    const w = this.w;
    const s = w.s;
    const history = s.historyLoading;
    s.live = true;
    clearTimeout(s.connTimer);
    w.applyConversation(d.conversation);
    const keep = w.nearBottom() || history;
    const msgs = Array.isArray(d.messages) ? d.messages : [];
    for (const m of msgs) w.ingest(m, history);
    const finish = () => {
      if (s.historyLoading) {
        s.historyLoading = false;
        w.render();
      }
      if (keep && s.open) w.scrollToBottom();
    };
    if (d.has_more) {
      const last = msgs.length ? msgs[msgs.length - 1].seq : s.contiguous;
      pageMessages(w, last, history).then(finish, finish);
    } else {
      finish();
    }
    this.setConnShown(false);
    if (s.pending.size) w.outbox.wake();
  }

  // ---- the agent's typing

  showAgentTyping(d) {
    const w = this.w;
    const s = w.s;
    const keep = w.nearBottom();
    s.typingAgent = { agent_id: d.agent_id, display_name: d.display_name };
    clearTimeout(s.typingTimer);
    s.typingTimer = setTimeout(() => this.hideAgentTyping(), AGENT_TYPING_SAFETY_MS);
    w.render();
    if (keep) w.scrollToBottom();
  }

  hideAgentTyping(quiet) {
    const s = this.w.s;
    clearTimeout(s.typingTimer);
    if (!s.typingAgent) return;
    s.typingAgent = null;
    if (!quiet) this.w.render();
  }

  /** A message from agent `agentId` arrived: they are done typing it. */
  agentSpoke(agentId) {
    const t = this.w.s.typingAgent;
    if (t && (!agentId || agentId === t.agent_id)) this.hideAgentTyping();
  }

  // ---- the customer's own typing

  noteSelfTyping() {
    const s = this.w.s;
    if (!s.conversation || s.conversation.status === "closed") return;
    const now = Date.now();
    if (!s.selfTyping || now - s.selfTypingAt >= TYPING_REFRESH_MS) {
      if (this.send({ type: "typing", is_typing: true })) {
        s.selfTyping = true;
        s.selfTypingAt = now;
      }
    }
    clearTimeout(s.selfIdleTimer);
    s.selfIdleTimer = setTimeout(() => this.stopSelfTyping(), TYPING_IDLE_MS);
  }

  stopSelfTyping() {
    const s = this.w.s;
    clearTimeout(s.selfIdleTimer);
    s.selfIdleTimer = null;
    if (s.selfTyping) {
      s.selfTyping = false;
      this.send({ type: "typing", is_typing: false });
    }
  }
}

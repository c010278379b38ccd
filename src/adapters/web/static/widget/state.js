// Everything the widget knows about its chat, declared in one place, and the
// rules for changing it that do not need the page.

/** The state of one widget; `stored` is what readStoredChat found from an earlier visit. */
export function createChatState(stored) {
  return {
    gen: 0, // bumps whenever the conversation changes: late answers for an old one are dropped
    sessionId: typeof stored.session_id === "string" ? stored.session_id : null,
    conversationId: typeof stored.conversation_id === "string" ? stored.conversation_id : null,
    conversation: null, // the server's conversation object, newest updated_at wins
    quickQuestions: [],
    quickLoaded: false,
    quickLoading: false,
    rows: new Map(), // seq -> row element
    contiguous: 0, // every seq 1..contiguous is on screen
    pending: new Map(), // client_message_id -> outgoing message (outbox.js)
    open: false,
    unread: 0,
    starting: null, // the promise of the conversation being started
    startError: false,
    asking: false, // a quick question is on its way
    escalating: false,
    noAgent: false,
    gone: false, // the server no longer knows the conversation
    error: null, // {text, retry} shown above the composer
    historyLoading: false,
    live: false, // the socket is subscribed: live updates arrive without asking
    connShown: false, // the "Connection lost" line is up
    connTimer: null,
    typingAgent: null, // {agent_id, display_name}
    typingTimer: null,
    selfTyping: false,
    selfTypingAt: 0,
    selfIdleTimer: null,
  };
}

/** What an earlier visit left in storage (session, conversation), or {} if nothing usable. */
export function readStoredChat(storage, key) {
  try {
    const raw = storage.getItem(key);
    if (!raw) return {};
    const value = JSON.parse(raw);
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

export function writeStoredChat(storage, key, s) {
  const value = { session_id: s.sessionId, conversation_id: s.conversationId, last_seq: s.contiguous };
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage blocked (private mode, sandbox): the chat still works for this page */
  }
}

/**
 * Wrap a request made for the conversation on screen now: if the conversation changes
 * before the answer comes, the answer (or the failure) is dropped and the promise never
 * settles, so no handler runs for a conversation that is gone.
 */
export function forCurrentConversation(s, request) {
  const gen = s.gen;
  return new Promise((resolve, reject) => {
    request.then(
      (value) => {
        if (gen === s.gen) resolve(value);
      },
      (error) => {
        if (gen === s.gen) reject(error);
      },
    );
  });
}

/** Note that message `seq` is on screen; true when the run 1..contiguous grew. */
export function recordSeq(s, seq, row) {
  s.rows.set(seq, row);
  const before = s.contiguous;
  while (s.rows.has(s.contiguous + 1)) s.contiguous++;
  return s.contiguous !== before;
}

/** A conversation object older than the one we hold (updates can cross). */
export function isOlderConversation(current, next) {
  return Boolean(current && next.updated_at && current.updated_at && next.updated_at < current.updated_at);
}

export function patchedConversation(current, patch) {
  return { ...current, ...patch };
}

export function launcherLabel(s) {
  if (s.open) return "Close chat";
  if (!s.unread) return "Open chat";
  return "Open chat, " + s.unread + " new message" + (s.unread === 1 ? "" : "s");
}

export function badgeText(unread) {
  return unread > 9 ? "9+" : String(unread || "");
}

/** Forget everything about the current conversation (not the session). */
export function forgetConversation(s) {
  s.gen++;
  s.pending.clear();
  s.rows.clear();
  s.contiguous = 0;
  s.conversation = null;
  s.conversationId = null;
  s.noAgent = false;
  s.escalating = false;
  s.asking = false;
  s.error = null;
  s.unread = 0;
  s.historyLoading = false;
}

/** A random UUID v4 for a message's client_message_id; randomUUID exists only in secure contexts. */
export function clientMessageId(cryptoImpl = globalThis.crypto) {
  if (cryptoImpl && typeof cryptoImpl.randomUUID === "function") {
    try {
      return cryptoImpl.randomUUID();
    } catch {
      /* not a secure context: build one by hand */
    }
  }
  const b = new Uint8Array(16);
  if (cryptoImpl && cryptoImpl.getRandomValues) cryptoImpl.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => (x + 0x100).toString(16).slice(1)).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

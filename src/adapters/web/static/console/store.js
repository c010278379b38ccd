// The console's state: who is signed in, every conversation the lists show,
// unread counts, and which conversation is open. Views listen for changes.

export const STATUSES = ["automated", "agent", "closed"];

const listeners = new Set();
let scheduled = false;

export const state = {
  me: null, // Agent
  conversations: new Map(), // id → Conversation (+ last_message)
  cursors: { automated: null, agent: null, closed: null }, // next_cursor per list
  loaded: false,
  tab: "agent",
  openId: null,
  // Unread bookkeeping: baseline[id] is the last seq already accounted for;
  // unread[id] is the set of customer message seqs above it not yet read.
  baseline: new Map(),
  unread: new Map(),
  // Live changes are stamped so a list refetch that started earlier cannot undo them.
  version: 0,
  touched: new Map(), // id → version of its last live change
};

/** Run fn after a batch of changes (one render per task). */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function changed() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const fn of listeners) fn();
  });
}

export function reset() {
  state.me = null;
  state.conversations.clear();
  state.cursors = { automated: null, agent: null, closed: null };
  state.loaded = false;
  state.openId = null;
  state.baseline.clear();
  state.unread.clear();
  state.touched.clear();
  changed();
}

export function setMe(agent) {
  state.me = agent;
  changed();
}

export function isAdmin() {
  return Boolean(state.me && state.me.role === "admin");
}

function isMine(conversation) {
  return Boolean(
    state.me && conversation.assigned_agent && conversation.assigned_agent.id === state.me.id,
  );
}

/** Which list shows the conversation, or null when none of this agent's does. */
export function listOf(conversation) {
  switch (conversation.status) {
    case "automated":
      return "automated";
    case "agent":
      return isMine(conversation) || isAdmin() ? "agent" : null;
    case "closed":
      return isMine(conversation) || isAdmin() ? "closed" : null;
    default:
      return null;
  }
}

export function canWrite(conversation) {
  return Boolean(conversation && conversation.status === "agent" && isMine(conversation));
}

export function canClose(conversation) {
  return Boolean(conversation && conversation.status === "agent" && (isMine(conversation) || isAdmin()));
}

export function activity(conversation) {
  const a = conversation.updated_at || "";
  const b = (conversation.last_message && conversation.last_message.created_at) || "";
  return a > b ? a : b;
}

export function list(status) {
  const items = [];
  for (const conversation of state.conversations.values()) {
    if (listOf(conversation) === status) items.push(conversation);
  }
  items.sort((x, y) => {
    const ax = activity(x);
    const ay = activity(y);
    if (ax !== ay) return ax < ay ? 1 : -1;
    return x.id < y.id ? 1 : -1;
  });
  return items;
}

export function get(id) {
  return state.conversations.get(id) || null;
}

// Merging what the server says

function touch(id) {
  state.version += 1;
  state.touched.set(id, state.version);
}

/** Where a list refetch starts: pass it to replaceLists. */
export function currentVersion() {
  return state.version;
}

function merge(conversation) {
  const old = state.conversations.get(conversation.id);
  // Frames and REST answers may cross: the newer state (by updated_at) wins.
  const stale = old && (old.updated_at || "") > (conversation.updated_at || "");
  const next = stale ? { ...old } : { ...conversation };
  if (stale) {
    if (conversation.last_message && (!old.last_message || conversation.last_message.seq > old.last_message.seq)) {
      next.last_message = conversation.last_message;
    }
    if ((conversation.last_seq || 0) > (next.last_seq || 0)) next.last_seq = conversation.last_seq;
  } else if (old) {
    // Keep the newer of the two previews (frames and REST answers may cross).
    const oldLast = old.last_message;
    const newLast = next.last_message;
    if (!("last_message" in next) || (oldLast && (!newLast || oldLast.seq > newLast.seq))) {
      next.last_message = oldLast || null;
    }
    if ((old.last_seq || 0) > (next.last_seq || 0)) next.last_seq = old.last_seq;
  }
  if (!state.baseline.has(next.id)) state.baseline.set(next.id, next.last_seq || 0);
  state.conversations.set(next.id, next);
  return next;
}

/** A conversation.updated frame, a snapshot or a REST answer. */
export function applyConversation(conversation) {
  if (!conversation || !conversation.id) return null;
  touch(conversation.id);
  const merged = merge(conversation);
  changed();
  return merged;
}

/** The result of refetching the three lists after a (re)connect: it replaces what we had. */
export function replaceLists(pages, sinceVersion = Infinity) {
  const previous = state.conversations;
  state.conversations = new Map();
  for (const status of STATUSES) {
    const page = pages[status];
    if (!page) continue;
    state.cursors[status] = page.next_cursor || null;
    for (const item of page.items || []) {
      const old = previous.get(item.id);
      if (old) state.conversations.set(item.id, old);
      merge(item);
    }
  }
  // Keep what live frames changed while the lists were being fetched.
  for (const [id, conversation] of previous) {
    if (!state.conversations.has(id) && (state.touched.get(id) || 0) > sinceVersion) {
      state.conversations.set(id, conversation);
    }
  }
  // Keep the open conversation even when it left every list (e.g. handed to someone else).
  if (state.openId && !state.conversations.has(state.openId) && previous.has(state.openId)) {
    state.conversations.set(state.openId, previous.get(state.openId));
  }
  for (const id of Array.from(state.unread.keys())) {
    if (!state.conversations.has(id)) state.unread.delete(id);
  }
  state.loaded = true;
  changed();
}

/** More items of one list ("Load more"). */
export function appendPage(status, page) {
  state.cursors[status] = page.next_cursor || null;
  for (const item of page.items || []) {
    if (!state.conversations.has(item.id)) merge(item);
  }
  changed();
}

/** Conversations of this agent's own lists whose messages moved on while we were away. */
export function behind() {
  const out = [];
  for (const conversation of state.conversations.values()) {
    if (conversation.id === state.openId) continue;
    if (conversation.status !== "agent" || !isMine(conversation)) continue;
    const base = state.baseline.get(conversation.id) || 0;
    if ((conversation.last_seq || 0) > base) out.push({ id: conversation.id, after: base });
  }
  return out;
}

/** A message.created frame (or a REST catch-up): preview, order and unread count. */
export function applyMessage(message, { live = true } = {}) {
  const id = message.conversation_id;
  const conversation = state.conversations.get(id);
  if (live) touch(id);
  if (conversation) {
    if (!conversation.last_message || message.seq >= conversation.last_message.seq) {
      conversation.last_message = message;
    }
    if (message.seq > (conversation.last_seq || 0)) conversation.last_seq = message.seq;
  }
  if (!state.baseline.has(id)) state.baseline.set(id, message.seq - 1);
  const base = state.baseline.get(id);
  if (id === state.openId) {
    if (message.seq > base) state.baseline.set(id, message.seq);
  } else if (message.seq > base) {
    if (message.sender && message.sender.type === "customer") {
      let seqs = state.unread.get(id);
      if (!seqs) state.unread.set(id, (seqs = new Set()));
      seqs.add(message.seq);
    }
    // A contiguous message moves the baseline; after a gap a catch-up fills it in.
    if (message.seq === base + 1) state.baseline.set(id, message.seq);
  }
  changed();
  return Boolean(conversation) || !live;
}

/** After a REST catch-up fetched everything up to seq. */
export function caughtUp(id, seq) {
  const base = state.baseline.get(id) || 0;
  if (seq > base) state.baseline.set(id, seq); // counted seqs stay in unread
  changed();
}

export function applyAssigned(data) {
  const conversation = state.conversations.get(data.conversation_id);
  touch(data.conversation_id);
  if (conversation && data.agent) {
    conversation.assigned_agent = data.agent;
    if (conversation.status === "automated") conversation.status = "agent";
    changed();
  }
  return Boolean(conversation);
}

export function applyClosed(data) {
  const conversation = state.conversations.get(data.conversation_id);
  touch(data.conversation_id);
  if (conversation && conversation.status !== "closed") {
    conversation.status = "closed";
    conversation.closed_at = data.closed_at || conversation.closed_at;
    changed();
  }
}

export function applyPresence(data) {
  let touched = false;
  for (const conversation of state.conversations.values()) {
    if (conversation.assigned_agent && conversation.assigned_agent.id === data.agent_id) {
      conversation.assigned_agent = { ...conversation.assigned_agent, presence: data.presence };
      touched = true;
    }
  }
  if (state.me && state.me.id === data.agent_id) {
    state.me = { ...state.me, presence: data.presence };
    touched = true;
  }
  if (touched) changed();
}

// Unread

export function unreadOf(id) {
  const seqs = state.unread.get(id);
  return seqs ? seqs.size : 0;
}

export function unreadIn(status) {
  let total = 0;
  for (const [id, seqs] of state.unread) {
    const conversation = state.conversations.get(id);
    if (conversation && listOf(conversation) === status) total += seqs.size;
  }
  return total;
}

export function unreadTotal() {
  let total = 0;
  for (const [id, seqs] of state.unread) {
    const conversation = state.conversations.get(id);
    if (conversation && listOf(conversation)) total += seqs.size;
  }
  return total;
}

/** The conversation is on screen: everything up to seq is read. */
export function markRead(id, seq) {
  state.unread.delete(id);
  const base = state.baseline.get(id) || 0;
  if ((seq || 0) > base) state.baseline.set(id, seq);
  changed();
}

export function setOpen(id) {
  state.openId = id;
  if (id) markRead(id, (get(id) && get(id).last_seq) || 0);
  changed();
}

export function setTab(status) {
  if (STATUSES.includes(status) && state.tab !== status) {
    state.tab = status;
    changed();
  }
}

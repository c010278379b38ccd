// What the customer asks of the server besides sending a message: quick
// questions, an agent, and catching up over REST while the socket is down.
// `w` is the ChatWidget; w.call drops answers about a conversation no longer shown.

import { PAGE_LIMIT } from "./config.js";
import { QUICK_QUESTIONS_PATH, conversationPath } from "./transport.js";

export function loadQuickQuestions(w) {
  const s = w.s;
  if (s.quickLoaded || s.quickLoading) return;
  s.quickLoading = true;
  w.api("GET", QUICK_QUESTIONS_PATH).then(
    (res) => {
      s.quickLoading = false;
      if (res.ok && res.data && Array.isArray(res.data.items)) {
        s.quickQuestions = res.data.items;
        s.quickLoaded = true;
        w.render();
      }
    },
    () => {
      s.quickLoading = false;
    },
  );
}

function ingestAnswer(w, data) {
  w.ingest(data.message);
  for (const m of data.replies || []) w.ingest(m);
}

export function askQuick(w, q) {
  const s = w.s;
  if (s.asking || !s.conversationId) return;
  s.asking = true;
  s.error = null;
  w.render();
  const path = conversationPath(s.conversationId, "/quick-replies/" + encodeURIComponent(q.slug));
  w.call("POST", path).then(
    (res) => {
      s.asking = false;
      if (res.ok && res.data) {
        ingestAnswer(w, res.data);
        catchUpIfOffline(w);
        w.render();
        w.scrollToBottom();
      } else if (res.status === 409) {
        refreshConversation(w);
        w.render();
      } else if (res.status === 403) {
        w.conversationGone();
      } else if (res.status === 404) {
        // Most likely the question was removed meanwhile (refreshConversation notices a vanished chat).
        s.quickLoaded = false;
        loadQuickQuestions(w);
        refreshConversation(w);
        w.showError("That question is no longer available. Please pick another one.");
      } else {
        w.showError(res.message || "Something went wrong. Please try again.");
      }
    },
    () => {
      s.asking = false;
      w.showError("We couldn't send that. Please check your connection and try again.", () => askQuick(w, q));
    },
  );
}

export function escalate(w) {
  const s = w.s;
  if (s.escalating || !s.conversationId) return;
  s.escalating = true;
  s.error = null;
  w.render();
  w.call("POST", conversationPath(s.conversationId, "/escalate")).then(
    (res) => {
      s.escalating = false;
      if (res.ok && res.data) {
        s.noAgent = false;
        w.applyConversation(res.data);
        catchUpIfOffline(w);
      } else if (res.status === 409 && res.code === "no_agent_available") {
        s.noAgent = true;
      } else if (res.status === 409) {
        refreshConversation(w);
      } else if (res.status === 403 || res.status === 404) {
        w.conversationGone();
        return;
      } else {
        s.error = { text: res.message || "Something went wrong. Please try again.", retry: null };
      }
      w.render();
      w.scrollToBottom();
    },
    () => {
      s.escalating = false;
      w.showError("We couldn't reach the chat. Please check your connection and try again.", () => escalate(w));
    },
  );
}

export function refreshConversation(w) {
  const s = w.s;
  if (!s.conversationId) return;
  w.call("GET", conversationPath(s.conversationId)).then(
    (res) => {
      if (res.ok) w.applyConversation(res.data);
      else if (res.status === 403 || res.status === 404) w.conversationGone();
      catchUpIfOffline(w);
    },
    () => {},
  );
}

// Fetch the messages after `after` over REST until none are left (has_more paging).
export async function pageMessages(w, after, history) {
  const s = w.s;
  for (let from = after; ; ) {
    const q = "/messages?after_seq=" + from + "&limit=" + PAGE_LIMIT;
    const res = await w.call("GET", conversationPath(s.conversationId, q));
    if (!res.ok || !res.data) {
      if (res.status === 403 || res.status === 404) w.conversationGone();
      return;
    }
    const items = res.data.items || [];
    for (const m of items) w.ingest(m, history);
    if (!res.data.has_more || !items.length) return;
    from = items[items.length - 1].seq;
  }
}

// Live updates normally come over the socket; while it is down, fetch what we would have missed.
export function catchUpIfOffline(w) {
  const s = w.s;
  if (s.live || !s.conversationId) return;
  pageMessages(w, s.contiguous, false).catch(() => {});
}

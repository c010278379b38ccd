// The console's entry point: boot (setup? signed in?), the hash router, the
// WebSocket and what its frames do to the state.

import { api, describeError, forgetToken, getToken, onUnauthorized } from "./api.js";
import { LiveSocket, realtimeUrl } from "../shared/socket.js";
import { $, $$, setText, show } from "./dom.js";
import * as store from "./store.js";
import { agentPresence, initAgents, showAgents } from "./views/agents.js";
import { hideAuth, initAuth, showAuth } from "./views/auth.js";
import * as conversation from "./views/conversation.js";
import { initFaqs, showFaqs } from "./views/faqs.js";
import { initInbox, renderInbox, resetInbox } from "./views/inbox.js";

const app = {
  booted: false,
  setupNeeded: false,
  signedIn: false,
  listsGeneration: 0,
  refreshTimer: null,
  presenceChanges: 0, // presence chosen here so far: a slower read of "me" must not undo one
};

const socket = new LiveSocket({
  url: () => realtimeUrl(window.location.origin, { role: "agent", access_token: getToken() }),
  handlers: {
    onFrame,
    onConnected,
    onState: renderConnection,
    onRefused: (code) => {
      if (code === 4401) sessionEnded("Your session has ended. Please sign in again.");
    },
  },
});

// Boot

async function boot() {
  initAuth({ onSignedIn: startSession });
  initInbox();
  conversation.initConversation(socket);
  initAgents();
  initFaqs();
  store.onChange(renderMe);
  onUnauthorized(() => sessionEnded("Your session has ended. Please sign in again."));
  window.addEventListener("hashchange", route);
  $("#logout").addEventListener("click", logout);
  $("#presence-select").addEventListener("change", changePresence);

  for (;;) {
    try {
      const setup = await api.setup();
      app.setupNeeded = Boolean(setup && setup.setup_needed);
      break;
    } catch (error) {
      setText($("#booting"), `${describeError(error)} Retrying…`);
      await new Promise((resolve) => window.setTimeout(resolve, 3000));
    }
  }
  if (app.setupNeeded) forgetToken();

  if (!app.setupNeeded && getToken()) {
    try {
      const me = await api.me();
      app.booted = true;
      show($("#booting"), false);
      startSession(me);
      return;
    } catch {
      forgetToken(); // dead or unreachable: sign in again
    }
  }
  app.booted = true;
  show($("#booting"), false);
  route();
}

// Session

function startSession(agent) {
  app.setupNeeded = false;
  app.signedIn = true;
  store.setMe(agent);
  hideAuth();
  show($("#shell"), true);
  socket.start();
  loadLists();
  const hash = window.location.hash;
  if (!hash || hash === "#/login" || hash === "#/setup" || hash === "#/" || hash === "#") go("#/inbox");
  else route();
}

function endSession(message) {
  const wasSignedIn = app.signedIn;
  app.signedIn = false;
  app.listsGeneration += 1;
  socket.stop();
  forgetToken();
  conversation.leaveConversation();
  store.reset();
  resetInbox();
  show($("#shell"), false);
  go("#/login");
  if (message && wasSignedIn) {
    const slot = $('[data-testid="login-error"]');
    slot.textContent = message;
    slot.hidden = false;
  }
}

async function logout() {
  const button = $("#logout");
  button.disabled = true;
  try {
    await api.logout();
  } catch {
    /* forget the token anyway */
  } finally {
    button.disabled = false;
    endSession();
  }
}

function sessionEnded(message) {
  if (app.signedIn) endSession(message);
}

// Routing

function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function redirect(hash) {
  window.history.replaceState(null, "", hash);
  route();
}

function route() {
  if (!app.booted) return;
  const hash = window.location.hash || "";
  if (!app.signedIn) {
    show($("#shell"), false);
    if (app.setupNeeded) {
      if (hash !== "#/setup") return redirect("#/setup");
      showAuth("setup");
    } else {
      if (hash !== "#/login") return redirect("#/login");
      showAuth("login");
    }
    document.title = "chatcore console";
    return;
  }
  if (hash === "#/login" || hash === "#/setup" || hash === "" || hash === "#/" || hash === "#") {
    return redirect("#/inbox");
  }
  const admin = store.isAdmin();
  let page;
  let openId = null;
  const match = /^#\/c\/([^/]+)$/.exec(hash);
  if (hash === "#/inbox") page = "inbox";
  else if (match) {
    page = "inbox";
    openId = decodeURIComponent(match[1]);
  } else if (hash === "#/admin/agents" && admin) page = "agents";
  else if (hash === "#/admin/faqs" && admin) page = "faqs";
  else return redirect("#/inbox");

  show($("#inbox"), page === "inbox");
  show($("#admin-agents"), page === "agents");
  show($("#admin-faqs"), page === "faqs");
  $("#shell").dataset.page = page;
  $("#shell").classList.toggle("has-open", Boolean(openId));
  for (const link of $$(".nav-link")) {
    if (link.dataset.nav === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }

  if (openId) {
    const known = store.get(openId);
    if (known && store.listOf(known) && store.listOf(known) !== store.state.tab && conversation.openId() !== openId) {
      store.setTab(store.listOf(known));
    }
    conversation.openConversation(openId);
  } else {
    conversation.leaveConversation();
  }
  if (page === "agents") showAgents();
  if (page === "faqs") showFaqs();
  renderInbox();
}

// Lists: fetched at sign-in and after every (re)connect

async function loadLists() {
  const generation = ++app.listsGeneration;
  const since = store.currentVersion();
  try {
    const [automated, agent, closed] = await Promise.all(
      store.STATUSES.map((status) => api.conversations(status)),
    );
    if (generation !== app.listsGeneration || !app.signedIn) return;
    store.replaceLists({ automated, agent, closed }, since);
    show($("#list-error"), false);
    // If the page was opened on #/c/<id> before the lists came, pick its tab now.
    const open = conversation.openId() && store.get(conversation.openId());
    if (open && store.listOf(open) && !store.list(store.state.tab).some((c) => c.id === open.id)) {
      store.setTab(store.listOf(open));
    }
    await catchUpUnread(generation);
  } catch (error) {
    if (generation !== app.listsGeneration || !app.signedIn) return;
    const slot = $("#list-error");
    slot.textContent = `Could not load the conversations: ${describeError(error)}`;
    show(slot, true);
  }
}

/** Count the customer messages that arrived in our conversations while we were away. */
async function catchUpUnread(generation) {
  for (const { id, after } of store.behind()) {
    let from = after;
    for (let page = 0; page < 5; page += 1) {
      const answer = await api.messages(id, from, 500);
      if (generation !== app.listsGeneration) return;
      const items = answer.items || [];
      for (const message of items) store.applyMessage(message, { live: false });
      if (!items.length) break;
      from = items.at(-1).seq;
      store.caughtUp(id, from);
      if (!answer.has_more) break;
    }
  }
}

function refreshListsSoon() {
  if (app.refreshTimer) return;
  app.refreshTimer = window.setTimeout(() => {
    app.refreshTimer = null;
    if (app.signedIn) loadLists();
  }, 300);
}

// The socket

async function onConnected() {
  // Anything may have happened while we were away: resync everything.
  loadLists();
  conversation.resync();
  const changesBefore = app.presenceChanges;
  try {
    const me = await api.me();
    // Asked before a presence chosen meanwhile was stored: it would put the old one back.
    if (app.presenceChanges === changesBefore) store.setMe(me);
  } catch {
    /* a 401 signs us out through onUnauthorized */
  }
}

function onFrame(frame) {
  const data = frame.data || {};
  const isOpen = frame.conversation_id && frame.conversation_id === conversation.openId();
  switch (frame.type) {
    case "conversation.updated":
      store.applyConversation(data);
      break;
    case "message.created":
      if (isOpen) conversation.handleFrame(frame);
      else if (!store.applyMessage(data)) refreshListsSoon();
      break;
    case "agent.assigned":
      if (!store.applyAssigned(data)) refreshListsSoon();
      break;
    case "chat.closed":
      store.applyClosed(data);
      break;
    case "agent.presence.changed":
      store.applyPresence(data);
      agentPresence(data);
      break;
    case "system.subscribed":
    case "customer.typing":
    case "system.error":
      conversation.handleFrame(frame);
      break;
    default:
      break;
  }
}

const STATE_TEXT = {
  connecting: "Connecting…",
  online: "Connected",
  offline: "Offline — waiting for the network…",
  stopped: "Not connected",
};

function renderConnection(state, detail) {
  const line = $("#status-line");
  line.dataset.state = state;
  let text = STATE_TEXT[state] || "";
  if (state === "retrying") {
    const seconds = Math.max(1, Math.round(((detail && detail.delay) || 1000) / 1000));
    text = `Connection lost — reconnecting in ${seconds} s…`;
  } else if (state === "failed") {
    text = typeof detail === "string" && detail ? detail : "Disconnected.";
  }
  setText(line, text);
}

// Me: name, presence, admin nav

function renderMe() {
  const me = store.state.me;
  if (!me) return;
  setText($("#me-name"), me.display_name);
  const select = $("#presence-select");
  if (!select.dataset.busy && select.value !== me.presence) select.value = me.presence;
  $("#presence-dot").className = `dot dot-${me.presence}`;
  show($("#admin-nav"), me.role === "admin");
}

async function changePresence(event) {
  const select = event.currentTarget;
  const wanted = select.value;
  app.presenceChanges += 1;
  select.dataset.busy = "1";
  select.disabled = true;
  try {
    store.setMe(await api.presence(wanted));
  } catch (error) {
    setText($("#status-line"), `Could not change presence: ${describeError(error)}`);
  } finally {
    delete select.dataset.busy;
    select.disabled = false;
    renderMe();
    select.focus();
  }
}

boot();

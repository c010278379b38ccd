// The widget's elements: the launcher and the panel (head, connection line,
// messages, footer). Built once; render.js and messages.js fill them in.
//
// The head and the footer are plain divs, not <header>/<footer>: inside the host
// page those would count as a second banner and content-info landmark.

import { BODY_MAX } from "../config.js";
import { ICON_CHAT, ICON_CLOSE, ICON_PERSON, ICON_SEND, el, icon } from "../dom.js";

const typingDots = () => el("span", { class: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]);

function buildHead(e, title) {
  e.avatar = el("div", { class: "avatar", "aria-hidden": "true" }, [icon(null, ICON_CHAT)]);
  e.title = el("h2", { class: "title", id: "chatcore-title", text: title });
  e.subText = el("span", { text: "" });
  e.agentName = el("span", { class: "agent-name", "data-testid": "agent-name" });
  e.presence = el("span", { class: "presence", "data-testid": "agent-presence" });
  e.agent = el("span", { class: "agent", hidden: true }, [e.agentName, e.presence]);
  e.sub = el("p", { class: "sub" }, [e.subText, e.agent]);
  e.close = el(
    "button",
    { type: "button", class: "close", "data-testid": "close-panel", "aria-label": "Close chat" },
    [icon(null, ICON_CLOSE, true)],
  );
  return el("div", { class: "head" }, [e.avatar, el("div", { class: "head-text" }, [e.title, e.sub]), e.close]);
}

function buildMessages(e) {
  e.log = el("div", {
    class: "log",
    "data-testid": "messages",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "Conversation",
  });
  e.loading = el("div", { class: "loading", hidden: true }, [typingDots(), el("span", { text: "Connecting…" })]);
  e.typingText = el("span", { text: "" });
  e.typing = el("div", { class: "typing", "data-testid": "typing", hidden: true }, [typingDots(), e.typingText]);
  e.chips = el("div", { class: "chips", role: "group", "aria-label": "Quick questions", hidden: true });
  // Focusable, so a keyboard alone can scroll back through the chat.
  e.scroller = el("div", { class: "scroller", tabindex: "0", role: "region", "aria-label": "Chat messages" }, [
    e.loading,
    e.log,
    e.typing,
    e.chips,
  ]);
  return e.scroller;
}

function buildNotices(e) {
  e.errorText = el("p", { text: "" });
  e.errorRetry = el("button", { type: "button", class: "btn", "data-testid": "retry", text: "Try again" });
  e.error = el("div", { class: "notice error", "data-testid": "error", role: "alert", hidden: true }, [
    e.errorText,
    el("div", { class: "actions" }, [e.errorRetry]),
  ]);
  e.retryEscalate = el("button", { type: "button", class: "btn", "data-testid": "retry-escalate", text: "Try again" });
  e.noAgent = el("div", { class: "notice no-agent", "data-testid": "no-agent", role: "status", hidden: true }, [
    el("p", {
      text:
        "All our agents are busy right now. Sorry for the wait! Our assistant is still here for you, " +
        "or try again in a few minutes.",
    }),
    el("div", { class: "actions" }, [e.retryEscalate]),
  ]);
}

function buildFoot(e) {
  buildNotices(e);
  e.talkText = el("span", { text: "Talk to an agent" });
  e.talk = el("button", { type: "button", class: "talk", "data-testid": "talk-to-agent", hidden: true }, [
    icon(null, ICON_PERSON),
    e.talkText,
  ]);
  e.input = el("textarea", {
    class: "input",
    "data-testid": "composer",
    rows: "1",
    maxlength: String(BODY_MAX),
    placeholder: "Write a message…",
    "aria-label": "Write a message",
    autocomplete: "off",
    enterkeyhint: "send",
  });
  e.send = el("button", { type: "submit", class: "send", "data-testid": "send", "aria-label": "Send", disabled: true }, [
    icon(null, ICON_SEND),
  ]);
  e.composer = el("form", { class: "composer", novalidate: true }, [e.input, e.send]);
  e.closedTitle = el("p", { class: "closed-title", text: "This conversation has ended" });
  e.closedSub = el("p", { class: "closed-sub", text: "Thanks for chatting with us. Need anything else?" });
  e.startAgain = el("button", {
    type: "button",
    class: "btn",
    "data-testid": "start-again",
    text: "Start a new conversation",
  });
  e.closed = el("div", { class: "closed", "data-testid": "closed-banner", role: "status", hidden: true }, [
    e.closedTitle,
    e.closedSub,
    e.startAgain,
  ]);
  return el("div", { class: "foot" }, [
    e.error,
    e.noAgent,
    e.talk,
    e.composer,
    e.closed,
    el("p", { class: "brand", text: "Powered by chatcore" }),
  ]);
}

/** Every element the widget updates later, by name; `e.wrap` holds them all. */
export function buildWidget(title) {
  const e = {};
  e.badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
  e.launcher = el(
    "button",
    {
      type: "button",
      class: "launcher",
      "data-testid": "launcher",
      "aria-label": "Open chat",
      "aria-expanded": "false",
      "aria-controls": "chatcore-panel",
    },
    [icon("i-chat", ICON_CHAT), icon("i-close", ICON_CLOSE, true), e.badge],
  );
  const head = buildHead(e, title);
  e.conn = el("div", { class: "conn", "data-testid": "connection-status", role: "status", hidden: true });
  const messages = buildMessages(e);
  const foot = buildFoot(e);
  e.panel = el(
    "section",
    {
      class: "panel",
      id: "chatcore-panel",
      "data-testid": "panel",
      role: "dialog",
      "aria-labelledby": "chatcore-title",
      hidden: true,
    },
    [head, e.conn, messages, foot],
  );
  e.wrap = el("div", { class: "root" }, [e.panel, e.launcher]);
  return e;
}

// Show the state in everything but the messages: launcher, head, notices, footer.

import { badgeText, launcherLabel } from "../state.js";
import { ICON_CHAT, el, icon } from "../dom.js";

function renderHead(s, e) {
  const c = s.conversation;
  const agent = c && c.assigned_agent ? c.assigned_agent : null;
  if (agent && !s.gone) {
    e.agent.hidden = false;
    e.agentName.textContent = agent.display_name || "Agent";
    const presence = agent.presence || "offline";
    e.presence.setAttribute("data-presence", presence);
    e.presence.textContent = presence;
    e.subText.textContent = "";
    e.subText.hidden = true;
    const initial = (agent.display_name || "?").trim().charAt(0).toUpperCase() || "?";
    if (e.avatar.textContent !== initial || e.avatar.firstChild.nodeType !== 3) e.avatar.textContent = initial;
  } else {
    e.agent.hidden = true;
    e.subText.hidden = false;
    e.subText.textContent = c && c.status === "closed" ? "Conversation ended" : "Our assistant replies right away";
    if (!e.avatar.firstChild || e.avatar.firstChild.nodeType === 3) {
      e.avatar.textContent = "";
      e.avatar.appendChild(icon(null, ICON_CHAT));
    }
  }
}

function renderFoot(s, e, { closed, automated }) {
  e.talk.hidden = !automated || s.noAgent;
  e.talk.setAttribute("aria-disabled", s.escalating ? "true" : "false");
  e.talkText.textContent = s.escalating ? "Finding an agent…" : "Talk to an agent";
  e.noAgent.hidden = !(automated && s.noAgent);
  e.retryEscalate.setAttribute("aria-disabled", s.escalating ? "true" : "false");
  e.retryEscalate.textContent = s.escalating ? "Trying…" : "Try again";

  e.composer.hidden = closed;
  e.closed.hidden = !closed;
  e.closedTitle.textContent = s.gone ? "This conversation is no longer available" : "This conversation has ended";
  e.closedSub.textContent = s.gone
    ? "You can start a new one: we are happy to help."
    : "Thanks for chatting with us. Need anything else?";
  e.startAgain.disabled = Boolean(s.starting);

  e.error.hidden = !s.error;
  if (s.error) {
    e.errorText.textContent = s.error.text;
    e.errorRetry.hidden = !s.error.retry;
  }
  renderSendEnabled(s, e);
}

export function renderSendEnabled(s, e) {
  const c = s.conversation;
  e.send.disabled = !e.input.value.trim() || Boolean(c && c.status === "closed") || s.gone;
}

/** The quick-question chips: rebuilt only when the questions change. */
function renderChips(s, e, visible, onAsk) {
  const key = s.quickQuestions.map((q) => q.slug).join("\u0000");
  if (e.chips._key !== key) {
    e.chips._key = key;
    e.chips.textContent = "";
    for (const q of s.quickQuestions) {
      const chip = el("button", {
        type: "button",
        class: "chip",
        "data-testid": "quick-question",
        "data-slug": q.slug,
        text: q.question,
      });
      chip.addEventListener("click", () => onAsk(q));
      e.chips.appendChild(chip);
    }
  }
  e.chips.hidden = !visible;
  for (const chip of e.chips.children) chip.setAttribute("aria-disabled", s.asking ? "true" : "false");
}

export function renderWidget(s, e, { onAsk }) {
  const c = s.conversation;
  const status = c ? c.status : null;
  e.wrap.classList.toggle("is-open", s.open);
  e.panel.hidden = !s.open;
  e.launcher.setAttribute("aria-expanded", s.open ? "true" : "false");
  e.launcher.setAttribute("aria-label", launcherLabel(s));
  e.badge.hidden = s.open || !s.unread;
  e.badge.textContent = badgeText(s.unread);

  renderHead(s, e);
  e.conn.hidden = !s.connShown;
  e.conn.textContent = s.connShown ? "Connection lost. Reconnecting…" : "";

  const closed = status === "closed" || s.gone;
  const automated = status === "automated" && !s.gone;
  e.loading.hidden = !((s.starting || (s.conversationId && !c)) && s.rows.size === 0 && !s.gone && !s.startError);
  e.log.setAttribute("aria-busy", s.historyLoading ? "true" : "false");

  const typing = s.typingAgent && status === "agent" && !s.gone;
  e.typing.hidden = !typing;
  e.typingText.textContent = typing ? (s.typingAgent.display_name || "The agent") + " is typing…" : "";

  renderChips(s, e, automated && s.quickQuestions.length > 0, onAsk);
  renderFoot(s, e, { closed, automated });
}

// What the customer's clicks and keys do.

import { escalate } from "../actions.js";

export function wireEvents(w) {
  const e = w.e;
  e.launcher.addEventListener("click", () => {
    if (w.s.open) w.close(true);
    else w.openPanel();
  });
  e.close.addEventListener("click", () => w.close(true));
  e.wrap.addEventListener("keydown", (ev) => {
    if ((ev.key === "Escape" || ev.key === "Esc") && w.s.open) {
      ev.preventDefault();
      ev.stopPropagation();
      w.close(true);
    }
  });
  e.composer.addEventListener("submit", (ev) => {
    ev.preventDefault();
    w.outbox.sendFromComposer();
  });
  e.input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      w.outbox.sendFromComposer();
    }
  });
  e.input.addEventListener("input", () => w.composerChanged());
  e.talk.addEventListener("click", () => escalate(w));
  e.retryEscalate.addEventListener("click", () => escalate(w));
  e.startAgain.addEventListener("click", () => w.startAgain());
  e.errorRetry.addEventListener("click", () => {
    const again = w.s.error && w.s.error.retry;
    w.s.error = null;
    w.render();
    if (again) again();
  });
  // Back online or back to the tab: messages waiting to be sent go now (the socket wakes itself).
  window.addEventListener("online", () => w.outbox.wake());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") w.outbox.wake();
  });
}

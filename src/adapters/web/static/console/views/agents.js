// Admin: the agents, adding one (with a role), deactivating one.

import { api, ApiError, describeError, newestOnly } from "../api.js";
import { $, clearFieldErrors, el, formError, formOk, show, showFieldErrors } from "../dom.js";
import * as store from "../store.js";

let agents = [];
const fetchAgents = newestOnly(() => api.agents());

export function initAgents() {
  $("#add-agent").addEventListener("submit", onAdd);
}

export async function showAgents() {
  await loadAgents();
}

async function loadAgents() {
  const error = $("#agents-error");
  try {
    const { stale, answer } = await fetchAgents();
    if (stale) return; // a newer load is on its way
    agents = answer.items || [];
    show(error, false);
    render();
  } catch (failure) {
    error.textContent = `Could not load the agents: ${describeError(failure)}`;
    show(error, true);
  }
}

function render() {
  const body = $("#agents-body");
  const me = store.state.me;
  const rows = agents.map((agent) => {
    const self = me && me.id === agent.id;
    let action = null;
    if (agent.active && !self) {
      action = el(
        "button",
        { type: "button", class: "btn btn-danger btn-small", testid: "agent-deactivate", "aria-label": `Deactivate ${agent.display_name}` },
        "Deactivate",
      );
      action.addEventListener("click", () => deactivate(agent, action));
    }
    return el(
      "tr",
      { testid: "agent-row", dataset: { id: agent.id }, class: agent.active ? "" : "inactive" },
      el("td", {}, agent.display_name, self ? el("span", { class: "hint" }, " (you)") : null),
      el("td", {}, agent.email),
      el("td", {}, agent.role === "admin" ? "Admin" : "Agent"),
      el("td", {}, el("span", { class: `dot dot-${agent.presence}`, "aria-hidden": "true" }), ` ${agent.presence}`),
      el("td", { testid: "agent-active" }, agent.active ? "Active" : "Deactivated"),
      el("td", { class: "actions" }, action),
    );
  });
  body.replaceChildren(...rows);
}

async function deactivate(agent, button) {
  const ok = window.confirm(
    `Deactivate ${agent.display_name}? They are signed out at once and their open conversations go to another agent or back to the bot.`,
  );
  if (!ok) return;
  button.disabled = true;
  const error = $("#agents-error");
  try {
    const updated = await api.deactivate(agent.id);
    agents = agents.map((a) => (a.id === updated.id ? updated : a));
    show(error, false);
    render();
  } catch (failure) {
    button.disabled = false;
    error.textContent = `Could not deactivate ${agent.display_name}: ${describeError(failure)}`;
    show(error, true);
  }
}

async function onAdd(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearFieldErrors(form);
  const body = {
    email: form.elements.email.value.trim(),
    display_name: form.elements.display_name.value.trim(),
    password: form.elements.password.value,
    role: form.elements.role.value,
  };
  const problems = {};
  if (!body.email) problems.email = "Enter an email address.";
  if (!body.display_name) problems.display_name = "Enter a display name.";
  if (body.password.length < 10) problems.password = "Use at least 10 characters.";
  if (Object.keys(problems).length) {
    showFieldErrors(form, problems);
    return;
  }
  const submit = form.querySelector('[type="submit"]');
  submit.disabled = true;
  try {
    const agent = await api.register(body);
    form.reset();
    formOk(form, `Added ${agent.display_name} (${agent.role}).`);
    await loadAgents();
  } catch (error) {
    if (error instanceof ApiError && error.fields) {
      showFieldErrors(form, error.fields);
      formError(form, error.message);
    } else if (error instanceof ApiError && error.code === "email_taken") {
      showFieldErrors(form, { email: error.message });
    } else {
      formError(form, describeError(error));
    }
  } finally {
    submit.disabled = false;
  }
}

/** agent.presence.changed while the page is open. */
export function agentPresence(data) {
  let touched = false;
  agents = agents.map((a) => {
    if (a.id !== data.agent_id) return a;
    touched = true;
    return { ...a, presence: data.presence };
  });
  if (touched && !$("#admin-agents").hidden) render();
}

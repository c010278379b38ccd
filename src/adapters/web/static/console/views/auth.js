// Signed out: the first-run setup of the first admin, and the login form.

import { api, ApiError, describeError, setToken } from "../api.js";
import { $, clearFieldErrors, formError, show, showFieldErrors } from "../dom.js";

let signedIn = () => {};

export function initAuth({ onSignedIn }) {
  signedIn = onSignedIn;
  $("#login-form").addEventListener("submit", onLogin);
  $("#setup-form").addEventListener("submit", onSetup);
}

/** mode: "login" | "setup" */
export function showAuth(mode) {
  show($("#auth"), true);
  const setup = $("#setup-form");
  const login = $("#login-form");
  show(setup, mode === "setup");
  show(login, mode === "login");
  const form = mode === "setup" ? setup : login;
  const first = form.querySelector("input");
  if (first && document.activeElement !== first && !form.contains(document.activeElement)) first.focus();
}

export function hideAuth() {
  show($("#auth"), false);
  const password = $("#login-password");
  password.value = "";
  $("#setup-password").value = "";
}

function busy(form, on) {
  for (const control of form.querySelectorAll("button, input")) control.disabled = on;
  form.setAttribute("aria-busy", String(on));
}

async function logIn(email, password) {
  const answer = await api.login(email, password);
  setToken(answer.access_token);
  return answer.agent;
}

async function onLogin(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  formError(form, "");
  if (!email || !password) {
    formError(form, "Enter your email and password.");
    return;
  }
  busy(form, true);
  try {
    const agent = await logIn(email, password);
    form.reset();
    signedIn(agent);
  } catch (error) {
    let message = describeError(error);
    if (error instanceof ApiError && error.fields) {
      message = `${message} ${Object.entries(error.fields).map(([k, v]) => `${k}: ${v}`).join("; ")}`;
    }
    formError(form, message);
    form.elements.password.value = "";
  } finally {
    busy(form, false);
    if (!$("#login-form").hidden && document.activeElement === document.body) form.elements.password.focus();
  }
}

async function onSetup(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearFieldErrors(form);
  const body = {
    email: form.elements.email.value.trim(),
    display_name: form.elements.display_name.value.trim(),
    password: form.elements.password.value,
  };
  const problems = {};
  if (!body.email || !body.email.includes("@")) problems.email = "Enter a valid email address.";
  if (!body.display_name) problems.display_name = "Enter a display name.";
  if (body.password.length < 10) problems.password = "Use at least 10 characters.";
  if (Object.keys(problems).length) {
    showFieldErrors(form, problems);
    return;
  }
  busy(form, true);
  try {
    await api.registerFirst(body);
    const agent = await logIn(body.email, body.password);
    form.reset();
    signedIn(agent);
  } catch (error) {
    if (error instanceof ApiError && error.fields) {
      showFieldErrors(form, error.fields);
      formError(form, error.message);
    } else if (error instanceof ApiError && error.code === "email_taken") {
      showFieldErrors(form, { email: error.message });
    } else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      formError(form, "The console is already set up. Sign in instead.");
      window.setTimeout(() => {
        window.location.hash = "#/login";
      }, 1500);
    } else {
      formError(form, describeError(error));
    }
  } finally {
    busy(form, false);
  }
}

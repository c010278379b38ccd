// Small DOM helpers. Data always goes in through textContent or attributes,
// never through innerHTML.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** el("li", {class: "x", dataset: {id}, text: "hi"}, child, …) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "testid") node.setAttribute("data-testid", value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function show(node, visible = true) {
  if (node) node.hidden = !visible;
}

export function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

/** "14:05" today, "Mon 14:05" this week, else "25 Nov 14:05". */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const now = new Date();
  const time = date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === now.toDateString()) return time;
  const days = (now - date) / 86400000;
  if (days < 6) return `${date.toLocaleDateString(undefined, { weekday: "short" })} ${time}`;
  return `${date.toLocaleDateString(undefined, { day: "numeric", month: "short" })} ${time}`;
}

export function fullTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

/** Show an error envelope's "fields" next to each input (elements with data-field). */
export function showFieldErrors(form, fields) {
  clearFieldErrors(form);
  if (!fields) return false;
  let shown = false;
  for (const [name, message] of Object.entries(fields)) {
    const slot = form.querySelector(`.field-error[data-field="${CSS.escape(name)}"]`);
    if (!slot) continue;
    slot.textContent = message;
    slot.hidden = false;
    const input = form.elements.namedItem(name);
    if (input && input.setAttribute) {
      input.setAttribute("aria-invalid", "true");
      if (slot.id) input.setAttribute("aria-describedby", slot.id);
    }
    shown = true;
  }
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
  return shown;
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const error = form.querySelector(".form-error");
  if (error) {
    error.textContent = "";
    error.hidden = true;
  }
  const ok = form.querySelector(".form-ok");
  if (ok) {
    ok.textContent = "";
    ok.hidden = true;
  }
}

export function formError(form, message) {
  const slot = form.querySelector(".form-error");
  if (!slot) return;
  slot.textContent = message || "";
  slot.hidden = !message;
}

export function formOk(form, message) {
  const slot = form.querySelector(".form-ok");
  if (!slot) return;
  slot.textContent = message || "";
  slot.hidden = !message;
}

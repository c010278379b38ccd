// Admin: the quick questions (FAQ entries): add, edit, delete.

import { api, ApiError, describeError, newestOnly } from "../api.js";
import { $, clearFieldErrors, el, formError, formOk, setText, show, showFieldErrors } from "../dom.js";

let faqs = [];
const fetchFaqs = newestOnly(() => api.faqs());
let editing = null; // slug being edited, or null when adding

export function initFaqs() {
  $("#faq-form").addEventListener("submit", onSubmit);
  $("#faq-cancel").addEventListener("click", () => setEditing(null));
}

export async function showFaqs() {
  await loadFaqs();
}

async function loadFaqs() {
  const error = $("#faqs-error");
  try {
    const { stale, answer } = await fetchFaqs();
    if (stale) return; // a newer load is on its way
    faqs = answer.items || [];
    show(error, false);
    render();
  } catch (failure) {
    error.textContent = `Could not load the quick questions: ${describeError(failure)}`;
    show(error, true);
  }
}

function render() {
  const rows = faqs.map((faq) => {
    const edit = el("button", { type: "button", class: "btn btn-quiet btn-small", testid: "faq-edit", "aria-label": `Edit ${faq.slug}` }, "Edit");
    const remove = el("button", { type: "button", class: "btn btn-danger btn-small", testid: "faq-delete", "aria-label": `Delete ${faq.slug}` }, "Delete");
    edit.addEventListener("click", () => setEditing(faq));
    remove.addEventListener("click", () => removeFaq(faq, remove));
    return el(
      "tr",
      { testid: "faq-row", dataset: { slug: faq.slug }, class: editing === faq.slug ? "editing" : "" },
      el("td", { class: "num" }, String(faq.position ?? "")),
      el("td", {}, el("code", {}, faq.slug)),
      el("td", {}, faq.question),
      el("td", { class: "answer-cell" }, faq.answer),
      el("td", { class: "actions" }, edit, " ", remove),
    );
  });
  $("#faqs-body").replaceChildren(...rows);
  if (!rows.length) {
    $("#faqs-body").append(el("tr", {}, el("td", { colspan: "5", class: "hint" }, "No quick questions yet.")));
  }
}

function setEditing(faq) {
  const form = $("#faq-form");
  clearFieldErrors(form);
  editing = faq ? faq.slug : null;
  form.elements.slug.value = faq ? faq.slug : "";
  form.elements.slug.readOnly = Boolean(faq);
  form.elements.question.value = faq ? faq.question : "";
  form.elements.answer.value = faq ? faq.answer : "";
  form.elements.position.value = faq && faq.position !== undefined ? String(faq.position) : "";
  setText($("#faq-form-title"), faq ? `Edit “${faq.slug}”` : "Add a quick question");
  setText($("#faq-submit"), faq ? "Save changes" : "Add quick question");
  show($("#faq-cancel"), Boolean(faq));
  render();
  if (faq) form.elements.question.focus();
}

async function onSubmit(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearFieldErrors(form);
  const slug = form.elements.slug.value.trim();
  const body = {
    question: form.elements.question.value.trim(),
    answer: form.elements.answer.value.trim(),
  };
  const positionText = form.elements.position.value.trim();
  if (positionText !== "") {
    const position = Number(positionText);
    // Let the server judge odd values: it answers with a field error.
    body.position = Number.isFinite(position) ? position : positionText;
  }
  const submit = $("#faq-submit");
  submit.disabled = true;
  try {
    if (editing) {
      await api.editFaq(editing, body);
      formOk(form, `Saved “${editing}”.`);
      const saved = editing;
      setEditing(null);
      formOk(form, `Saved “${saved}”.`);
    } else {
      const created = await api.addFaq({ slug, ...body });
      form.reset();
      formOk(form, `Added “${created.slug}”.`);
    }
    await loadFaqs();
  } catch (error) {
    if (error instanceof ApiError && error.fields) {
      showFieldErrors(form, error.fields);
      formError(form, error.message);
    } else if (error instanceof ApiError && error.code === "slug_taken") {
      showFieldErrors(form, { slug: error.message });
    } else {
      formError(form, describeError(error));
    }
  } finally {
    submit.disabled = false;
  }
}

async function removeFaq(faq, button) {
  button.disabled = true;
  const error = $("#faqs-error");
  try {
    await api.deleteFaq(faq.slug);
    if (editing === faq.slug) setEditing(null);
    show(error, false);
    await loadFaqs();
  } catch (failure) {
    button.disabled = false;
    error.textContent = `Could not delete “${faq.slug}”: ${describeError(failure)}`;
    show(error, true);
  }
}

// Shared pieces of the ops console's views: sections, dialogs, confirmations, problems, formats
// (tables are ui.js's, shared with the client).
import { ApiProblem } from "../api.js";
import { h, showProblem, clearProblems, values, announce, formatDate } from "../ui.js";

export const SERVICES = ["identity", "billing", "generation", "storage", "privacy"];
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A <section> with its heading; `id` names it for the skip links and the tests.
export function section(id, title, ...children) {
  const heading = h("h2", { id: `${id}-title` }, title);
  return h("section", { id, class: "ops-section", "aria-labelledby": `${id}-title` }, heading, ...children);
}

// A <time> element: machine-readable datetime, human text.
export function time(iso) {
  if (!iso) return "—";
  return h("time", { datetime: iso }, formatDate(iso));
}

export function shortId(id) {
  return id ? h("code", { title: id }, String(id).slice(0, 8)) : "—";
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(Number(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function counts(map) {
  const entries = Object.entries(map || {});
  return entries.length ? entries.map(([k, v]) => `${k}: ${v}`).join(", ") : "nothing to do";
}

export function money(minor, currency) {
  if (minor === null || minor === undefined) return "—";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: (currency || "EUR").toUpperCase() }).format(minor / 100);
  } catch {
    return `${minor} ${currency || ""}`.trim();
  }
}

// What an operator should read for a failed call: a session that ended, a missing role, the rest.
export function problemText(error) {
  if (error instanceof ApiProblem) {
    if (error.status === 401) return "Your session has ended (401). Sign in again to continue.";
    if (error.status === 403 && error.code === "admin-required") return "Admin role required (403): this account may not use the ops API.";
    if (error.status === 403) return `Refused (403): ${error.detail || error.title}`;
    return `${error.title || "Error"} (${error.status || "network"}): ${error.detail || error.message}`;
  }
  return `Unexpected error: ${error && error.message ? error.message : error}`;
}

export function problemAlert(error) {
  const alert = h("p", { class: "alert", role: "alert" }, problemText(error));
  if (error instanceof ApiProblem && error.status === 401) {
    alert.append(" ", h("a", { href: "/ops/" }, "Sign in"));
  }
  return alert;
}

// Fill `slot` with what `load()` renders, a busy note meanwhile, and the problem if it fails.
export async function fill(slot, load) {
  slot.setAttribute("aria-busy", "true");
  slot.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try {
    const content = await load();
    slot.replaceChildren(...[content].flat().filter(Boolean));
  } catch (error) {
    slot.replaceChildren(problemAlert(error));
  } finally {
    slot.removeAttribute("aria-busy");
  }
}

// A button needing a second click within 6 s for destructive or heavy actions.
export function confirmButton(label, confirmLabel, onConfirm, attrs = {}) {
  let armed = null;
  const button = h("button", { type: "button", class: "button danger", ...attrs }, label);
  const disarm = () => {
    clearTimeout(armed);
    armed = null;
    button.textContent = label;
    button.classList.remove("armed");
  };
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = confirmLabel;
      button.classList.add("armed");
      announce(`${confirmLabel}: press again to confirm.`);
      armed = setTimeout(disarm, 6000);
      return;
    }
    disarm();
    button.disabled = true;
    try {
      await onConfirm();
    } finally {
      button.disabled = false;
    }
  });
  button.addEventListener("blur", () => armed && disarm());
  return button;
}

// A modal <dialog> holding a form. `body` is the form's controls; `submit(values)` runs the call:
// on an ApiProblem the dialog stays open with the problem next to its field, on success it closes.
export function formDialog({ title, intro = null, body, submitLabel, submit, danger = false }) {
  return new Promise((resolve) => {
    const form = h("form", { method: "dialog", class: "dialog-form", novalidate: true },
      h("p", { class: "form-alert", role: "alert" }),
      body);
    const submitButton = h("button", { type: "submit", class: danger ? "button danger" : "button primary" }, submitLabel);
    const cancel = h("button", { type: "button", class: "button" }, "Cancel");
    form.append(h("div", { class: "actions" }, submitButton, cancel));
    const titleId = `dialog-${Math.random().toString(36).slice(2)}`;
    const dialog = h("dialog", { class: "ops-dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId }, title), intro ? h("p", {}, intro) : null, form);
    let result = null;
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearProblems(form);
      if (!form.reportValidity()) return;
      submitButton.disabled = true;
      try {
        result = await submit(values(form), form);
        dialog.close();
      } catch (error) {
        showProblem(form, error);
      } finally {
        submitButton.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// A group of radio buttons in a <fieldset> with a legend; error slot for the server's message.
export function radios(legend, name, options) {
  const errorId = `f-${name}-error`;
  return h("fieldset", { class: "field radios", "aria-describedby": errorId },
    h("legend", {}, legend),
    options.map((o, i) => {
      const id = `f-${name}-${i}`;
      return h("div", { class: "radio" },
        h("input", { type: "radio", id, name, value: o.value, required: true, checked: o.checked }),
        h("label", { for: id }, o.label));
    }),
    h("p", { class: "error", id: errorId, "aria-live": "polite" }));
}

// "Load more" for cursor pages: `next(cursor)` appends the next page's rows somewhere.
export function moreButton(cursor, next) {
  if (!cursor) return null;
  const button = h("button", { type: "button", class: "button" }, "Load more");
  button.addEventListener("click", async () => {
    button.disabled = true;
    await next(cursor);
    button.remove();
  });
  return button;
}

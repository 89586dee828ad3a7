// Small DOM helpers shared by the client and the console: elements, forms, problems, status,
// tables.
import { ApiProblem } from "./api.js";

// h("button", {type: "submit", onclick: fn}, "Save") — attributes, properties and children.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// A labelled input: <div class="field"><label for=id>…</label><input id=id name=…><p class="error"></p></div>
export function field(label, attrs = {}, hint = null) {
  const id = attrs.id || `f-${attrs.name}`;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = attrs.tag === "select" || attrs.tag === "textarea"
    ? h(attrs.tag, { ...attrs, tag: undefined, options: undefined, id, "aria-describedby": [hintId, errorId].filter(Boolean).join(" ") }, attrs.options || [])
    : h("input", { type: "text", ...attrs, id, "aria-describedby": [hintId, errorId].filter(Boolean).join(" ") });
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    input,
    h("p", { class: "error", id: errorId, "aria-live": "polite" }));
}

export function values(form) {
  const out = {};
  for (const [key, value] of new FormData(form).entries()) out[key] = value;
  return out;
}

// Show an API problem on a form: each field's message next to it, the rest in the form's alert.
export function showProblem(form, error) {
  clearProblems(form);
  const problem = error instanceof ApiProblem ? error : null;
  let placed = false;
  if (problem) {
    for (const item of problem.errors) {
      const name = Array.isArray(item.loc) ? item.loc[item.loc.length - 1] : null;
      const input = name && form.querySelector(`[name="${CSS.escape(String(name))}"]`);
      if (input) {
        fieldError(input, item.msg);
        placed = true;
      }
    }
    const named = problem.problem && problem.problem.field;
    if (named) {
      const input = form.querySelector(`[name="${CSS.escape(named)}"]`);
      if (input && document.getElementById(`${input.id}-error`)) { fieldError(input, problem.detail); placed = true; }
    }
  }
  const alert = form.querySelector(".form-alert") || form.prepend(h("p", { class: "form-alert", role: "alert" })) || form.querySelector(".form-alert");
  if (!placed || !problem) alert.textContent = error.message || "Something went wrong.";
  const first = form.querySelector("[aria-invalid=true]");
  (first || alert).focus?.();
}

// Show `message` under one field made by field() and mark it invalid; `null` clears both.
// Returns the input (to focus it).
export function fieldError(input, message) {
  if (message === null) input.removeAttribute("aria-invalid");
  else input.setAttribute("aria-invalid", "true");
  const slot = document.getElementById(`${input.id}-error`);
  if (slot) slot.textContent = message ?? "";
  return input;
}

export function clearProblems(form) {
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  form.querySelectorAll(".field .error, .form-alert").forEach((el) => { el.textContent = ""; });
}

// Announce a status to screen readers and sighted users (one live region per page).
export function announce(message) {
  let region = document.getElementById("status");
  if (!region) {
    region = h("div", { id: "status", role: "status", "aria-live": "polite", class: "status" });
    document.body.prepend(region);
  }
  region.textContent = message;
}

export function formatDate(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// A data table in a scrolling wrapper: its <caption> (none for `null`), <th scope="col"> headers
// and, with `rowHeaders`, the first cell of each row a <th scope="row">.
// columns: [{label, cell(row) → text or node, class?}], or plain labels when each row is an
// array of cells. No rows: `empty` in a row of the table, or with `emptyNote` a muted
// paragraph instead of the table. rowAttrs(row) → attributes of the <tr>; `id` the table's.
export function table(caption, columns, rows, { id = null, empty = "Nothing here.", emptyNote = false, rowHeaders = true, rowAttrs = null } = {}) {
  if (emptyNote && rows.length === 0) return h("p", { class: "muted" }, empty);
  const cols = columns.map((c, i) => (typeof c === "string" ? { label: c, cell: (row) => row[i] } : c));
  const head = h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col", class: c.class }, c.label))));
  const header = (i) => rowHeaders && i === 0;
  const body = h("tbody", {},
    rows.length === 0
      ? h("tr", {}, h("td", { colspan: String(cols.length), class: "empty" }, empty))
      : rows.map((row) => h("tr", rowAttrs ? rowAttrs(row) : {},
        cols.map((c, i) => h(header(i) ? "th" : "td", { scope: header(i) ? "row" : undefined, class: c.class }, c.cell(row))))));
  return h("div", { class: "table-wrap" }, h("table", { id }, caption ? h("caption", {}, caption) : null, head, body));
}

// Who is signed in (the profile from GET /v1/account, cached per page load), and the small
// pieces every area shares: the sign-in guard, problem placement, badges and tables.
import { api, ApiProblem, csrf } from "../api.js";
import { h, showProblem, table as uiTable } from "../ui.js";
import { navigate } from "./router.js";

let profile; // undefined: not asked yet; null: anonymous
const listeners = [];

export async function me({ refresh = false } = {}) {
  if (profile !== undefined && !refresh) return profile;
  try {
    profile = await api("GET /v1/account");
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.status !== 401) throw error;
    profile = null;
    csrf.clear();
  }
  return profile;
}

export function forget() {
  profile = null;
  csrf.clear();
  listeners.forEach((fn) => fn(null));
}

export function onSessionChange(fn) {
  listeners.push(fn);
}

export function signedIn(user) {
  profile = user;
  listeners.forEach((fn) => fn(user));
}

// The signed-in profile, or a redirect to the login page that comes back here afterwards.
export async function requireUser() {
  const user = await me();
  if (user) return user;
  const next = location.pathname + location.search;
  await navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
  throw new LeftPage();
}

export class LeftPage extends Error {}

// Problem types that concern one field of a form, when the server does not name the field.
const FIELD_OF = {
  "username-taken": "username",
  "invalid-username": "username",
  "email-taken": "email",
  "invalid-email": "email",
  "under-minimum-age": "birth_date",
  "invalid-birth-date": "birth_date",
  "password-too-short": "password",
  "password-too-long": "password",
  "password-too-common": "password",
  "policy-version-mismatch": "accept_privacy_policy_version",
  "invalid-credentials": "password",
  "wrong-password": "current_password",
};

// Show `error` on `form`: the field it concerns gets the problem's detail next to it.
// `aliases` renames fields for forms whose inputs differ from the API's names.
export function problemOnForm(form, error, aliases = {}) {
  if (error instanceof ApiProblem && error.problem && !error.problem.field) {
    const field = FIELD_OF[error.code];
    const name = aliases[field] || field;
    if (name && form.querySelector(`[name="${name}"]`)) error.problem.field = name;
    for (const item of error.errors) {
      const last = Array.isArray(item.loc) ? item.loc[item.loc.length - 1] : null;
      if (last && aliases[last]) item.loc = [...item.loc.slice(0, -1), aliases[last]];
    }
  }
  showProblem(form, error);
}

// Run a form's submit handler with the button disabled, problems shown on the form.
export function onSubmit(form, handler, aliases) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await handler(event);
    } catch (error) {
      if (error instanceof LeftPage) return;
      problemOnForm(form, error, aliases);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}

// Replace an element's children (nested arrays flattened; null, undefined and false skipped —
// the DOM's own replaceChildren would print them).
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function badge(status) {
  return h("span", { class: `badge ${String(status).replace(/[^a-z_]/gi, "")}` }, String(status).replace(/_/g, " "));
}

// The client's tables (ui.js's table): rows of plain cells, and a muted line for no rows.
export function table(caption, headers, rows, empty = "Nothing yet.") {
  return uiTable(caption, headers, rows, { empty, emptyNote: true, rowHeaders: false });
}

// A row's action button (Revoke, Delete): disabled once pressed, then `action()` runs.
export function rowAction(label, description, action) {
  return h("button", {
    type: "button",
    class: "secondary",
    "aria-label": description,
    onclick: async (event) => {
      event.currentTarget.disabled = true;
      await action();
    },
  }, label);
}

export function stat(label, value, id) {
  return h("div", { class: "stat" }, h("span", { class: "value", id }, String(value)), h("span", { class: "label" }, label));
}

export function money(amount, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: String(currency).toUpperCase() }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency}`;
  }
}

export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

// Poll `fetcher` every `interval` ms while the page stays shown, until `done(value)`.
export function poll(fetcher, onValue, done, { interval = 1000, token, stillOn } = {}) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped || (stillOn && !stillOn(token))) return;
    let value;
    try {
      value = await fetcher();
    } catch (error) {
      onValue(null, error);
      timer = setTimeout(tick, interval * 2);
      return;
    }
    if (stopped || (stillOn && !stillOn(token))) return;
    onValue(value, null);
    if (!done(value)) timer = setTimeout(tick, interval);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

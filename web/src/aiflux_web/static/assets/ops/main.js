// The ops console at /ops/: its own sign-in, an admin check, and one view per area of the ops
// API (every call goes through api.js, which sends /v1/ops/... keys to the web server's relay).
import { api, csrf, ApiProblem } from "../api.js";
import { h, field, fieldError, values, showProblem, clearProblems, announce } from "../ui.js";
import { problemAlert } from "./common.js";
import * as requests from "./requests.js";
import * as messages from "./messages.js";
import * as sweeps from "./sweeps.js";
import * as generation from "./generation.js";
import * as billing from "./billing.js";
import * as minors from "./minors.js";
import * as security from "./security.js";

const VIEWS = [
  { path: "requests", label: "Privacy requests", view: requests },
  { path: "messages", label: "Messages", view: messages },
  { path: "sweeps", label: "Sweeps", view: sweeps },
  { path: "generation", label: "Generation", view: generation },
  { path: "billing", label: "Billing", view: billing },
  { path: "minors", label: "Minor reports", view: minors },
  { path: "security", label: "Security log", view: security },
];

const top = document.getElementById("top");
const main = document.getElementById("main");
let account = null;

function current() {
  const segment = location.pathname.replace(/^\/ops\/?/, "").split("/")[0];
  return VIEWS.find((v) => v.path === segment) || VIEWS[0];
}

function header() {
  const here = current();
  const logout = h("button", { type: "button", class: "button" }, "Sign out");
  logout.addEventListener("click", signOut);
  top.replaceChildren(
    h("div", { class: "bar" },
      h("a", { class: "brand", href: "/ops/requests" }, "AIFLUX ops"),
      h("nav", { "aria-label": "Ops console" },
        h("ul", {}, VIEWS.map((v) => h("li", {}, h("a", {
          href: `/ops/${v.path}`,
          "aria-current": v === here ? "page" : undefined,
          onclick: (event) => navigate(event, v),
        }, v.label))))),
      h("p", { class: "who" }, `Signed in as ${account.username}`, " ", logout)));
}

function navigate(event, view) {
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  history.pushState({}, "", `/ops/${view.path}`);
  show();
}

async function show() {
  const view = current();
  document.title = `${view.label} · AIFLUX ops`;
  clearStatus();
  header();
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try {
    await view.view.render(main);
  } catch (error) {
    main.replaceChildren(h("h1", {}, view.label), problemAlert(error));
    if (error instanceof ApiProblem && error.status === 401) return signIn("Your session has ended. Sign in again.");
  }
  main.focus();
}

function signIn(message = null) {
  account = null;
  top.replaceChildren(h("div", { class: "bar" }, h("span", { class: "brand" }, "AIFLUX ops")));
  document.title = "Sign in · AIFLUX ops";
  const form = h("form", { class: "card", novalidate: true },
    h("p", { class: "form-alert", role: "alert" }, message || ""),
    field("Username or e-mail", { name: "login", autocomplete: "username", required: true, maxlength: "320" }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true, maxlength: "1024" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "button primary" }, "Sign in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    const body = values(form);
    const missing = ["login", "password"].filter((name) => !body[name]);
    if (missing.length) {
      for (const name of missing) fieldError(form.elements[name], "Required.");
      form.elements[missing[0]].focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await api("POST /v1/auth/login", { body: { login: body.login, password: body.password } });
      csrf.set(answer.csrf_token);
      await start();
    } catch (error) {
      showProblem(form, error);
    } finally {
      button.disabled = false;
    }
  });
  main.replaceChildren(h("h1", {}, "Sign in to the ops console"),
    h("p", {}, "For operators with the admin role. Every call you make here is audited."), form);
  form.elements.login.focus();
}

// The last view's news does not belong on the next one.
function clearStatus() {
  const status = document.getElementById("status");
  if (status) status.textContent = "";
}

function notAdmin() {
  clearStatus();
  top.replaceChildren(h("div", { class: "bar" }, h("span", { class: "brand" }, "AIFLUX ops")));
  document.title = "Admin role required · AIFLUX ops";
  const out = h("button", { type: "button", class: "button" }, "Sign out");
  out.addEventListener("click", signOut);
  main.replaceChildren(
    h("h1", {}, "Admin role required"),
    h("p", { role: "alert", class: "alert" },
      `You are signed in as ${account.username}, who does not hold the admin role. The ops console is for operators only.`),
    h("p", {}, h("a", { href: "/" }, "Go to AIFLUX"), " or ", out));
  main.focus();
}

async function signOut() {
  try {
    await api("POST /v1/auth/logout");
  } catch (error) {
    // Signed out either way: an ended session is what we want.
  }
  csrf.clear();
  history.pushState({}, "", "/ops/");
  announce("Signed out.");
  signIn();
}

async function start() {
  try {
    account = await api("GET /v1/account");
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) return signIn();
    top.replaceChildren(h("div", { class: "bar" }, h("span", { class: "brand" }, "AIFLUX ops")));
    main.replaceChildren(h("h1", {}, "AIFLUX ops"), problemAlert(error));
    if (error instanceof ApiProblem && error.code === "policy-acceptance-required") {
      main.append(h("p", {}, h("a", { href: "/privacy" }, "Accept the new privacy policy"), " to continue."));
    }
    return;
  }
  if (!(account.roles || []).includes("admin")) return notAdmin();
  await show();
}

window.addEventListener("popstate", () => account && show());
start();

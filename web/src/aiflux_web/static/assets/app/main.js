// The web client: the header and footer around each page, the start page, and the areas'
// routes (auth, account, billing, files, generate/gallery, privacy).
import { api } from "../api.js";
import { h } from "../ui.js";
import * as account from "./account.js";
import * as auth from "./auth.js";
import * as billing from "./billing.js";
import { startConsent } from "./consent.js";
import * as files from "./files.js";
import * as generate from "./generate.js";
import * as privacy from "./privacy.js";
import { route, setLayout, start } from "./router.js";
import { me, onSessionChange, stat } from "./session.js";

const SIGNED_IN = [["/generate", "Generate"], ["/gallery", "Gallery"], ["/files", "Files"], ["/models", "Models"], ["/billing", "Credits"], ["/privacy", "Privacy"]];
const ANONYMOUS = [["/models", "Models"], ["/privacy", "Privacy"]];

function navLink([href, label], path) {
  const current = path === href || path.startsWith(`${href}/`);
  return h("li", {}, h("a", { href, "aria-current": current ? "page" : null }, label));
}

async function header(path) {
  const user = await me().catch(() => null);
  const links = user ? SIGNED_IN : ANONYMOUS;
  const who = user
    ? [h("a", { href: "/account", "aria-current": path === "/account" ? "page" : null }, user.username), h("button", { type: "button", class: "link", onclick: auth.logout }, "Log out")]
    : [h("a", { href: "/login" }, "Log in"), h("a", { href: "/signup" }, "Sign up")];
  const bar = h("div", { class: "bar" },
    h("a", { href: "/", class: "brand" }, "AIFLUX"),
    h("nav", { "aria-label": "Main" }, h("ul", {}, links.map((link) => navLink(link, path)))),
    h("div", { class: "who" }, who));
  const top = document.getElementById("top");
  top.className = "site-header";
  top.replaceChildren(bar);
  const notice = document.getElementById("policy-notice");
  const pending = user && !path.startsWith("/privacy") ? await privacy.policyToAccept().catch(() => null) : null;
  if (pending && !notice) {
    top.after(h("div", { class: "banner notice", id: "policy-notice", role: "region", "aria-label": "Privacy policy update" },
      h("p", {}, `Our privacy policy changed (version ${pending.version}). `, h("a", { href: "/privacy" }, "Review and accept it"), ".")));
  } else if (!pending && notice) {
    notice.remove();
  }
}

function footer() {
  const bottom = document.getElementById("bottom");
  bottom.className = "site-footer";
  bottom.replaceChildren(h("div", { class: "bar" },
    h("a", { href: "/privacy/policy" }, "Privacy policy"),
    h("a", { href: "/privacy" }, "Privacy centre"),
    h("a", { href: "/models" }, "Models and prices"),
    h("span", {}, "AIFLUX — AI content generation")));
}

async function home() {
  const user = await me();
  if (!user) {
    return [
      h("h1", {}, "Images, video and speech from a prompt"),
      h("p", {}, "Buy a pack of credits, upload a reference if you like, and generate. Your data stays yours: export or delete it any time."),
      h("div", { class: "actions" }, h("a", { class: "button", href: "/signup" }, "Create an account"), h("a", { class: "button secondary", href: "/login" }, "Log in"), h("a", { href: "/models" }, "See the models and prices")),
    ];
  }
  const balance = await api("GET /v1/billing/balance");
  return [
    h("h1", {}, `Welcome, ${user.username}`),
    h("div", { class: "stats" }, stat("Credits available", balance.credits), stat("Held", balance.held)),
    h("div", { class: "actions" }, h("a", { class: "button", href: "/generate" }, "Generate"), h("a", { class: "button secondary", href: "/billing" }, "Buy credits"), h("a", { href: "/gallery" }, "Gallery")),
    user.email_verified ? null : h("p", { class: "banner notice" }, "Your e-mail address is not verified yet."),
  ];
}

route("/", home);
for (const area of [auth, account, billing, files, generate, privacy]) area.install();
setLayout(header);
footer();
onSessionChange(() => header(location.pathname));
start().then(startConsent);

// The cookie/consent banner (§6): analytics stays off until the visitor says yes, and PostHog
// is loaded only then and only when the server has it configured. Declining is one click, as
// easy as accepting; the choice is recorded in privacy's consent ledger (an anonymous visitor
// gets a consent-id cookie that is linked to the account at login).
import { api } from "../api.js";
import { announce, h } from "../ui.js";

let analyticsLoaded = false;

async function analyticsConfig() {
  try {
    const response = await fetch("/client-config.json", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return null;
    return (await response.json()).analytics || null;
  } catch {
    return null;
  }
}

// PostHog's loader, without its inline snippet (the CSP forbids inline script): the queue
// object the library expects, then the library from the configured host.
export async function loadAnalytics() {
  if (analyticsLoaded) return;
  const config = await analyticsConfig();
  if (!config || !config.posthog_key || !config.posthog_host) return;
  analyticsLoaded = true;
  const queue = window.posthog || [];
  queue._i = queue._i || [];
  queue._i.push([config.posthog_key, { api_host: config.posthog_host, persistence: "localStorage+cookie" }, "posthog"]);
  queue.__SV = 1;
  window.posthog = queue;
  document.head.append(h("script", { src: `${config.posthog_host}/static/array.js`, async: true, crossorigin: "anonymous" }));
}

function stopAnalytics() {
  if (window.posthog && typeof window.posthog.opt_out_capturing === "function") window.posthog.opt_out_capturing();
}

async function decide(granted, banner) {
  for (const button of banner.querySelectorAll("button")) button.disabled = true;
  try {
    const state = await api("PUT /v1/privacy/consents/{purpose}", { path: { purpose: "analytics" }, body: { granted } });
    banner.remove();
    announce(granted ? "Analytics allowed. You can withdraw this in the privacy centre." : "Analytics declined. Nothing is tracked.");
    if (state.analytics_allowed) await loadAnalytics();
    else stopAnalytics();
  } catch (error) {
    for (const button of banner.querySelectorAll("button")) button.disabled = false;
    banner.querySelector(".form-alert").textContent = error.message;
  }
}

function bannerFor() {
  const banner = h("section", { class: "banner consent-banner", id: "consent-banner", "aria-labelledby": "consent-banner-title" });
  banner.append(h("div", { class: "inner" },
    h("p", {},
      h("strong", { id: "consent-banner-title" }, "Cookies and analytics. "),
      "We use only the cookies AIFLUX needs to work (session, CSRF, your consent choice). With your consent we would also measure how the site is used (PostHog). ",
      h("a", { href: "/privacy" }, "Details in the privacy centre"), "."),
    h("p", { class: "form-alert", role: "alert" }),
    h("button", { type: "button", class: "secondary", onclick: () => decide(false, banner) }, "Decline analytics"),
    h("button", { type: "button", onclick: () => decide(true, banner) }, "Allow analytics")));
  return banner;
}

// On every full page load: analytics if allowed, else the banner while undecided.
export async function startConsent() {
  let state;
  try {
    state = await api("GET /v1/privacy/consents");
  } catch {
    return; // privacy unreachable: analytics stays off, which is the safe default
  }
  if (state.analytics_allowed) {
    await loadAnalytics();
    return;
  }
  const decided = state.consents && state.consents.analytics && state.consents.analytics.recorded_at;
  if (!decided && !document.getElementById("consent-banner")) document.body.append(bannerFor());
}

// The privacy centre: the policy and its versions (re-acceptance when a new one is in force),
// processors, retention, consents, every §7 request with its due date, status and outcome, the
// export download, and account deletion with a progress page that needs no session.
import { api, url } from "../api.js";
import { announce, field, formatDate, h, values } from "../ui.js";
import { navigate, onLeave, render, route, stillOn } from "./router.js";
import { badge, fill, forget, me, onSubmit, poll, requireUser, signedIn, table } from "./session.js";

const REQUEST_TYPES = [
  ["access", "Access: a copy of all the data we hold about you"],
  ["portability", "Portability: your data in a structured, machine-readable archive"],
  ["rectification", "Rectification: correct data that is wrong (say what in the details)"],
  ["restriction", "Restriction: stop processing your data while a question is settled"],
  ["objection", "Objection: object to processing based on our legitimate interest"],
];
const CLOSED = new Set(["completed", "rejected", "lifted"]);

let policyInForce = null; // asked once per page load

// Where a new policy version is in force that the signed-in user has not accepted yet.
export async function policyToAccept() {
  const user = await me();
  if (!user) return null;
  policyInForce = policyInForce || api("GET /v1/privacy/policy");
  const policy = await policyInForce.catch((error) => { policyInForce = null; throw error; });
  return policy.version !== user.accepted_policy_version ? policy : null;
}

function acceptButton(policy) {
  const alert = h("p", { class: "form-alert", role: "alert" });
  const button = h("button", {
    type: "button",
    onclick: async () => {
      button.disabled = true;
      try {
        await api("POST /v1/account/policy-acceptance", { body: { version: policy.version } });
        signedIn(await me({ refresh: true }));
        announce(`Privacy policy version ${policy.version} accepted.`);
        await render();
      } catch (error) {
        alert.textContent = error.message;
        button.disabled = false;
      }
    },
  }, `Accept version ${policy.version}`);
  return h("div", {}, alert, button);
}

async function policySection(user) {
  const [policy, versions] = await Promise.all([api("GET /v1/privacy/policy"), api("GET /v1/privacy/policy/versions")]);
  const pending = user && policy.version !== user.accepted_policy_version;
  return h("section", { "aria-labelledby": "policy-heading" },
    h("h2", { id: "policy-heading" }, "Privacy policy"),
    h("p", {}, `Version ${policy.version}, in force since ${formatDate(policy.effective_at)}. `,
      h("a", { href: "/privacy/policy" }, "Read the policy"), " (also ", h("a", { href: "/privacy/policy", "data-reload": "" }, "without JavaScript"), ")."),
    user ? h("p", {}, `You accepted version ${user.accepted_policy_version} on ${formatDate(user.accepted_policy_at)}.`) : null,
    pending ? h("div", { class: "banner notice" }, h("p", {}, `Version ${policy.version} replaces the one you accepted. Please review it and accept it to keep using AIFLUX.`), acceptButton(policy)) : null,
    table("Versions", ["Version", "Effective", "Published", "Substantial change", "Status"], versions.items.map((v) => [
      v.version, formatDate(v.effective_at), formatDate(v.published_at), v.substantial ? "yes" : "no", v.status,
    ])));
}

function consentToggle(purpose, label, state) {
  const current = state.consents[purpose] || {};
  const id = `f-consent-${purpose}`;
  const box = h("input", { type: "checkbox", id, name: purpose, checked: Boolean(current.granted) });
  const note = h("span", { class: "muted" }, current.recorded_at ? ` (decided ${formatDate(current.recorded_at)})` : " (not decided yet)");
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      await api("PUT /v1/privacy/consents/{purpose}", { path: { purpose }, body: { granted: box.checked } });
      note.textContent = ` (decided ${formatDate(new Date().toISOString())})`;
      announce(`${label}: ${box.checked ? "allowed" : "withdrawn"}.`);
    } catch (error) {
      box.checked = !box.checked;
      announce(error.message);
    } finally {
      box.disabled = false;
    }
  });
  return h("div", { class: "check" }, box, h("label", { for: id }, label), note);
}

async function consentSection() {
  const state = await api("GET /v1/privacy/consents");
  return h("section", { "aria-labelledby": "consent-heading" },
    h("h2", { id: "consent-heading" }, "Your consents"),
    h("p", {}, "Withdrawing is as easy as giving: untick the box. It takes effect at once."),
    h("div", { class: "card" },
      consentToggle("analytics", "Product analytics (PostHog), loaded only with this consent", state),
      state.subject_kind === "user" ? consentToggle("marketing", "News and offers by e-mail", state) : null));
}

async function processorsSection() {
  const processors = await api("GET /v1/privacy/processors");
  return h("section", { "aria-labelledby": "processors-heading" },
    h("h2", { id: "processors-heading" }, "Who processes your data"),
    table(null, ["Processor", "Country", "Purpose", "Data", "Transfer basis"], processors.items.map((p) => [
      p.name, p.country, p.purpose, p.data_categories.join(", "), p.transfer_basis,
    ])));
}

async function retentionSection() {
  const rules = await api("GET /v1/privacy/retention");
  return h("section", { "aria-labelledby": "retention-heading" },
    h("h2", { id: "retention-heading" }, "How long we keep it"),
    table(null, ["Data", "Kept", "From", "Then", "Legal basis"], rules.items.map((r) => [
      r.category.replace(/_/g, " "), r.period_text, r.trigger.replace(/_/g, " "), r.action.replace(/_/g, " "), r.legal_basis,
    ])));
}

function requestRow(r) {
  return [
    h("a", { href: `/privacy/requests/${r.id}` }, r.type),
    formatDate(r.received_at),
    [formatDate(r.due_at), r.extended ? h("span", { class: "muted" }, " (extended)") : null],
    badge(r.status),
    r.outcome || "—",
  ];
}

function requestForm() {
  const form = h("form", { "aria-labelledby": "new-request-heading" },
    h("p", { class: "form-alert", role: "alert" }),
    field("What do you ask for?", { name: "type", tag: "select", options: REQUEST_TYPES.map(([v, label]) => h("option", { value: v }, label)) }),
    field("Details (optional)", { name: "details", tag: "textarea", maxlength: 2000 }, "For rectification or objection: what is wrong, or why you object."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Send the request")));
  return onSubmit(form, async () => {
    const data = values(form);
    const filed = await api("POST /v1/privacy/requests", { body: { type: data.type, details: data.details || null } });
    announce(`Request received; due by ${formatDate(filed.due_at)}.`);
    await navigate(`/privacy/requests/${filed.id}`);
  });
}

function deletionForm() {
  const form = h("form", { "aria-labelledby": "delete-heading" },
    h("p", { class: "form-alert", role: "alert" }),
    field("Your password", { id: "f-delete-password", name: "password", type: "password", autocomplete: "current-password", required: true }, "Deleting your account signs you out everywhere and erases your data from every service. Payments are kept (pseudonymised) for 10 years as the law requires."),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, "Delete my account")));
  return onSubmit(form, async () => {
    const started = await api("DELETE /v1/account", { body: { password: values(form).password } });
    forget();
    // The status link works without a session: the page shows it from its path and token.
    const link = new URL(started.status_url, location.origin);
    await navigate(statusPage(started.request_id, link.searchParams.get("token")));
  }, { current_password: "password" });
}

function statusPage(requestId, token) {
  return `/privacy/requests/${encodeURIComponent(requestId)}/status?token=${encodeURIComponent(token || "")}`;
}

async function centre() {
  const user = await me();
  const sections = await Promise.all([policySection(user), consentSection(), processorsSection(), retentionSection()]);
  const out = [h("h1", {}, "Privacy centre"), h("p", {}, "What we hold, why, for how long, who helps us, and your rights under §7 of the policy.")];
  out.push(...sections);
  if (user) {
    const requests = await api("GET /v1/privacy/requests");
    out.push(
      h("section", { "aria-labelledby": "requests-heading" },
        h("h2", { id: "requests-heading" }, "Your requests"),
        h("p", {}, "We answer within 30 days (the due date); an extension is always explained."),
        table(null, ["Request", "Received", "Due", "Status", "Outcome"], requests.items.map(requestRow), "You have not made a request yet."),
        h("h3", { id: "new-request-heading" }, "Make a request"),
        requestForm()),
      h("section", { "aria-labelledby": "delete-heading" },
        h("h2", { id: "delete-heading" }, "Delete your account"),
        deletionForm()));
  } else {
    out.push(h("p", {}, h("a", { href: "/login?next=/privacy" }, "Log in"), " to see your requests, export your data or delete your account."));
  }
  return out;
}

async function policyPage() {
  const [policy, versions] = await Promise.all([api("GET /v1/privacy/policy"), api("GET /v1/privacy/policy/versions")]);
  return [
    h("h1", {}, "Privacy policy"),
    h("p", { class: "muted" }, `Version ${policy.version}, in force since ${formatDate(policy.effective_at)}. Earlier versions: ${versions.items.map((v) => v.version).join(", ")}.`),
    h("pre", { class: "policy" }, policy.text),
    h("p", {}, h("a", { href: "/privacy" }, "Privacy centre")),
  ];
}

function progressList(progress, erasure) {
  const entries = Object.entries(progress || {});
  if (!entries.length) return h("p", { class: "muted" }, "No service has reported yet.");
  return h("ul", { class: "steps", id: "progress" }, entries.map(([service, step]) => {
    let state;
    if (erasure) state = step.verified || (step.verified_at && step.clean) ? "verified" : (step.erased || step.receipt_at ? "erased" : "pending");
    else state = step.ready_at ? "ready" : "pending";
    return h("li", {}, h("span", {}, service), badge(state));
  }));
}

async function requestDetail({ params, token }) {
  await requireUser();
  const body = h("div", {});
  const draw = (r) => {
    const download = r.download_available
      ? h("p", {}, h("a", {
        class: "button",
        href: url("GET /v1/privacy/requests/{request_id}/download", { path: { request_id: r.id } }),
        download: `aiflux-export-${r.id}.zip`,
      }, "Download your data (ZIP)"), r.download_expires_at ? h("span", { class: "muted" }, ` available until ${formatDate(r.download_expires_at)}`) : null)
      : null;
    fill(body,
      h("dl", { class: "card" },
        h("dt", {}, h("strong", {}, "Status")), h("dd", { id: "request-status" }, badge(r.status)),
        h("dt", {}, h("strong", {}, "Received")), h("dd", {}, formatDate(r.received_at)),
        h("dt", {}, h("strong", {}, "Due by")), h("dd", {}, formatDate(r.due_at), r.extended ? ` (extended: ${r.extension_reason || "no reason given"})` : ""),
        h("dt", {}, h("strong", {}, "Outcome")), h("dd", {}, r.outcome || "—"),
        r.answer ? [h("dt", {}, h("strong", {}, "Our answer")), h("dd", {}, r.answer)] : null,
        r.details ? [h("dt", {}, h("strong", {}, "Your details")), h("dd", {}, r.details)] : null,
        r.closed_at ? [h("dt", {}, h("strong", {}, "Closed")), h("dd", {}, formatDate(r.closed_at))] : null),
      download,
      r.progress ? [h("h2", {}, "Progress per service"), progressList(r.progress, r.type === "erasure")] : null);
  };
  const first = await api("GET /v1/privacy/requests/{request_id}", { path: { request_id: params.id } });
  draw(first);
  if (!CLOSED.has(first.status) && first.status !== "in_effect") {
    onLeave(poll(
      () => api("GET /v1/privacy/requests/{request_id}", { path: { request_id: params.id } }),
      (r) => { if (r) draw(r); },
      (r) => Boolean(r && (CLOSED.has(r.status) || r.status === "in_effect")),
      { token, stillOn },
    ));
  }
  return [h("h1", {}, `Your ${first.type} request`), h("div", { "aria-live": "polite" }, body), h("p", {}, h("a", { href: "/privacy" }, "All your requests"))];
}

// The erasure's progress from its status link: no session needed (the account is gone).
async function erasureStatus({ params, query, token }) {
  const statusToken = query.get("token") || "";
  const state = h("p", { role: "status", id: "erasure-state" }, "Checking…");
  const detail = h("div", {});
  const draw = (s) => {
    state.textContent = s.status === "completed"
      ? `Erasure complete${s.outcome ? ` (${s.outcome})` : ""} on ${formatDate(s.closed_at)}.`
      : `Erasure ${s.status.replace(/_/g, " ")}${s.due_at ? `; due by ${formatDate(s.due_at)}` : ""}.`;
    state.dataset.status = s.status;
    const certificate = s.certificate;
    fill(detail,
      h("h2", {}, "Progress per service"),
      progressList(s.progress, true),
      certificate ? [
        h("h2", {}, "Certificate"),
        h("p", {}, `Issued ${formatDate(certificate.issued_at)}. It holds counts and dates only, no personal data.`),
        table("Kept, and why", ["Service", "Data", "Legal basis", "Kept until"], (certificate.retained || []).map((i) => [
          i.service || "—", i.description || String(i.category).replace(/_/g, " "), i.legal_basis || "—", i.retained_until || "—",
        ]), "Nothing is kept."),
      ] : null);
  };
  onLeave(poll(
    () => api("GET /v1/privacy/requests/{request_id}/status", { path: { request_id: params.id }, query: { token: statusToken } }),
    (s) => { if (s) draw(s); },
    (s) => Boolean(s && CLOSED.has(s.status)),
    { token, stillOn },
  ));
  return [
    h("h1", {}, "Account deletion in progress"),
    h("p", {}, "Your account is closed and you are signed out. Every service erases your data and reports back; this page follows it. Keep its address private: it is the only key to this status."),
    state,
    detail,
    h("p", {}, h("a", { href: "/privacy/policy" }, "Privacy policy")),
  ];
}

export function install() {
  route("/privacy", centre);
  route("/privacy/policy", policyPage);
  route("/privacy/requests/:id", requestDetail);
  route("/privacy/requests/:id/status", erasureStatus);
}

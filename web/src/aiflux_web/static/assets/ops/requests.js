// Privacy requests: open ones with days left (overdue first), extension, decision, restrictions
// in effect and lifting them, and one request's erasure progress per service and certificate.
import { api } from "../api.js";
import { h, field, fieldError, announce, formatDate, table } from "../ui.js";
import { UUID, section, time, shortId, fill, formDialog, radios, moreButton, problemAlert } from "./common.js";

const TYPE_LABELS = {
  access: "Access",
  portability: "Portability",
  rectification: "Rectification",
  erasure: "Erasure",
  restriction: "Restriction",
  objection: "Objection",
};
const DECIDED_BY_OPS = ["rectification", "objection"];

function typeLabel(type) {
  return TYPE_LABELS[type] || type;
}

function statusLabel(status) {
  return String(status || "").replaceAll("_", " ");
}

// Overdue first, then the earliest due (the API already orders by due date; this keeps the
// order whatever page the rows came from).
export function byUrgency(a, b) {
  if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
  return new Date(a.due_at) - new Date(b.due_at);
}

function daysLeft(row) {
  if (row.days_left === null || row.days_left === undefined) return "—";
  if (row.overdue) {
    const late = Math.max(1, -row.days_left);
    return h("span", { class: "badge overdue" }, `Overdue by ${late} day${late === 1 ? "" : "s"}`);
  }
  const left = row.days_left;
  return h("span", { class: left <= 5 ? "badge soon" : "badge" }, `${left} day${left === 1 ? "" : "s"} left`);
}

export async function render(main) {
  const state = { rows: [], cursor: 0 };
  const openSlot = h("div", { class: "slot" });
  const restrictionSlot = h("div", { class: "slot" });
  const detailSlot = h("div", { class: "slot", id: "request-detail", tabindex: "-1" });

  const redraw = () => {
    const rows = [...state.rows].sort(byUrgency);
    const open = rows.filter((r) => r.status !== "in_effect");
    const restrictions = rows.filter((r) => r.type === "restriction" && r.status === "in_effect");
    openSlot.replaceChildren(...[
      table(`Open privacy requests, overdue first (${open.length})`, [
        { label: "Request", cell: (r) => [typeLabel(r.type), " ", shortId(r.id)] },
        { label: "Status", cell: (r) => statusLabel(r.status) },
        { label: "Received", cell: (r) => time(r.received_at) },
        { label: "Due", class: "due", cell: (r) => time(r.due_at) },
        { label: "Days left", cell: daysLeft },
        { label: "Extension", cell: (r) => (r.extended ? `Extended: ${r.extension_reason || "—"}` : "—") },
        { label: "Actions", class: "col-actions", cell: (r) => actions(r) },
      ], open, {
        id: "open-requests",
        empty: "No open requests.",
        rowAttrs: (r) => ({ "data-request-id": r.id, class: r.overdue ? "overdue" : undefined }),
      }),
      moreButton(state.nextCursor, async (cursor) => load(cursor)),
    ].filter(Boolean));
    restrictionSlot.replaceChildren(
      table(`Restrictions of processing in effect (${restrictions.length})`, [
        { label: "Request", cell: (r) => [typeLabel(r.type), " ", shortId(r.id)] },
        { label: "In effect since", cell: (r) => time(r.received_at) },
        { label: "User", cell: (r) => shortId(r.user_id) },
        { label: "Details", cell: (r) => r.details || "—" },
        { label: "Actions", class: "col-actions", cell: (r) => [
          h("button", { type: "button", class: "button", onclick: () => showDetail(r.id), "aria-label": `Details of restriction ${r.id.slice(0, 8)}` }, "Details"),
          h("button", { type: "button", class: "button danger", onclick: () => lift(r), "aria-label": `Lift restriction ${r.id.slice(0, 8)}` }, "Lift…"),
        ] },
      ], restrictions, { id: "restrictions", empty: "No restriction is in effect.", rowAttrs: (r) => ({ "data-request-id": r.id }) }),
    );
  };

  const actions = (r) => {
    const name = `${typeLabel(r.type)} request ${r.id.slice(0, 8)}`;
    return [
      h("button", { type: "button", class: "button", onclick: () => showDetail(r.id), "aria-label": `Details of ${name}` }, "Details"),
      r.extended ? null : h("button", { type: "button", class: "button", onclick: () => extend(r), "aria-label": `Extend ${name}` }, "Extend…"),
      DECIDED_BY_OPS.includes(r.type) && r.status === "received"
        ? h("button", { type: "button", class: "button", onclick: () => decide(r), "aria-label": `Decide ${name}` }, "Decide…")
        : null,
    ];
  };

  const load = async (cursor = 0) => {
    const page = await api("GET /v1/ops/privacy/requests", { query: { limit: 50, cursor } });
    state.rows = cursor ? [...state.rows, ...page.items] : page.items;
    state.nextCursor = page.next_cursor;
    redraw();
  };

  const reload = async () => {
    openSlot.replaceChildren(h("p", { class: "loading" }, "Loading…"));
    try {
      await load(0);
    } catch (error) {
      openSlot.replaceChildren(problemAlert(error));
    }
  };

  const replaceRow = (updated) => {
    state.rows = state.rows.map((r) => (r.id === updated.id ? updated : r)).filter((r) => r.status === "in_effect" || !r.closed_at);
    redraw();
    // The dialog's opener was redrawn: keep the keyboard on the request (or its table).
    const row = main.querySelector(`tr[data-request-id="${CSS.escape(updated.id)}"] button`);
    (row || main).focus();
  };

  const extend = async (r) => {
    const updated = await formDialog({
      title: `Extend the deadline of ${typeLabel(r.type).toLowerCase()} request ${r.id.slice(0, 8)}`,
      intro: `Due ${formatDate(r.due_at)}. A deadline can be extended once, by up to two months; the user is mailed the reason.`,
      body: [
        field("Extra days", { name: "days", type: "number", min: "1", max: "61", value: "30", required: true, inputmode: "numeric" }, "1 to 61 days beyond the original due date."),
        field("Reason (sent to the user)", { tag: "textarea", name: "reason", required: true, rows: "3", maxlength: "2000" }),
      ],
      submitLabel: "Extend deadline",
      submit: (v) => api("POST /v1/ops/privacy/requests/{request_id}/extension", {
        path: { request_id: r.id },
        body: { days: Number(v.days), reason: v.reason },
      }),
    });
    if (updated) {
      replaceRow(updated);
      announce(`Deadline extended: now due ${formatDate(updated.due_at)}.`);
    }
  };

  const decide = async (r) => {
    const updated = await formDialog({
      title: `Decide ${typeLabel(r.type).toLowerCase()} request ${r.id.slice(0, 8)}`,
      intro: r.details ? `The user wrote: “${r.details}”` : null,
      body: [
        radios("Decision", "granted", [{ value: "true", label: "Grant" }, { value: "false", label: "Reject" }]),
        field("Answer (sent to the user)", { tag: "textarea", name: "answer", required: true, rows: "4", maxlength: "4000" }),
      ],
      submitLabel: "Send decision",
      submit: (v) => api("POST /v1/ops/privacy/requests/{request_id}/decision", {
        path: { request_id: r.id },
        body: { granted: v.granted === "true", answer: v.answer },
      }),
    });
    if (updated) {
      replaceRow(updated);
      announce(`Decision sent: ${updated.outcome || updated.status}.`);
    }
  };

  const lift = async (r) => {
    const updated = await formDialog({
      title: `Lift restriction ${r.id.slice(0, 8)}`,
      intro: "Processing of this user's data resumes (generation, marketing). The user is mailed the reason.",
      body: [field("Reason (sent to the user)", { tag: "textarea", name: "reason", required: true, rows: "3", maxlength: "2000" })],
      submitLabel: "Lift restriction",
      danger: true,
      submit: (v) => api("POST /v1/ops/privacy/requests/{request_id}/lift-restriction", {
        path: { request_id: r.id },
        body: { reason: v.reason },
      }),
    });
    if (updated) {
      replaceRow(updated);
      announce("Restriction lifted.");
    }
  };

  const showDetail = async (id) => {
    await fill(detailSlot, async () => detail(await api("GET /v1/ops/privacy/requests/{request_id}", { path: { request_id: id } })));
    detailSlot.focus();
  };

  const lookup = h("form", { class: "inline-form", novalidate: true },
    field("Request id", { name: "request_id", required: true, autocomplete: "off", spellcheck: "false" }, "Any request, open or closed: its progress per service and its certificate."),
    h("button", { type: "submit", class: "button" }, "Show request"));
  lookup.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = lookup.elements.request_id;
    const id = input.value.trim();
    if (!UUID.test(id)) {
      fieldError(input, "Enter the request's full id (a UUID).").focus();
      return;
    }
    fieldError(input, null);
    await showDetail(id);
  });

  main.replaceChildren(
    h("h1", {}, "Privacy requests"),
    section("requests-open", "Open requests", openSlot),
    section("requests-restrictions", "Restrictions in effect", restrictionSlot),
    section("requests-lookup", "Progress and certificate of a request", lookup, detailSlot),
  );
  await reload();
}

function detail(r) {
  const facts = [
    ["Id", h("code", {}, r.id)],
    ["Type", typeLabel(r.type)],
    ["Status", statusLabel(r.status)],
    ["User", r.user_id ? h("code", {}, r.user_id) : "erased (no user id kept)"],
    ["Received", time(r.received_at)],
    ["Due", time(r.due_at)],
    ["Days left", r.days_left ?? "—"],
    ["Extension", r.extended ? r.extension_reason || "yes" : "—"],
    ["Outcome", r.outcome || "—"],
    ["Answer", r.answer || "—"],
    ["Closed", time(r.closed_at)],
    ["Redrives", r.redrives],
  ];
  const steps = Object.entries(r.progress || {}).map(([service, step]) => ({ service, ...step }));
  const erasure = r.type === "erasure";
  const progress = table(`Progress per service (${steps.length})`, erasure
    ? [
      { label: "Service", cell: (s) => s.service },
      { label: "Receipt", cell: (s) => s.receipt ? summary(s.receipt) : "waiting" },
      { label: "Erased at", cell: (s) => time(s.receipt_at) },
      { label: "Verification", cell: (s) => s.verification ? summary(s.verification) : "waiting" },
      { label: "Verified at", cell: (s) => time(s.verified_at) },
      { label: "Clean", cell: (s) => (s.clean === true ? "yes" : s.clean === false ? "NO: residue found" : "—") },
    ]
    : [
      { label: "Service", cell: (s) => s.service },
      { label: "Part", cell: (s) => s.part ? summary(s.part) : "waiting" },
      { label: "Ready at", cell: (s) => time(s.ready_at) },
    ], steps, { id: "request-progress", empty: "No service has reported yet." });
  return [
    h("h3", {}, `${typeLabel(r.type)} request ${r.id.slice(0, 8)}`),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    progress,
    h("h4", {}, "Certificate"),
    r.certificate
      ? h("dl", { class: "facts certificate" }, Object.entries(r.certificate).map(([k, v]) => [h("dt", {}, k), h("dd", {}, summary(v))]))
      : h("p", {}, erasure ? "Not issued yet: it is issued once every service has erased and verified." : "Only erasures are certified."),
  ];
}

function summary(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "object") return String(value);
  return Object.entries(value).map(([k, v]) => `${k}: ${typeof v === "object" && v !== null ? JSON.stringify(v) : v}`).join("; ");
}

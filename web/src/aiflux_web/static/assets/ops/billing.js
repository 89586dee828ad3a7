// Billing: payments, refunds, disputes and reconciliation with the payment provider.
import { api } from "../api.js";
import { h, field, announce, table } from "../ui.js";
import { section, time, shortId, fill, money, counts, confirmButton, moreButton, problemText } from "./common.js";

const PAYMENT_COLUMNS = [
  { label: "Payment", cell: (r) => shortId(r.payment_id) },
  { label: "Status", cell: (r) => r.status },
  { label: "Pack", cell: (r) => r.plan_id },
  { label: "Amount", cell: (r) => money(r.amount, r.currency) },
  { label: "Credits", cell: (r) => String(r.credits) },
  { label: "Refunded", cell: (r) => (r.refunded_amount ? money(r.refunded_amount, r.currency) : "—") },
  { label: "Credits reversed / unrecovered", cell: (r) => `${r.credits_reversed} / ${r.credits_unrecovered}` },
  { label: "Created", cell: (r) => time(r.created_at) },
  { label: "Paid", cell: (r) => time(r.paid_at) },
  { label: "Kept until", cell: (r) => time(r.retain_until) },
];

export async function render(main) {
  const paymentsSlot = h("div", { class: "slot" });
  const refundsSlot = h("div", { class: "slot" });
  const disputesSlot = h("div", { class: "slot" });
  const reconSlot = h("div", { class: "slot" });
  const paymentFilter = h("form", { class: "inline-form", novalidate: true },
    field("Payment status", { name: "status", maxlength: "20", placeholder: "any", autocomplete: "off" }, "e.g. paid, pending, refunded; empty for all."),
    h("button", { type: "submit", class: "button" }, "Show"));
  const disputeFilter = h("form", { class: "inline-form", novalidate: true },
    h("div", { class: "field checkbox" },
      h("input", { type: "checkbox", id: "f-open_only", name: "open_only" }),
      h("label", { for: "f-open_only" }, "Open disputes only")),
    h("button", { type: "submit", class: "button" }, "Show"));
  const loadPayments = () => fill(paymentsSlot, () => payments(paymentFilter.elements.status.value.trim(), paymentsSlot));
  const loadDisputes = () => fill(disputesSlot, () => disputes(disputeFilter.elements.open_only.checked));
  const loadRecon = () => fill(reconSlot, () => reconciliation(loadRecon));
  paymentFilter.addEventListener("submit", (e) => { e.preventDefault(); loadPayments(); });
  disputeFilter.addEventListener("submit", (e) => { e.preventDefault(); loadDisputes(); });
  main.replaceChildren(
    h("h1", {}, "Billing"),
    section("reconciliation", "Reconciliation", reconSlot),
    section("payments", "Payments", paymentFilter, paymentsSlot),
    section("refunds", "Refunds", refundsSlot),
    section("disputes", "Disputes", disputeFilter, disputesSlot),
  );
  await Promise.all([loadRecon(), loadPayments(), fill(refundsSlot, refunds), loadDisputes()]);
}

async function payments(status, slot, cursor = null) {
  const page = await api("GET /v1/ops/billing/payments", { query: { status, limit: 50, cursor } });
  const more = moreButton(page.next_cursor, async (next) => {
    slot.append(...[await payments(status, slot, next)].flat().filter(Boolean));
  });
  return [table(`Payments${status ? ` with status ${status}` : ""}, newest first`, PAYMENT_COLUMNS, page.items, { empty: "No payment." }), more];
}

async function refunds() {
  const page = await api("GET /v1/ops/billing/refunds", { query: { limit: 50 } });
  return table("Refunded payments, newest first", PAYMENT_COLUMNS, page.items, { id: "refunds-table", empty: "No refund." });
}

async function disputes(openOnly) {
  const page = await api("GET /v1/ops/billing/disputes", { query: { open_only: openOnly ? "true" : undefined } });
  return table(openOnly ? "Open disputes" : "Disputes", [
    { label: "Dispute", cell: (r) => shortId(r.dispute_id) },
    { label: "Payment", cell: (r) => shortId(r.payment_id) },
    { label: "Status", cell: (r) => r.status },
    { label: "Amount (minor units)", cell: (r) => String(r.amount) },
    { label: "Credits reversed / unrecovered", cell: (r) => `${r.credits_reversed} / ${r.credits_unrecovered}` },
    { label: "Opened", cell: (r) => time(r.opened_at) },
    { label: "Closed", cell: (r) => time(r.closed_at) },
  ], page.items, { id: "disputes-table", empty: "No dispute." });
}

async function reconciliation(reload) {
  const page = await api("GET /v1/ops/billing/reconciliation", { query: { limit: 50 } });
  const run = page.last_run;
  const runNow = confirmButton("Reconcile now", "Confirm: reconcile now", async () => {
    try {
      const result = await api("POST /v1/ops/billing/reconciliation/run");
      announce(result.error ? `Reconciliation failed: ${result.error}` : `Reconciliation done: ${counts(result.counts)}.`);
      await reload();
    } catch (error) {
      announce(problemText(error));
    }
  }, { class: "button" });
  return [
    h("dl", { class: "facts" },
      h("dt", {}, "Last run"), h("dd", {}, run ? time(run.started_at) : "never"),
      h("dt", {}, "Finished"), h("dd", {}, run ? time(run.finished_at) : "—"),
      h("dt", {}, "Result"), h("dd", {}, run ? (run.error ? h("span", { class: "problem" }, `failed: ${run.error}`) : counts(run.counts)) : "—")),
    h("p", { class: "toolbar" }, runNow),
    table("Payments fulfilled by reconciliation (paid at the provider, webhook missed)", PAYMENT_COLUMNS, page.items, { id: "reconciliation-table", empty: "No payment needed reconciliation." }),
  ];
}

// Credits: the packs and their checkout (Stripe's page, or the embedded mode's simulated one),
// the pages Stripe returns to, the balance, the ledger and the payments.
import { api } from "../api.js";
import { formatDate, h } from "../ui.js";
import { onLeave, route, stillOn } from "./router.js";
import { badge, money, poll, requireUser, stat, table } from "./session.js";

function balanceStats(balance) {
  return h("div", { class: "stats" },
    stat("Credits available", balance.credits, "balance-credits"),
    stat("Held for running generations", balance.held, "balance-held"),
    balance.spending_frozen ? h("p", { class: "banner notice", role: "status" }, "Spending is frozen on this account (a payment is disputed or processing is restricted).") : null);
}

function packCard(plan) {
  const alert = h("p", { class: "form-alert", role: "alert" });
  const button = h("button", {
    type: "button",
    "aria-label": `Buy ${plan.name}: ${plan.credits} credits for ${money(plan.amount, plan.currency)}`,
    onclick: async () => {
      button.disabled = true;
      alert.textContent = "";
      try {
        const started = await api("POST /v1/billing/checkout", { body: { plan_id: plan.id } });
        location.assign(started.checkout_url);
      } catch (error) {
        alert.textContent = error.message;
        button.disabled = false;
      }
    },
  }, "Buy");
  return h("div", { class: "card" },
    h("h3", {}, plan.name),
    h("p", {}, h("strong", {}, `${plan.credits} credits`), ` for ${money(plan.amount, plan.currency)}`),
    alert,
    button);
}

function ledgerTable(entries) {
  return table("Credit ledger", ["When", "What", "Credits", "Note"], entries.map((e) => [
    formatDate(e.created_at), e.kind.replace(/_/g, " "), (e.credits > 0 ? "+" : "") + e.credits, e.note || "—",
  ]), "No credit movements yet.");
}

function paymentsTable(payments) {
  return table("Payments", ["When", "Pack", "Credits", "Amount", "Status"], payments.map((p) => [
    formatDate(p.paid_at || p.created_at), p.plan_id, p.credits, money(p.amount, p.currency), badge(p.status),
  ]), "No payments yet.");
}

async function billing() {
  await requireUser();
  const [balance, plans, ledger, payments] = await Promise.all([
    api("GET /v1/billing/balance"),
    api("GET /v1/billing/plans"),
    api("GET /v1/billing/ledger", { query: { limit: 50 } }),
    api("GET /v1/billing/payments", { query: { limit: 50 } }),
  ]);
  return [
    h("h1", {}, "Credits and billing"),
    balanceStats(balance),
    h("h2", {}, "Credit packs"),
    h("p", { class: "muted" }, "Payment is handled by Stripe; AIFLUX never sees your card."),
    h("div", { class: "grid" }, plans.items.map(packCard)),
    h("h2", {}, "Ledger"),
    ledgerTable(ledger.items),
    h("h2", {}, "Payments"),
    paymentsTable(payments.items),
  ];
}

// Stripe sends the buyer back before (or after) its webhook credits the pack: watch the payment.
async function success({ query, token }) {
  await requireUser();
  const sessionId = query.get("session_id");
  const state = h("p", { role: "status", id: "payment-state" }, "Waiting for the payment to be confirmed…");
  const stats = h("div", {});
  const stop = poll(
    async () => {
      const [payments, balance] = await Promise.all([api("GET /v1/billing/payments", { query: { limit: 20 } }), api("GET /v1/billing/balance")]);
      return { payment: payments.items.find((p) => p.session_id === sessionId), balance };
    },
    (value) => {
      if (!value) return;
      stats.replaceChildren(balanceStats(value.balance));
      if (value.payment && value.payment.paid_at) state.textContent = `Payment confirmed: ${value.payment.credits} credits added.`;
    },
    (value) => Boolean(value && value.payment && value.payment.paid_at),
    { token, stillOn },
  );
  onLeave(stop);
  return [
    h("h1", {}, "Thank you for your purchase"),
    state,
    stats,
    h("p", {}, h("a", { href: "/generate" }, "Start generating"), " · ", h("a", { href: "/billing" }, "Billing and ledger")),
  ];
}

async function cancelled() {
  return [
    h("h1", {}, "Checkout cancelled"),
    h("p", {}, "Nothing was charged. You can pick a pack again whenever you like."),
    h("p", {}, h("a", { href: "/billing" }, "Back to the credit packs")),
  ];
}

export function install() {
  route("/billing", billing);
  route("/billing/success", success);
  route("/billing/cancelled", cancelled);
}

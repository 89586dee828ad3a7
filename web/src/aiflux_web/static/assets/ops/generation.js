// Generation: provider circuit breakers, failed jobs, provider-side cleanups with retry.
import { api } from "../api.js";
import { h, field, announce, table } from "../ui.js";
import { section, time, shortId, fill, problemText } from "./common.js";

export async function render(main) {
  const providersSlot = h("div", { class: "slot" });
  const failedSlot = h("div", { class: "slot" });
  const cleanupSlot = h("div", { class: "slot" });
  const filter = h("form", { class: "inline-form", novalidate: true },
    field("Cleanups in state", {
      tag: "select",
      name: "status",
      options: ["parked", "pending", "done"].map((s) => h("option", { value: s }, s)),
    }),
    h("button", { type: "submit", class: "button" }, "Show"));
  const loadCleanups = () => fill(cleanupSlot, () => cleanups(filter.elements.status.value, loadCleanups));
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    loadCleanups();
  });
  main.replaceChildren(
    h("h1", {}, "Generation"),
    section("providers", "Provider breakers", providersSlot),
    section("failed-jobs", "Failed jobs", failedSlot),
    section("cleanups", "Provider cleanups", filter, cleanupSlot),
  );
  await Promise.all([fill(providersSlot, providers), fill(failedSlot, failedJobs), loadCleanups()]);
}

async function providers() {
  const page = await api("GET /v1/ops/generation/providers");
  return table("Circuit breaker of each AI provider (open: calls are refused until it recovers)", [
    { label: "Provider", cell: (r) => r.provider },
    { label: "Breaker", cell: (r) => h("span", { class: r.breaker === "closed" ? "badge ok" : "badge overdue" }, r.breaker) },
  ], page.items, { id: "providers-table", empty: "No provider is configured." });
}

async function failedJobs() {
  const page = await api("GET /v1/ops/generation/failed-jobs", { query: { limit: 50 } });
  return table("Failed generation jobs, newest first", [
    { label: "Job", cell: (r) => shortId(r.id) },
    { label: "Model", cell: (r) => r.model },
    { label: "Provider", cell: (r) => [r.provider, r.provider_job_id ? [" ", shortId(r.provider_job_id)] : null] },
    { label: "User", cell: (r) => shortId(r.user_id) },
    { label: "Created", cell: (r) => time(r.created_at) },
    { label: "Failed", cell: (r) => time(r.finished_at) },
    { label: "Reason", cell: (r) => r.failure_reason || "—" },
  ], page.items, { id: "failed-jobs-table", empty: "No failed job." });
}

async function cleanups(status, reload) {
  const page = await api("GET /v1/ops/generation/cleanups", { query: { status, limit: 50 } });
  return table(`Provider cleanups in state ${status}`, [
    { label: "Cleanup", cell: (r) => shortId(r.cleanup_id) },
    { label: "Generation", cell: (r) => shortId(r.generation_id) },
    { label: "Provider", cell: (r) => [r.provider, r.strategy ? ` (${r.strategy})` : ""] },
    { label: "Attempts", cell: (r) => String(r.attempts) },
    { label: "Next attempt", cell: (r) => (r.status === "done" ? "—" : time(r.next_attempt_at)) },
    { label: "Last error", cell: (r) => r.last_error || "—" },
    { label: "Done", cell: (r) => time(r.done_at) },
    { label: "Actions", class: "col-actions", cell: (r) => (r.status === "done" ? "—" : retryButton(r, reload)) },
  ], page.items, { id: "cleanups-table", empty: `No cleanup is ${status}.` });
}

function retryButton(row, reload) {
  const button = h("button", { type: "button", class: "button", "aria-label": `Retry now: cleanup ${row.cleanup_id.slice(0, 8)}` }, "Retry now");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const answer = await api("POST /v1/ops/generation/cleanups/{cleanup_id}/retry", { path: { cleanup_id: row.cleanup_id } });
      announce(`Cleanup ${row.cleanup_id.slice(0, 8)} is ${answer.status}.`);
      await reload();
    } catch (error) {
      button.disabled = false;
      button.after(h("p", { class: "problem", role: "alert" }, problemText(error)));
    }
  });
  return button;
}

// Scheduled sweeps of every service with their last run, and the retention rules they apply.
import { api } from "../api.js";
import { h, table } from "../ui.js";
import { SERVICES, section, time, duration, counts, fill, problemAlert } from "./common.js";

const SWEEPS = {
  identity: "GET /v1/ops/identity/sweeps",
  billing: "GET /v1/ops/billing/sweeps",
  generation: "GET /v1/ops/generation/sweeps",
  storage: "GET /v1/ops/storage/sweeps",
  privacy: "GET /v1/ops/privacy/sweeps",
};

export async function render(main) {
  const slots = Object.fromEntries(SERVICES.map((s) => [s, h("div", { class: "slot" })]));
  const retentionSlot = h("div", { class: "slot" });
  main.replaceChildren(
    h("h1", {}, "Sweeps"),
    ...SERVICES.map((s) => section(`sweeps-${s}`, `${s} sweeps`, slots[s])),
    section("retention", "Retention rules and their last run", retentionSlot),
  );
  await Promise.all([
    ...SERVICES.map((s) => fill(slots[s], () => sweeps(s))),
    fill(retentionSlot, retention),
  ]);
}

function lastRunResult(run) {
  if (!run) return "never run";
  if (run.error) return h("span", { class: "problem" }, `failed: ${run.error}`);
  if (!run.finished_at) return "running";
  return counts(run.counts);
}

async function sweeps(service) {
  const page = await api(SWEEPS[service]);
  return table(`Sweeps of ${service} and their last run`, [
    { label: "Sweep", cell: (r) => r.name },
    { label: "Every", cell: (r) => duration(r.interval_seconds) },
    { label: "Last started", cell: (r) => time(r.last_run && r.last_run.started_at) },
    { label: "Finished", cell: (r) => time(r.last_run && r.last_run.finished_at) },
    { label: "Result", cell: (r) => lastRunResult(r.last_run) },
  ], page.items, { id: `sweeps-${service}-table`, empty: "This service has no sweep." });
}

async function retention() {
  let page;
  try {
    page = await api("GET /v1/ops/privacy/retention");
  } catch (error) {
    return problemAlert(error);
  }
  return table("Retention rules (privacy policy §8) and the last run of the sweep applying each", [
    { label: "Data", cell: (r) => r.category },
    { label: "Kept", cell: (r) => r.period_text || r.period },
    { label: "Then", cell: (r) => r.action },
    { label: "Owner", cell: (r) => r.owner_service },
    { label: "Sweep", cell: (r) => r.sweep },
    { label: "Last run", cell: (r) => retentionRun(r.last_run) },
  ], page.items, { id: "retention-table" });
}

function retentionRun(run) {
  if (!run || typeof run !== "object") return run ? String(run) : "never run";
  return [time(run.started_at), " ", lastRunResult(run)];
}

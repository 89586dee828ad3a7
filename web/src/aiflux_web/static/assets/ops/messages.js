// Messaging of every service: the outbox backlog (unsent events, oldest age) and the dead
// letters (messages a consumer gave up on) per consumer, with replay.
import { api } from "../api.js";
import { h, announce, table } from "../ui.js";
import { SERVICES, section, duration, fill, problemText } from "./common.js";

// Literal operation keys (web/tests/test_api_layer.py checks each against docs/openapi).
const OUTBOX = {
  identity: "GET /v1/ops/identity/outbox",
  billing: "GET /v1/ops/billing/outbox",
  generation: "GET /v1/ops/generation/outbox",
  storage: "GET /v1/ops/storage/outbox",
  privacy: "GET /v1/ops/privacy/outbox",
};
const DEAD_LETTERS = {
  identity: "GET /v1/ops/identity/dead-letters",
  billing: "GET /v1/ops/billing/dead-letters",
  generation: "GET /v1/ops/generation/dead-letters",
  storage: "GET /v1/ops/storage/dead-letters",
  privacy: "GET /v1/ops/privacy/dead-letters",
};
const REPLAY = {
  identity: "POST /v1/ops/identity/dead-letters/{consumer}/replay",
  billing: "POST /v1/ops/billing/dead-letters/{consumer}/replay",
  generation: "POST /v1/ops/generation/dead-letters/{consumer}/replay",
  storage: "POST /v1/ops/storage/dead-letters/{consumer}/replay",
  privacy: "POST /v1/ops/privacy/dead-letters/{consumer}/replay",
};

// Every service at once; one that fails shows its problem in its own row.
async function perService(keys) {
  const answers = await Promise.allSettled(SERVICES.map((s) => api(keys[s])));
  return SERVICES.map((service, i) => ({ service, ...answers[i] }));
}

export async function render(main) {
  const outboxSlot = h("div", { class: "slot" });
  const deadSlot = h("div", { class: "slot" });
  const refresh = h("button", { type: "button", class: "button" }, "Refresh");
  main.replaceChildren(
    h("h1", {}, "Messages"),
    h("p", { class: "toolbar" }, refresh),
    section("outbox", "Outbox backlog", outboxSlot),
    section("dead-letters", "Dead letters", deadSlot),
  );
  const load = () => Promise.all([fill(outboxSlot, outbox), fill(deadSlot, () => deadLetters(load))]);
  refresh.addEventListener("click", load);
  await load();
}

async function outbox() {
  const rows = await perService(OUTBOX);
  return table("Events written but not yet confirmed by the bus, per service", [
    { label: "Service", cell: (r) => r.service },
    { label: "Unsent events", cell: (r) => (r.status === "fulfilled" ? String(r.value.unsent) : h("span", { class: "problem" }, problemText(r.reason))) },
    { label: "Oldest unsent for", cell: (r) => (r.status === "fulfilled" ? (r.value.unsent ? duration(r.value.oldest_age_seconds) : "—") : "") },
  ], rows, { id: "outbox-table", rowAttrs: (r) => ({ "data-service": r.service, class: r.value && r.value.unsent ? "attention" : undefined }) });
}

async function deadLetters(reload) {
  const answers = await perService(DEAD_LETTERS);
  const rows = [];
  const problems = [];
  for (const answer of answers) {
    if (answer.status !== "fulfilled") {
      problems.push(h("p", { class: "alert", role: "alert" }, `${answer.service}: ${problemText(answer.reason)}`));
      continue;
    }
    for (const item of answer.value.items) rows.push({ service: answer.service, ...item });
  }
  const total = rows.reduce((sum, r) => sum + r.parked, 0);
  // Consumers with parked messages first, then by service and name.
  rows.sort((a, b) => (b.parked > 0) - (a.parked > 0) || a.service.localeCompare(b.service) || a.consumer.localeCompare(b.consumer));
  return [
    ...problems,
    h("p", { id: "parked-total" }, total ? `${total} message${total === 1 ? "" : "s"} parked.` : "No parked message."),
    table("Parked messages per consumer (consumers with parked messages first)", [
      { label: "Consumer", cell: (r) => `${r.service} · ${r.consumer}` },
      { label: "Queue", cell: (r) => h("code", {}, r.queue) },
      { label: "Parked", class: "parked", cell: (r) => String(r.parked) },
      { label: "Last errors", cell: (r) => errors(r.messages) },
      { label: "Actions", class: "col-actions", cell: (r) => replayButton(r, reload) },
    ], rows, {
      id: "dead-letter-table",
      rowAttrs: (r) => ({ "data-consumer": `${r.service}.${r.consumer}`, class: r.parked ? "attention" : undefined }),
    }),
  ];
}

function errors(messages) {
  if (!messages || messages.length === 0) return "—";
  const seen = new Map();
  for (const m of messages) {
    const key = `${m.routing_key} — ${m.last_error || "no error recorded"}`;
    seen.set(key, (seen.get(key) || 0) + 1);
  }
  return h("ul", { class: "plain" }, [...seen].map(([text, n]) => h("li", {}, n > 1 ? `${text} (×${n})` : text)));
}

function replayButton(row, reload) {
  const button = h("button", {
    type: "button",
    class: "button",
    disabled: row.parked === 0,
    "aria-label": `Replay the ${row.parked} parked message${row.parked === 1 ? "" : "s"} of ${row.service} ${row.consumer}`,
  }, "Replay");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const answer = await api(REPLAY[row.service], { path: { consumer: row.consumer } });
      announce(`${answer.replayed} message${answer.replayed === 1 ? "" : "s"} of ${row.service} ${row.consumer} returned to the queue.`);
      await reload();
    } catch (error) {
      button.disabled = false;
      button.after(h("p", { class: "problem", role: "alert" }, problemText(error)));
    }
  });
  return button;
}

// Identity's security log (every admin call is an admin_access row) and the policy notices.
import { api } from "../api.js";
import { h, field, fieldError, table } from "../ui.js";
import { UUID, section, time, shortId, fill, moreButton } from "./common.js";

export async function render(main) {
  const logSlot = h("div", { class: "slot" });
  const noticeSlot = h("div", { class: "slot" });
  const filter = h("form", { class: "inline-form", novalidate: true },
    field("User id", { name: "user_id", autocomplete: "off", spellcheck: "false" }, "Empty for every user."),
    h("button", { type: "submit", class: "button" }, "Show"));
  const load = () => fill(logSlot, () => page(filter.elements.user_id.value.trim(), logSlot));
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = filter.elements.user_id;
    if (input.value.trim() && !UUID.test(input.value.trim())) {
      fieldError(input, "Enter a user id (a UUID), or leave the field empty.").focus();
      return;
    }
    fieldError(input, null);
    load();
  });
  main.replaceChildren(
    h("h1", {}, "Security log"),
    section("security-log", "Security events, newest first", filter, logSlot),
    section("policy-notices", "Policy-change notices", noticeSlot),
  );
  await Promise.all([load(), fill(noticeSlot, notices)]);
}

function detail(row) {
  const d = row.detail || {};
  if (row.event === "admin_access" && d.method && d.path) return h("code", {}, `${d.method} ${d.path}`);
  const entries = Object.entries(d);
  return entries.length ? entries.map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("; ") : "—";
}

async function page(userId, slot, cursor = null) {
  const answer = await api("GET /v1/ops/identity/security-log", { query: { user_id: userId || undefined, limit: 100, cursor } });
  const more = moreButton(answer.next_cursor, async (next) => {
    slot.append(...[await page(userId, slot, next)].flat().filter(Boolean));
  });
  return [table(cursor ? "Older security events" : "Security events, newest first (admin calls are admin_access)", [
    { label: "When", cell: (r) => time(r.created_at) },
    { label: "Event", cell: (r) => r.event.replaceAll("_", " ") },
    { label: "User", cell: (r) => shortId(r.user_id) },
    { label: "Call or detail", cell: detail },
    { label: "IP", cell: (r) => r.ip || "—" },
    { label: "Client", cell: (r) => r.user_agent ? h("span", { class: "ua", title: r.user_agent }, r.user_agent.slice(0, 40)) : "—" },
  ], answer.items, {
    id: cursor ? null : "security-log-table",
    empty: "No security event.",
    rowAttrs: (r) => ({ "data-event": r.event }),
  }), more];
}

async function notices() {
  const answer = await api("GET /v1/ops/identity/policy-notices");
  return table("Mails announcing a substantial policy change, newest first", [
    { label: "Policy version", cell: (r) => r.version },
    { label: "Sent", cell: (r) => `${r.sent} of ${r.total}` },
    { label: "Started", cell: (r) => time(r.started_at) },
    { label: "Finished", cell: (r) => (r.done ? time(r.finished_at) : "in progress") },
  ], answer.items, { id: "policy-notices-table", empty: "No policy change was announced." });
}

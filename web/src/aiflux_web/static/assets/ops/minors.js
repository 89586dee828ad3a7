// Reports of a user under 16: dismiss, or confirm (the account is suspended and erased).
import { api } from "../api.js";
import { h, field, announce, table } from "../ui.js";
import { section, time, shortId, fill, formDialog, radios } from "./common.js";

export async function render(main) {
  const slot = h("div", { class: "slot" });
  const load = () => fill(slot, () => reports(load));
  main.replaceChildren(h("h1", {}, "Minor reports"), section("minor-reports", "Reports waiting for review", slot));
  await load();
}

async function reports(reload) {
  const page = await api("GET /v1/ops/privacy/minor-reports");
  return table("Reports that a user is under 16, oldest first", [
    { label: "Report", cell: (r) => shortId(r.id) },
    { label: "Account reported", cell: (r) => r.account },
    { label: "Received", cell: (r) => time(r.created_at) },
    { label: "Details", cell: (r) => r.details || "—" },
    { label: "Actions", class: "col-actions", cell: (r) => h("button", {
      type: "button",
      class: "button",
      "aria-label": `Decide report ${r.id.slice(0, 8)}`,
      onclick: async () => {
        if (await decide(r)) await reload();
      },
    }, "Decide…") },
  ], page.items, { id: "minor-reports-table", empty: "No report is waiting." });
}

function decide(report) {
  return formDialog({
    title: `Decide report ${report.id.slice(0, 8)} about “${report.account}”`,
    intro: "Confirming suspends the account at once and starts its erasure; it cannot be undone.",
    body: [
      radios("Decision", "confirmed", [
        { value: "false", label: "Dismiss: the user is not under 16", checked: true },
        { value: "true", label: "Confirm: suspend and erase the account" },
      ]),
      field("Reason (kept with the decision)", { tag: "textarea", name: "reason", required: true, minlength: "3", maxlength: "2000", rows: "3" }),
      field("User id of the account", { name: "user_id", autocomplete: "off", spellcheck: "false" }, "Only needed to confirm when the report names a username that no longer matches."),
    ],
    submitLabel: "Record decision",
    danger: true,
    submit: async (v) => {
      const answer = await api("POST /v1/ops/privacy/minor-reports/{report_id}/decision", {
        path: { report_id: report.id },
        body: { confirmed: v.confirmed === "true", reason: v.reason, user_id: v.user_id ? v.user_id.trim() : null },
      });
      announce(answer.status === "confirmed" ? `Confirmed: erasure ${answer.erasure_request_id || ""} started.` : "Report dismissed.");
      return answer;
    },
  });
}

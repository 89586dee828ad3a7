// The account: profile, username and e-mail change (rectification), password change, and the
// sessions signed in with this account, each revocable.
import { api } from "../api.js";
import { announce, field, formatDate, h, values } from "../ui.js";
import { render, route } from "./router.js";
import { forget, me, onSubmit, requireUser, rowAction, signedIn, table } from "./session.js";

function profileList(user) {
  const rows = [
    ["Username", user.username],
    ["E-mail", user.email],
    ["E-mail verified", user.email_verified ? "yes" : "no"],
    ["New address waiting for verification", user.pending_email || "—"],
    ["Member since", formatDate(user.created_at)],
    ["Privacy policy accepted", `version ${user.accepted_policy_version} on ${formatDate(user.accepted_policy_at)}`],
  ];
  return h("dl", { class: "card" }, rows.map(([term, value]) => [h("dt", {}, h("strong", {}, term)), h("dd", {}, value)]));
}

function rectifyForm(user) {
  const form = h("form", { "aria-labelledby": "rectify-heading" },
    h("p", { class: "form-alert", role: "alert" }),
    field("Username", { name: "username", value: user.username, autocomplete: "username" }),
    field("E-mail address", { name: "email", type: "email", value: user.email, autocomplete: "email" }, "A new address is verified by mail before it takes effect."),
    field("Current password", { id: "f-rectify-password", name: "current_password", type: "password", autocomplete: "current-password", required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save changes")));
  return onSubmit(form, async () => {
    const data = values(form);
    const body = { current_password: data.current_password };
    if (data.username !== user.username) body.username = data.username;
    if (data.email !== user.email) body.email = data.email;
    const updated = await api("PATCH /v1/account", { body });
    signedIn(updated);
    announce(updated.pending_email ? `Saved. Confirm ${updated.pending_email} from the mail we sent.` : "Saved.");
    await render();
  });
}

function passwordForm() {
  const form = h("form", { "aria-labelledby": "password-heading" },
    h("p", { class: "form-alert", role: "alert" }),
    field("Current password", { id: "f-pw-current", name: "current_password", type: "password", autocomplete: "current-password", required: true }),
    field("New password", { id: "f-pw-new", name: "new_password", type: "password", autocomplete: "new-password", required: true }, "At least 12 characters; at most 72 bytes."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Change password")));
  return onSubmit(form, async () => {
    await api("POST /v1/account/password", { body: values(form) });
    form.reset();
    announce("Password changed.");
    form.querySelector(".form-alert").textContent = "";
    form.prepend(h("p", { role: "status" }, "Your password is changed."));
  }, { password: "new_password" });
}

function sessionsTable(sessions) {
  const rows = sessions.map((s) => [
    s.current ? h("strong", {}, "This browser") : (s.user_agent || "Unknown browser"),
    s.ip || "—",
    formatDate(s.created_at),
    formatDate(s.last_seen_at),
    rowAction(s.current ? "Log out here" : "Revoke", `Revoke the session started ${formatDate(s.created_at)}`, async () => {
      await api("DELETE /v1/account/sessions/{session_id}", { path: { session_id: s.id } });
      if (s.current) {
        forget();
        location.assign("/login");
        return;
      }
      announce("Session revoked.");
      await render();
    }),
  ]);
  return table("Where you are signed in", ["Browser", "IP address", "Signed in", "Last seen"].concat(["Action"]), rows);
}

async function account() {
  const user = await requireUser();
  const fresh = await me({ refresh: true });
  const sessions = await api("GET /v1/account/sessions");
  return [
    h("h1", {}, "Your account"),
    profileList(fresh || user),
    h("h2", { id: "rectify-heading" }, "Change username or e-mail"),
    rectifyForm(fresh || user),
    h("h2", { id: "password-heading" }, "Change password"),
    passwordForm(),
    h("h2", {}, "Sessions"),
    sessionsTable(sessions.items),
    h("h2", {}, "Your data"),
    h("p", {}, "Export your data, restrict or object to processing, or delete your account in the ", h("a", { href: "/privacy" }, "privacy centre"), "."),
  ];
}

export function install() {
  route("/account", account);
}

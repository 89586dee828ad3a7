// Sign-up (16+ age gate, the policy version accepted), e-mail verification, login/logout,
// forgotten and reset passwords. Tokens that arrive in a URL are removed from it (and from the
// history entry) before they are used.
import { api, ApiProblem, csrf } from "../api.js";
import { announce, field, h, values } from "../ui.js";
import { navigate, route } from "./router.js";
import { forget, me, onSubmit, signedIn } from "./session.js";

// The token of a mailed link: read once, then the address bar and history forget it.
function takeToken(query, path) {
  const token = query.get("token");
  if (token) history.replaceState(null, "", path);
  return token;
}

function checkbox(name, label, attrs = {}) {
  const id = `f-${name}`;
  return h("div", { class: "field" },
    h("div", { class: "check" },
      h("input", { type: "checkbox", name, id, "aria-describedby": `${id}-error`, ...attrs }),
      h("label", { for: id }, label)),
    h("p", { class: "error", id: `${id}-error`, "aria-live": "polite" }));
}

function latestBirthDate() {
  const today = new Date();
  return today.toISOString().slice(0, 10);
}

async function signup() {
  if (await me()) return [h("h1", {}, "Sign up"), h("p", {}, "You are signed in. ", h("a", { href: "/account" }, "Your account"), ".")];
  const policy = await api("GET /v1/privacy/policy");
  const form = h("form", { novalidate: true, "aria-describedby": "signup-intro" },
    h("p", { class: "form-alert", role: "alert" }),
    field("Username", { name: "username", autocomplete: "username", required: true, maxlength: 32 }, "3 to 32 letters, digits, '.', '_' or '-'."),
    field("E-mail address", { name: "email", type: "email", autocomplete: "email", required: true }),
    field("Password", { name: "password", type: "password", autocomplete: "new-password", required: true }, "At least 12 characters; at most 72 bytes."),
    field("Date of birth", { name: "birth_date", type: "date", required: true, max: latestBirthDate() }, "AIFLUX is for people aged 16 or over. Your birth date is checked, not stored."),
    checkbox("accept_privacy_policy_version",
      ["I have read and accept the ", h("a", { href: "/privacy/policy", target: "_blank", rel: "noopener" }, `privacy policy (version ${policy.version})`), "."],
      { value: policy.version, required: true }),
    checkbox("marketing_opt_in", "Send me news and offers by e-mail (optional; withdraw any time)."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create account")));
  const page = h("div", {});
  onSubmit(form, async () => {
    const data = values(form);
    if (!data.accept_privacy_policy_version) {
      const error = new ApiProblem(422, { detail: "Accept the privacy policy to create an account.", field: "accept_privacy_policy_version" });
      throw error;
    }
    await api("POST /v1/auth/register", {
      body: {
        username: data.username,
        email: data.email,
        password: data.password,
        birth_date: data.birth_date,
        accept_privacy_policy_version: data.accept_privacy_policy_version,
        marketing_opt_in: Boolean(data.marketing_opt_in),
      },
    });
    page.replaceChildren(
      h("h1", { tabindex: "-1" }, "Check your mail"),
      h("p", {}, `We sent a verification link to ${data.email}. Open it to activate your account, then log in.`),
      h("p", {}, "No mail? ", h("a", { href: "/verify-email" }, "Send the link again"), "."));
    page.querySelector("h1").focus();
    announce("Account created; check your mail.");
  });
  page.append(
    h("h1", {}, "Sign up"),
    h("p", { id: "signup-intro" }, "Already have an account? ", h("a", { href: "/login" }, "Log in"), "."),
    form);
  return page;
}

async function verifyEmail({ query }) {
  const token = takeToken(query, "/verify-email");
  if (token) {
    try {
      await api("POST /v1/auth/verify-email", { body: { token } });
      const user = await me({ refresh: true });
      return [
        h("h1", {}, "E-mail address verified"),
        h("p", { role: "status" }, "Your address is verified."),
        h("p", {}, user ? h("a", { href: "/account" }, "Go to your account") : h("a", { href: "/login" }, "Log in")),
      ];
    } catch (error) {
      return [h("h1", {}, "Verification failed"), h("p", { role: "alert" }, error.message), resendForm()];
    }
  }
  return [h("h1", {}, "Verify your e-mail address"), h("p", {}, "Open the link we mailed you. Lost it? Ask for a new one:"), resendForm()];
}

function resendForm() {
  const form = h("form", {},
    h("p", { class: "form-alert", role: "alert" }),
    field("E-mail address", { name: "email", type: "email", autocomplete: "email", required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Send a new link")));
  return onSubmit(form, async () => {
    await api("POST /v1/auth/verify-email/resend", { body: values(form) });
    form.replaceChildren(h("p", { role: "status" }, "If that address has an unverified account, a new link is on its way."));
  });
}

function safeNext(next) {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

async function login({ query }) {
  const next = safeNext(query.get("next"));
  if (await me()) await navigate(next, { replace: true });
  const form = h("form", {},
    h("p", { class: "form-alert", role: "alert" }),
    field("Username or e-mail", { name: "login", autocomplete: "username", required: true }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Log in"), h("a", { href: "/forgot-password" }, "Forgot your password?")));
  onSubmit(form, async () => {
    const answer = await api("POST /v1/auth/login", { body: values(form) });
    csrf.set(answer.csrf_token);
    // The visitor's banner choice (anonymous consent id) now belongs to the account.
    await api("POST /v1/privacy/consents/link").catch(() => null);
    signedIn(await me({ refresh: true }));
    announce("Logged in.");
    await navigate(next);
  });
  return [
    h("h1", {}, "Log in"),
    query.get("next") ? h("p", { class: "notice" }, "Log in to continue.") : null,
    form,
    h("p", {}, "New here? ", h("a", { href: "/signup" }, "Create an account"), ". Not verified yet? ", h("a", { href: "/verify-email" }, "Send the link again"), "."),
  ];
}

export async function logout() {
  try {
    await api("POST /v1/auth/logout");
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.status !== 401) throw error;
  }
  forget();
  announce("Logged out.");
  await navigate("/");
}

async function forgotPassword() {
  const form = h("form", {},
    h("p", { class: "form-alert", role: "alert" }),
    field("E-mail address", { name: "email", type: "email", autocomplete: "email", required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Send a reset link")));
  onSubmit(form, async () => {
    await api("POST /v1/auth/password/forgot", { body: values(form) });
    form.replaceChildren(h("p", { role: "status" }, "If an account uses that address, a reset link is on its way. It works once and expires soon."));
  });
  return [h("h1", {}, "Forgot your password?"), h("p", {}, "We will mail you a link to choose a new one."), form];
}

async function resetPassword({ query }) {
  const token = takeToken(query, "/reset-password");
  if (!token) {
    return [h("h1", {}, "Reset your password"), h("p", {}, "Open the link from the reset mail, or ", h("a", { href: "/forgot-password" }, "ask for a new one"), ".")];
  }
  const form = h("form", {},
    h("p", { class: "form-alert", role: "alert" }),
    field("New password", { name: "new_password", type: "password", autocomplete: "new-password", required: true }, "At least 12 characters; at most 72 bytes."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Set the new password")));
  onSubmit(form, async () => {
    await api("POST /v1/auth/password/reset", { body: { token, new_password: values(form).new_password } });
    forget();
    form.replaceChildren(h("p", { role: "status" }, "Your password is changed and every session was signed out. ", h("a", { href: "/login" }, "Log in"), "."));
  }, { password: "new_password" });
  return [h("h1", {}, "Choose a new password"), form];
}

export function install() {
  route("/signup", signup);
  route("/verify-email", verifyEmail);
  route("/login", login);
  route("/forgot-password", forgotPassword);
  route("/reset-password", resetPassword);
}

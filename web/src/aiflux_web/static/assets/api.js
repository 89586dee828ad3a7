// The one way pages talk to the backend: operations by their OpenAPI key ("METHOD /path"),
// checked against the generated table (operations.js), with the session cookie, the CSRF
// header on every state change, and problem+json errors raised as ApiProblem.
import { OPERATIONS } from "./operations.js";

const CSRF_KEY = "aiflux.csrf";
const OPS_PREFIX = "/v1/ops/";
// The ops API is not on the public edge: the web server relays it under /ops/api/ (see
// aiflux_web.proxy); the console still names operations by their ops API paths.
const OPS_RELAY = "/ops/api/";

export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.type = problem.type || "about:blank";
    this.title = problem.title || "";
    this.detail = problem.detail || "";
    // Validation problems name the fields: [{loc: ["body", "email"], msg, type}] (the kit's 422).
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.problem = problem;
  }
  // The problem's code: "urn:aiflux:problem:csrf-token-missing" → "csrf-token-missing".
  get code() {
    return this.type.split(":").pop();
  }
  // The message about one field (`name` as in the request body), if the server named it.
  fieldMessage(name) {
    const hit = this.errors.find((e) => Array.isArray(e.loc) && e.loc[e.loc.length - 1] === name);
    return hit ? hit.msg : null;
  }
}

export const csrf = {
  get: () => localStorage.getItem(CSRF_KEY),
  set: (token) => localStorage.setItem(CSRF_KEY, token),
  clear: () => localStorage.removeItem(CSRF_KEY),
};

function operation(key) {
  const op = OPERATIONS[key];
  if (!op) throw new Error(`unknown API operation ${key} (not in docs/openapi)`);
  return op;
}

// The URL of `key` with its path parameters and query filled in.
export function url(key, { path = {}, query = {} } = {}) {
  const op = operation(key);
  let target = key.slice(key.indexOf(" ") + 1);
  for (const name of op.path) {
    if (path[name] === undefined) throw new Error(`${key}: path parameter ${name} missing`);
    target = target.replace(`{${name}}`, encodeURIComponent(path[name]));
  }
  if (target.startsWith(OPS_PREFIX)) target = OPS_RELAY + target.slice(OPS_PREFIX.length);
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (!op.query.includes(name)) throw new Error(`${key}: unknown query parameter ${name}`);
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const qs = search.toString();
  return qs ? `${target}?${qs}` : target;
}

// Call operation `key`. `body` is sent as JSON (or FormData as multipart). Resolves to the
// parsed JSON answer (null for 204); rejects with ApiProblem for any error answer.
export async function api(key, { path, query, body, signal } = {}) {
  const method = key.slice(0, key.indexOf(" "));
  const headers = { Accept: "application/json, application/problem+json" };
  const init = { method, headers, credentials: "same-origin", signal };
  if (method !== "GET") {
    const token = csrf.get();
    if (token) headers["X-CSRF-Token"] = token;
  }
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url(key, { path, query }), init);
  } catch (error) {
    throw new ApiProblem(0, { title: "Network error", detail: "The service could not be reached. Check your connection and try again." });
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    throw new ApiProblem(response.status, typeof data === "object" ? data : { title: response.statusText, detail: String(data).slice(0, 200) });
  }
  return data;
}

// Upload with progress (fetch has no upload progress): XMLHttpRequest, same rules as api().
export function upload(key, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(key.slice(0, key.indexOf(" ")), url(key));
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");
    const token = csrf.get();
    if (token) xhr.setRequestHeader("X-CSRF-Token", token);
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress && onProgress(event.loaded / event.total);
    xhr.onerror = () => reject(new ApiProblem(0, { title: "Network error", detail: "The upload was interrupted." }));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = { detail: xhr.responseText.slice(0, 200) }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiProblem(xhr.status, data || {}));
    };
    xhr.send(form);
  });
}

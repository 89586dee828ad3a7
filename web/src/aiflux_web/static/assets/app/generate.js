// The model catalog (prices and parameters), the generation form with live status
// (queued → running → completed, polled without reloading), and the gallery with Repeat and
// Delete.
import { api } from "../api.js";
import { announce, field, formatDate, h, values } from "../ui.js";
import { onLeave, route, stillOn } from "./router.js";
import { uploadForm } from "./files.js";
import { badge, fill, me, onSubmit, poll, requireUser, table } from "./session.js";

const FINISHED = new Set(["completed", "failed"]);

function describeParam(name, spec) {
  const parts = [`${name} (${spec.type})`];
  if (spec.choices) parts.push(`one of ${spec.choices.join(", ")}`);
  if (spec.min !== null && spec.min !== undefined) parts.push(`from ${spec.min}`);
  if (spec.max !== null && spec.max !== undefined) parts.push(`to ${spec.max}`);
  if (spec.max_length) parts.push(`up to ${spec.max_length} characters`);
  if (spec.default !== null && spec.default !== undefined) parts.push(`default ${spec.default}`);
  if (spec.credits_per_unit) parts.push(`+${spec.credits_per_unit} credits per unit`);
  if (spec.credits_by_choice) parts.push(`credits: ${Object.entries(spec.credits_by_choice).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  return parts.join(", ");
}

function paramsText(params) {
  const names = Object.keys(params || {});
  return names.length ? h("ul", {}, names.map((name) => h("li", {}, describeParam(name, params[name])))) : "—";
}

async function models() {
  const catalog = await api("GET /v1/models");
  return [
    h("h1", {}, "Models and prices"),
    h("p", {}, "Prices are in credits per generation with default parameters. ", (await me()) ? h("a", { href: "/generate" }, "Generate now") : h("a", { href: "/signup" }, "Sign up to generate"), "."),
    table(null, ["Model", "Makes", "Provider", "Credits", "Inputs", "Parameters"], catalog.items.map((m) => [
      h("strong", {}, m.id), m.modality.replace(/_/g, " "), m.provider, String(m.credits),
      m.max_inputs ? `up to ${m.max_inputs} ${m.accepted_inputs.join("/")}` : "none", paramsText(m.params),
    ])),
  ];
}

// One form control per parameter the model accepts (all optional: the model's defaults apply).
function paramFields(model) {
  return Object.entries(model.params || {}).map(([name, spec]) => {
    const label = `${name.replace(/_/g, " ")} (optional)`;
    const attrs = { id: `f-param-${name}`, name: `param:${name}` };
    if (spec.choices) {
      const options = [h("option", { value: "" }, "default")].concat(spec.choices.map((c) => h("option", { value: String(c) }, String(c))));
      return field(label, { ...attrs, tag: "select", options }, describeParam(name, spec));
    }
    if (spec.type === "int" || spec.type === "number") {
      return field(label, { ...attrs, type: "number", min: spec.min, max: spec.max, step: spec.type === "int" ? "1" : "any" }, describeParam(name, spec));
    }
    if (spec.type === "bool") {
      const options = [h("option", { value: "" }, "default"), h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no")];
      return field(label, { ...attrs, tag: "select", options }, describeParam(name, spec));
    }
    return field(label, { ...attrs, maxlength: spec.max_length }, describeParam(name, spec));
  });
}

function paramValues(model, data) {
  const params = {};
  for (const [name, spec] of Object.entries(model.params || {})) {
    const raw = data[`param:${name}`];
    if (raw === undefined || raw === "") continue;
    if (spec.type === "int") params[name] = Number.parseInt(raw, 10);
    else if (spec.type === "number") params[name] = Number(raw);
    else if (spec.type === "bool") params[name] = raw === "true";
    else params[name] = raw;
  }
  return params;
}

// A result's bytes are behind a short-lived download URL from storage (the output's `url` is
// its metadata): ask for it, then show the medium.
const downloads = new Map();
function downloadUrl(fileId) {
  if (!downloads.has(fileId)) {
    downloads.set(fileId, api("GET /v1/files/{file_id}", { path: { file_id: fileId } }).then((f) => f.download_url));
  }
  return downloads.get(fileId);
}

function outputView(generation, output, index) {
  const label = `Result ${index + 1} of “${generation.prompt.slice(0, 60)}”`;
  let el;
  if (generation.modality === "image") el = h("img", { alt: label });
  else if (generation.modality === "audio") el = h("audio", { controls: true, "aria-label": label });
  else if (generation.modality === "text") el = h("a", { download: "" }, "Download the text");
  else el = h("video", { controls: true, "aria-label": label });
  downloadUrl(output.file_id).then(
    (href) => el.setAttribute(el.tagName === "A" ? "href" : "src", href),
    () => el.replaceWith(h("p", { class: "muted" }, "This result is no longer available.")),
  );
  return el;
}

// A generation's card; it keeps itself current until the generation has finished.
export function generationCard(generation, { token, onRepeat, onDelete } = {}) {
  const card = h("article", { class: "card generation", dataset: { id: generation.id }, "aria-live": "polite" });
  const alert = h("p", { class: "form-alert", role: "alert" });
  const guarded = (action) => async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    alert.textContent = "";
    try {
      await action();
    } catch (error) {
      alert.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  };
  const draw = (g) => {
    card.dataset.status = g.status;
    fill(card,
      h("h3", {}, g.model, " ", badge(g.status)),
      h("p", { class: "prompt" }, g.prompt),
      h("p", { class: "muted" }, `${formatDate(g.created_at)} · ${g.credits} credits${g.repeat_of ? " · repeat" : ""}`),
      g.status === "failed" ? h("p", { role: "alert" }, g.failure_reason || "The generation failed; its credits were refunded.") : null,
      g.text ? h("p", {}, g.text) : null,
      h("div", { class: "result" }, (g.outputs || []).map((o, i) => outputView(g, o, i))),
      alert,
      h("div", { class: "actions" },
        onRepeat ? h("button", { type: "button", class: "secondary", disabled: !FINISHED.has(g.status), onclick: guarded(() => onRepeat(g)), "aria-label": `Repeat “${g.prompt.slice(0, 40)}”` }, "Repeat") : null,
        onDelete ? h("button", { type: "button", class: "danger", disabled: !FINISHED.has(g.status), onclick: guarded(() => onDelete(g, card)), "aria-label": `Delete “${g.prompt.slice(0, 40)}”` }, "Delete") : null));
  };
  draw(generation);
  if (!FINISHED.has(generation.status)) {
    const stop = poll(
      () => api("GET /v1/generations/{generation_id}", { path: { generation_id: generation.id } }),
      (g) => {
        if (!g) return;
        draw(g);
        if (FINISHED.has(g.status)) announce(`Generation ${g.status}.`);
      },
      (g) => Boolean(g && FINISHED.has(g.status)),
      { token, stillOn },
    );
    onLeave(stop);
  }
  return card;
}

function actions(list, token) {
  const onRepeat = async (g) => {
    const accepted = await api("POST /v1/generations/{generation_id}/repeat", { path: { generation_id: g.id } });
    const fresh = await api("GET /v1/generations/{generation_id}", { path: { generation_id: accepted.id } });
    list.prepend(generationCard(fresh, { token, onRepeat, onDelete }));
    announce("Repeat started.");
  };
  const onDelete = async (g, card) => {
    await api("DELETE /v1/generations/{generation_id}", { path: { generation_id: g.id } });
    card.remove();
    announce("Generation deleted with its inputs and results.");
  };
  return { onRepeat, onDelete };
}

function inputChoices(model, uploads) {
  const usable = uploads.filter((f) => f.purpose !== "output" && !f.generation_id && model.accepted_inputs.includes(f.kind));
  if (!model.max_inputs) return h("p", { class: "muted" }, "This model takes no input files.");
  if (!usable.length) return h("p", { class: "muted" }, "No usable reference file yet: upload one below.");
  return h("fieldset", {},
    h("legend", {}, `Reference files (up to ${model.max_inputs})`),
    usable.map((f, i) => h("div", { class: "check" },
      h("input", { type: "checkbox", id: `f-input-${i}`, name: "input_file_ids", value: f.file_id }),
      h("label", { for: `f-input-${i}` }, h("img", { src: f.download_url, alt: "", class: "thumb" }), ` ${f.content_type}, ${formatDate(f.created_at)}`))));
}

async function generate({ token, query }) {
  await requireUser();
  const [catalog, uploads, balance] = await Promise.all([
    api("GET /v1/models"),
    api("GET /v1/files", { query: { limit: 100 } }),
    api("GET /v1/billing/balance"),
  ]);
  const page = h("div", {});
  const results = h("div", { class: "gallery", id: "live-results" });
  const { onRepeat, onDelete } = actions(results, token);
  const chosen = () => catalog.items.find((m) => m.id === form.elements.model.value) || catalog.items[0];
  const extras = h("div", {});
  const modelSelect = field("Model", {
    name: "model",
    tag: "select",
    options: catalog.items.map((m) => h("option", { value: m.id, selected: m.id === query.get("model") }, `${m.id} — ${m.modality.replace(/_/g, " ")}, ${m.credits} credits`)),
  });
  const form = h("form", { class: "card" },
    h("p", { class: "form-alert", role: "alert" }),
    modelSelect,
    field("Prompt", { name: "prompt", tag: "textarea", required: true, maxlength: 4000 }),
    extras,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Generate")));
  const refreshExtras = () => {
    const model = chosen();
    fill(extras, inputChoices(model, uploads.items), ...paramFields(model));
  };
  form.elements.model.addEventListener("change", refreshExtras);
  refreshExtras();
  onSubmit(form, async () => {
    const model = chosen();
    const data = values(form);
    const inputs = [...form.querySelectorAll("input[name=input_file_ids]:checked")].map((el) => el.value);
    const accepted = await api("POST /v1/generations", {
      body: { model: model.id, prompt: data.prompt, input_file_ids: inputs, params: paramValues(model, data) },
    });
    const fresh = await api("GET /v1/generations/{generation_id}", { path: { generation_id: accepted.id } });
    results.prepend(generationCard(fresh, { token, onRepeat, onDelete }));
    announce("Generation queued.");
  }, {});
  page.append(
    h("h1", {}, "Generate"),
    h("p", {}, `You have ${balance.credits} credits. `, h("a", { href: "/billing" }, "Buy credits"), " · ", h("a", { href: "/models" }, "Models and prices"), " · ", h("a", { href: "/gallery" }, "Gallery")),
    form,
    h("h2", {}, "Results"),
    results,
    h("h2", {}, "Upload a reference file"),
    uploadForm(async (stored) => {
      const listed = await api("GET /v1/files", { query: { limit: 100 } });
      uploads.items = listed.items;
      refreshExtras();
      const box = form.querySelector(`input[name=input_file_ids][value="${stored.file_id}"]`);
      if (box) box.checked = true;
    }));
  return page;
}

async function gallery({ token }) {
  await requireUser();
  const listed = await api("GET /v1/generations", { query: { limit: 50 } });
  const list = h("div", { class: "gallery", id: "gallery" });
  const { onRepeat, onDelete } = actions(list, token);
  list.append(...listed.items.map((g) => generationCard(g, { token, onRepeat, onDelete })));
  return [
    h("h1", {}, "Gallery"),
    h("p", {}, "Repeat runs a generation again with the same prompt and inputs. Delete removes it with its inputs and results, here and at the provider. ", h("a", { href: "/generate" }, "New generation"), "."),
    listed.items.length ? null : h("p", { class: "muted" }, "Nothing generated yet."),
    list,
  ];
}

export function install() {
  route("/models", models);
  route("/generate", generate);
  route("/gallery", gallery);
}

// Uploads: reference images, videos and audio for generations, sent with a progress bar; the
// list of the user's files (uploads and results) with delete.
import { api, upload } from "../api.js";
import { announce, formatDate, h } from "../ui.js";
import { render, route } from "./router.js";
import { bytes, onSubmit, requireUser, rowAction, table } from "./session.js";

export const ACCEPT = "image/png,image/jpeg,image/webp,image/gif,video/mp4,video/webm,video/quicktime,audio/mpeg,audio/wav,audio/ogg,audio/flac";

export function preview(file) {
  if (file.kind === "image" || String(file.content_type).startsWith("image/")) {
    return h("img", { src: file.download_url, alt: `Uploaded ${file.content_type} file`, class: "thumb", loading: "lazy" });
  }
  return h("a", { href: file.download_url, download: "" }, "Download");
}

// The upload form; `onUploaded(file)` runs after each successful upload.
export function uploadForm(onUploaded) {
  const progress = h("progress", { max: "100", value: "0", id: "upload-progress", "aria-label": "Upload progress", hidden: true });
  const state = h("p", { role: "status", id: "upload-state" });
  const form = h("form", { class: "card" },
    h("p", { class: "form-alert", role: "alert" }),
    h("div", { class: "field" },
      h("label", { for: "f-file" }, "File"),
      h("p", { class: "hint", id: "f-file-hint" }, "PNG, JPEG, WebP, GIF, MP4, WebM, MOV, MP3, WAV, OGG or FLAC. The type is checked from the content."),
      h("input", { type: "file", id: "f-file", name: "file", accept: ACCEPT, required: true, "aria-describedby": "f-file-hint f-file-error" }),
      h("p", { class: "error", id: "f-file-error", "aria-live": "polite" })),
    h("input", { type: "hidden", name: "purpose", value: "reference" }),
    progress,
    state,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Upload")));
  return onSubmit(form, async () => {
    const data = new FormData(form);
    progress.hidden = false;
    progress.value = 0;
    state.textContent = "Uploading…";
    try {
      const stored = await upload("POST /v1/files", data, (fraction) => {
        progress.value = Math.round(fraction * 100);
        state.textContent = `Uploading… ${Math.round(fraction * 100)}%`;
      });
      progress.value = 100;
      state.textContent = `Uploaded (${stored.content_type}, ${bytes(stored.size)}).`;
      announce("Upload complete.");
      form.reset();
      if (onUploaded) await onUploaded(stored);
    } catch (error) {
      progress.hidden = true;
      state.textContent = "";
      throw error;
    }
  });
}

function deleteButton(file) {
  return rowAction("Delete", `Delete the file uploaded ${formatDate(file.created_at)}`, async () => {
    await api("DELETE /v1/files/{file_id}", { path: { file_id: file.file_id } });
    announce("File deleted.");
    await render();
  });
}

async function files() {
  await requireUser();
  const listed = await api("GET /v1/files", { query: { limit: 100 } });
  const rows = listed.items.map((file) => [
    preview(file), file.content_type, file.purpose, bytes(file.size), formatDate(file.created_at), deleteButton(file),
  ]);
  return [
    h("h1", {}, "Your files"),
    h("p", {}, "Reference files are kept for Repeat until you delete them, their generation, or your account."),
    h("h2", {}, "Upload a reference file"),
    uploadForm(() => render()),
    h("h2", {}, "Stored files"),
    table(null, ["Preview", "Type", "Purpose", "Size", "Uploaded", "Action"], rows, "No files yet."),
  ];
}

export function install() {
  route("/files", files);
}

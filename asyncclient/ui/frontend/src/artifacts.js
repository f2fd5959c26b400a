// The artifact browser: a lazily expanded tree, previews (text, JSON/YAML, images) and a download link
// for every file. Names are text; previews are fetched, never navigated to, so nothing runs inline.
import * as api from "./api.js";
import { clear, errorBox, fmtBytes, h } from "./dom.js";

const TEXT = /\.(txt|log|md|py|yaml|yml|csv|tsv|ini|cfg|toml|sh|json|jsonl|html|xml|js|ts)$|(^|\/)(MLmodel|requirements\.txt|conda\.yaml|python_env\.yaml)$/i;
const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg)$/i;
const MAX_PREVIEW = 2 * 1024 * 1024;

// `source` is a run id, or {list(path), url(path)} for other artifact roots (a logged model's).
export function renderArtifacts(container, source) {
  const src = typeof source === "string" ? api.runArtifacts(source) : source;
  const tree = h("ul", { class: "tree", id: "artifact-tree" });
  const preview = h("div", { class: "preview", id: "artifact-preview" }, h("p", { class: "muted" }, "Select a file to preview it."));
  clear(container).append(h("div", { class: "artifacts" }, tree, preview));
  let objectUrl = null;

  async function fill(ul, path) {
    let files;
    try { files = await src.list(path); } catch (err) { ul.append(h("li", {}, errorBox(err))); return; }
    if (!files.length && !path) ul.append(h("li", { class: "muted" }, "No artifacts"));
    for (const f of files) {
      const name = f.path.split("/").pop();
      if (f.is_dir) {
        const sub = h("ul", { hidden: true });
        let loaded = false;
        const btn = h("button", { type: "button", class: "dir", "aria-expanded": "false", onclick: async () => {
          sub.hidden = !sub.hidden;
          btn.setAttribute("aria-expanded", String(!sub.hidden));
          if (!loaded) { loaded = true; await fill(sub, f.path); }
        } }, name, "/");
        ul.append(h("li", {}, btn, sub));
      } else {
        ul.append(h("li", {},
          h("button", { type: "button", class: "file", onclick: () => show(f) }, name),
          " ", h("span", { class: "muted" }, fmtBytes(f.file_size)), " ",
          h("a", { href: src.url(f.path), download: name, class: "download", "aria-label": `download ${name}` }, "⤓")));
      }
    }
  }

  async function show(f) {
    const url = src.url(f.path);
    if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    const head = h("div", { class: "preview-head" }, h("strong", {}, f.path), " ",
      h("a", { href: url, download: f.path.split("/").pop(), id: "artifact-download" }, "Download"));
    clear(preview).append(head);
    if (f.file_size > MAX_PREVIEW) { preview.append(h("p", { class: "muted" }, "Too large to preview.")); return; }
    try {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      if (IMAGE.test(f.path)) {
        const blob = await r.blob();
        // An SVG shown through <img> cannot run scripts; the blob gets an image type so it renders.
        const typed = new Blob([blob], { type: /\.svg$/i.test(f.path) ? "image/svg+xml" : blob.type });
        objectUrl = URL.createObjectURL(typed);
        preview.append(h("img", { src: objectUrl, alt: f.path, class: "artifact-image" }));
      } else if (TEXT.test(f.path)) {
        let text = await r.text();
        if (/\.json$/i.test(f.path)) { try { text = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as is */ } }
        preview.append(h("pre", { class: "artifact-text" }, text));
      } else {
        preview.append(h("p", { class: "muted" }, "No preview for this file type."));
      }
    } catch (err) { preview.append(errorBox(err)); }
  }

  fill(tree, null);
}

// Models, at MLflow's routes:
//   #/models                                   registered models, searchable by name
//   #/models/<name>                            one registered model: description, tags, aliases, versions
//   #/models/<name>/versions/<version>         one version: its source run and logged model, stage, aliases
//   #/experiments/<id>/models                  an experiment's logged models (MLflow 3's LoggedModels)
//   #/experiments/<id>/models/<model_id>       one logged model: params, metrics, tags, artifacts
import * as api from "./api.js";
import { renderArtifacts } from "./artifacts.js";
import { clear, errorBox, fmtNum, fmtTime, h, setStatus } from "./dom.js";

const STAGES = ["None", "Staging", "Production", "Archived"];
const enc = encodeURIComponent;
const modelHref = (name) => `#/models/${enc(name)}`;
const versionHref = (name, v) => `#/models/${enc(name)}/versions/${enc(v)}`;
const loggedHref = (expId, modelId) => `#/experiments/${enc(expId)}/models/${enc(modelId)}`;

function tagsTable(id, tags) {
  const list = (tags || []).slice().sort((a, b) => a.key.localeCompare(b.key));
  if (!list.length) return h("p", { class: "muted" }, "None");
  return h("table", { class: "grid kv", id }, h("tbody", {}, list.map((t) => h("tr", {}, h("th", {}, t.key), h("td", {}, t.value)))));
}

// A description shown as text with an editor; `save(text)` writes it, then the page re-renders.
function descriptionSection(text, save) {
  const view = h("p", { id: "description" }, text || h("span", { class: "muted" }, "No description."));
  const section = h("section", {}, h("h2", {}, "Description"), view);
  const edit = h("button", { type: "button", class: "small", id: "edit-description", onclick: () => {
    const area = h("textarea", { id: "description-editor", rows: 4, cols: 80, "aria-label": "Description" });
    area.value = text || "";
    const ok = h("button", { type: "button", id: "save-description", onclick: async () => {
      try { await save(area.value); setStatus("Description saved"); } catch (err) { setStatus(err.message, true); }
    } }, "Save");
    clear(view).append(area, h("div", {}, ok));
    edit.remove();
    area.focus();
  } }, "Edit");
  section.querySelector("h2").append(" ", edit);
  return section;
}

export async function registeredModelsPage(root, q) {
  const input = h("input", { type: "search", id: "model-search", placeholder: "Filter by name", "aria-label": "Filter models by name", value: q.get("q") || "" });
  const list = h("div", {});
  clear(root).append(h("h1", {}, "Registered models"),
    h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); render(); } }, input, h("button", { type: "submit" }, "Search")),
    list);

  async function render() {
    const term = input.value.trim();
    // MLflow's filter grammar; a quote in the term is doubled so it stays inside the literal.
    const filter = term ? `name ILIKE '%${term.replace(/'/g, "''")}%'` : undefined;
    const models = [];
    try {
      let token;
      do {
        const b = await api.get("registered-models/search", { filter, max_results: 1000, page_token: token });
        models.push(...(b.registered_models || []));
        token = b.next_page_token;
      } while (token && models.length < 10000);
    } catch (err) { clear(list).append(errorBox(err)); return; }
    if (!models.length) { clear(list).append(h("p", { class: "muted" }, term ? "No model matches." : "No registered models yet.")); setStatus(""); return; }
    clear(list).append(h("table", { class: "grid", id: "models-table" },
      h("thead", {}, h("tr", {}, ["Name", "Latest version", "Aliases", "Last modified", "Description"].map((x) => h("th", {}, x)))),
      h("tbody", {}, models.map((m) => {
        const latest = (m.latest_versions || []).reduce((a, v) => (!a || Number(v.version) > Number(a.version) ? v : a), null);
        return h("tr", { dataset: { model: m.name } },
          h("td", {}, h("a", { href: modelHref(m.name) }, m.name)),
          h("td", {}, latest ? h("a", { href: versionHref(m.name, latest.version) }, `Version ${latest.version}`) : ""),
          h("td", {}, (m.aliases || []).map((a) => h("span", { class: "pill" }, `@${a.alias}: v${a.version}`))),
          h("td", {}, fmtTime(m.last_updated_timestamp)),
          h("td", {}, m.description || ""));
      }))));
    setStatus(`${models.length} models`);
  }
  await render();
}

export async function registeredModelPage(root, name) {
  async function render() {
    let model, versions = [];
    try {
      model = (await api.get("registered-models/get", { name })).registered_model;
      let token;
      do {
        const b = await api.get("model-versions/search", { filter: `name='${name.replace(/'/g, "''")}'`, max_results: 1000, page_token: token });
        versions.push(...(b.model_versions || []));
        token = b.next_page_token;
      } while (token);
    } catch (err) { clear(root).append(errorBox(err)); return; }
    versions.sort((a, b) => Number(b.version) - Number(a.version));
    const aliasesOf = {};
    for (const a of model.aliases || []) (aliasesOf[a.version] ||= []).push(a.alias);
    clear(root).append(
      h("h1", {}, model.name),
      h("dl", { class: "overview" },
        h("dt", {}, "Created"), h("dd", {}, fmtTime(model.creation_timestamp)),
        h("dt", {}, "Last modified"), h("dd", {}, fmtTime(model.last_updated_timestamp))),
      descriptionSection(model.description, async (text) => {
        await api.patch("registered-models/update", { name, description: text });
        await render();
      }),
      h("section", {}, h("h2", {}, "Versions"), versions.length ? h("table", { class: "grid", id: "versions-table" },
        h("thead", {}, h("tr", {}, ["Version", "Registered", "Stage", "Aliases", "Source run", "Status"].map((x) => h("th", {}, x)))),
        h("tbody", {}, versions.map((v) => h("tr", { dataset: { version: v.version } },
          h("td", {}, h("a", { href: versionHref(name, v.version) }, `Version ${v.version}`)),
          h("td", {}, fmtTime(v.creation_timestamp)),
          h("td", {}, v.current_stage || "None"),
          h("td", {}, (aliasesOf[v.version] || []).map((a) => h("span", { class: "pill" }, `@${a}`))),
          h("td", {}, v.run_id ? h("code", {}, v.run_id) : ""),
          h("td", {}, v.status || ""))))) : h("p", { class: "muted" }, "No versions.")),
      h("section", {}, h("h2", {}, "Tags"), tagsTable("model-tags", model.tags)));
    setStatus(`${versions.length} versions`);
  }
  await render();
}

export async function modelVersionPage(root, name, version) {
  async function render() {
    let mv;
    try { mv = (await api.get("model-versions/get", { name, version })).model_version; }
    catch (err) { clear(root).append(errorBox(err)); return; }
    // The source run gives the link its experiment; a deleted run leaves the id as plain text.
    let runLink = mv.run_id ? h("code", {}, mv.run_id) : h("span", { class: "muted" }, "none");
    if (mv.run_id) {
      try {
        const run = await api.getRun(mv.run_id);
        runLink = h("a", { href: `#/experiments/${enc(run.info.experiment_id)}/runs/${enc(mv.run_id)}`, id: "version-run" }, api.runName(run));
      } catch { /* shown as the id */ }
    }
    // MLflow's wire format has no model_id on a version; a version made from a logged model has the
    // source models:/<model_id>, which names it.
    const modelId = mv.model_id || (/^models:\/(m-[0-9a-f]+)$/.exec(mv.source || "") || [])[1];
    let modelLink = null;
    if (modelId) {
      modelLink = h("code", { id: "version-model-id" }, modelId);
      try {
        const lm = await api.getLoggedModel(modelId);
        modelLink = h("a", { href: loggedHref(lm.info.experiment_id, modelId), id: "version-model-id" }, modelId);
      } catch { /* deleted: shown as the id */ }
    }
    const stage = h("select", { id: "stage-select", "aria-label": "Stage" },
      STAGES.map((s) => h("option", { value: s, selected: (mv.current_stage || "None") === s }, s)));
    const aliasInput = h("input", { type: "text", id: "alias-input", placeholder: "alias", "aria-label": "New alias" });
    clear(root).append(
      h("h1", {}, `${name} · version ${mv.version}`),
      h("dl", { class: "overview" },
        h("dt", {}, "Registered model"), h("dd", {}, h("a", { href: modelHref(name) }, name)),
        h("dt", {}, "Registered"), h("dd", {}, fmtTime(mv.creation_timestamp)),
        h("dt", {}, "Source run"), h("dd", {}, runLink),
        h("dt", {}, "Source"), h("dd", {}, h("code", {}, mv.source || "")),
        modelLink ? [h("dt", {}, "Logged model"), h("dd", {}, modelLink)] : null,
        h("dt", {}, "Status"), h("dd", {}, mv.status || ""),
        h("dt", {}, "Stage"), h("dd", {}, stage, " ", h("button", { type: "button", id: "transition-stage", onclick: async () => {
          try {
            await api.post("model-versions/transition-stage", { name, version: mv.version, stage: stage.value, archive_existing_versions: false });
            setStatus(`Moved to ${stage.value}`);
            await render();
          } catch (err) { setStatus(err.message, true); }
        } }, "Transition")),
        h("dt", {}, "Aliases"), h("dd", { id: "version-aliases" },
          (mv.aliases || []).map((a) => h("span", { class: "pill" }, `@${a} `, h("button", { type: "button", class: "small", "aria-label": `remove alias ${a}`, onclick: async () => {
            try { await api.del("registered-models/alias", { name, alias: a }); await render(); } catch (err) { setStatus(err.message, true); }
          } }, "×"))),
          h("form", { class: "inline", onsubmit: async (e) => {
            e.preventDefault();
            const alias = aliasInput.value.trim();
            if (!alias) return;
            try { await api.post("registered-models/alias", { name, alias, version: mv.version }); await render(); }
            catch (err) { setStatus(err.message, true); }
          } }, aliasInput, h("button", { type: "submit", id: "add-alias" }, "Add alias")))),
      descriptionSection(mv.description, async (text) => {
        await api.patch("model-versions/update", { name, version: mv.version, description: text });
        await render();
      }),
      h("section", {}, h("h2", {}, "Tags"), tagsTable("version-tags", mv.tags)));
    setStatus("");
  }
  await render();
}

function paramsOf(model) {
  return Object.fromEntries((model.data?.params || []).map((p) => [p.key, p.value]));
}

export async function loggedModelsPage(root, experimentId) {
  let models;
  try { models = await api.searchLoggedModels({ experiment_ids: [experimentId] }); }
  catch (err) { clear(root).append(errorBox(err)); return; }
  const metricKeys = [...new Set(models.flatMap((m) => (m.data?.metrics || []).map((x) => x.key)))].sort();
  const latest = (m, k) => (m.data?.metrics || []).filter((x) => x.key === k).reduce((a, x) => (!a || x.step >= a.step ? x : a), null);
  clear(root).append(
    h("h1", {}, "Logged models"),
    h("p", {}, h("a", { href: `#/experiments/${enc(experimentId)}` }, "← Runs of this experiment")),
    models.length ? h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "logged-models-table" },
      h("thead", {}, h("tr", {}, ["Name", "Model ID", "Status", "Created", "Source run", ...metricKeys].map((x) => h("th", {}, x)))),
      h("tbody", {}, models.map((m) => h("tr", { dataset: { modelId: m.info.model_id } },
        h("td", {}, h("a", { href: loggedHref(experimentId, m.info.model_id) }, m.info.name || m.info.model_id)),
        h("td", {}, h("code", {}, m.info.model_id)),
        h("td", {}, m.info.status || ""),
        h("td", {}, fmtTime(m.info.creation_timestamp_ms)),
        h("td", {}, m.info.source_run_id ? h("a", { href: `#/experiments/${enc(experimentId)}/runs/${enc(m.info.source_run_id)}` }, m.info.source_run_id) : ""),
        metricKeys.map((k) => h("td", { class: "num" }, fmtNum(latest(m, k)?.value)))))))) : h("p", { class: "muted" }, "No logged models in this experiment."));
  setStatus(`${models.length} logged models`);
}

export async function loggedModelPage(root, experimentId, modelId) {
  let model;
  try { model = await api.getLoggedModel(modelId); } catch (err) { clear(root).append(errorBox(err)); return; }
  const i = model.info;
  const params = paramsOf(model);
  const metrics = model.data?.metrics || [];
  const artifacts = h("div", { id: "artifacts" });
  clear(root).append(
    h("h1", {}, i.name || i.model_id),
    h("dl", { class: "overview" },
      h("dt", {}, "Model ID"), h("dd", {}, h("code", {}, i.model_id)),
      h("dt", {}, "Status"), h("dd", { id: "logged-model-status" }, i.status || ""),
      h("dt", {}, "Created"), h("dd", {}, fmtTime(i.creation_timestamp_ms)),
      h("dt", {}, "Source run"), h("dd", {}, i.source_run_id ? h("a", { href: `#/experiments/${enc(i.experiment_id)}/runs/${enc(i.source_run_id)}` }, i.source_run_id) : ""),
      h("dt", {}, "Artifact URI"), h("dd", {}, h("code", {}, i.artifact_uri || ""))),
    h("section", {}, h("h2", {}, "Parameters"), Object.keys(params).length ? h("table", { class: "grid kv", id: "logged-model-params" },
      h("tbody", {}, Object.keys(params).sort().map((k) => h("tr", {}, h("th", {}, k), h("td", {}, params[k]))))) : h("p", { class: "muted" }, "None")),
    h("section", {}, h("h2", {}, "Metrics"), metrics.length ? h("table", { class: "grid", id: "logged-model-metrics" },
      h("thead", {}, h("tr", {}, ["Key", "Value", "Step", "Run", "Dataset"].map((x) => h("th", {}, x)))),
      h("tbody", {}, metrics.map((m) => h("tr", {}, h("td", {}, m.key), h("td", { class: "num" }, fmtNum(m.value)), h("td", {}, m.step ?? ""),
        h("td", {}, m.run_id ? h("code", {}, m.run_id) : ""), h("td", {}, m.dataset_name || ""))))) : h("p", { class: "muted" }, "None")),
    h("section", {}, h("h2", {}, "Tags"), tagsTable("logged-model-tags", i.tags)),
    h("section", {}, h("h2", {}, "Artifacts"), artifacts));
  renderArtifacts(artifacts, api.loggedModelArtifacts(modelId));
  setStatus("");
}

// The run page's list of models this run produced (MLflow 3 logs them as LoggedModels).
export function runModelsSection(run) {
  const box = h("div", { id: "run-logged-models" }, h("p", { class: "muted" }, "Loading…"));
  const expId = run.info.experiment_id;
  api.searchLoggedModels({ experiment_ids: [expId], filter: `source_run_id = '${run.info.run_id}'` }).then((models) => {
    clear(box).append(models.length ? h("ul", {}, models.map((m) => h("li", {},
      h("a", { href: loggedHref(expId, m.info.model_id) }, m.info.name || m.info.model_id), " ", h("span", { class: "muted" }, m.info.status || ""))))
      : h("p", { class: "muted" }, "None"));
  }).catch((err) => clear(box).append(errorBox(err)));
  return box;
}

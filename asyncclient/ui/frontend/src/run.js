// #/experiments/<id>/runs/<run_id>: overview, notes, params, metrics with charts, tags, datasets,
// artifacts and the run's JSON. Refreshes itself while the run is RUNNING.
import * as api from "./api.js";
import { renderArtifacts } from "./artifacts.js";
import { chartControls, chartGrid, defaultChartOpts } from "./chart.js";
import { clear, csv, downloadBlob, errorBox, fmtDuration, fmtNum, fmtTime, h, setStatus } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { runModelsSection } from "./models.js";

const NOTE = "mlflow.note.content";

function kvTable(id, obj, fmt = (v) => v) {
  const keys = Object.keys(obj).sort();
  if (!keys.length) return h("p", { class: "muted" }, "None");
  return h("table", { class: "grid kv", id }, h("tbody", {}, keys.map((k) => h("tr", {}, h("th", {}, k), h("td", {}, fmt(obj[k]))))));
}

function notesSection(run, d) {
  const view = h("div", { class: "markdown", id: "note-view" });
  const text = d.tags[NOTE] || "";
  if (text) renderMarkdown(view, text); else view.append(h("p", { class: "muted" }, "No notes yet."));
  const section = h("section", { id: "notes" }, h("h2", {}, "Notes"), view);
  const edit = h("button", { type: "button", id: "edit-note", onclick: () => {
    const area = h("textarea", { id: "note-editor", rows: 8, cols: 80, "aria-label": "Note (markdown)" });
    area.value = d.tags[NOTE] || "";
    const save = h("button", { type: "button", id: "save-note", onclick: async () => {
      try {
        await api.setTag(run.info.run_id, NOTE, area.value);
        d.tags[NOTE] = area.value;
        section.replaceWith(notesSection(run, d));
        setStatus("Note saved");
      } catch (err) { setStatus(err.message, true); }
    } }, "Save");
    const cancel = h("button", { type: "button", onclick: () => section.replaceWith(notesSection(run, d)) }, "Cancel");
    clear(view).append(area, h("div", {}, save, " ", cancel));
    edit.remove();
    area.focus();
  } }, "Edit");
  section.querySelector("h2").append(" ", edit);
  return section;
}

function datasetsSection(run) {
  const inputs = run.inputs?.dataset_inputs || [];
  if (!inputs.length) return h("p", { class: "muted" }, "None");
  return h("table", { class: "grid", id: "datasets" },
    h("thead", {}, h("tr", {}, ["Name", "Digest", "Context", "Source type", "Source", "Schema"].map((x) => h("th", {}, x)))),
    h("tbody", {}, inputs.map((di) => {
      const ds = di.dataset || {};
      const ctx = (di.tags || []).find((t) => t.key === "mlflow.data.context")?.value || "";
      return h("tr", {}, h("td", {}, ds.name), h("td", {}, ds.digest), h("td", {}, ctx), h("td", {}, ds.source_type),
        h("td", {}, h("code", {}, ds.source || "")),
        h("td", {}, ds.schema ? h("details", {}, h("summary", {}, "schema"), h("pre", {}, ds.schema)) : ""));
    })));
}

async function historyCsv(runId, key) {
  const pts = await api.fullHistory(runId, key);
  downloadBlob(`${key}.csv`, csv([["step", "timestamp", "value"], ...pts.map((p) => [p.step, p.timestamp, p.value])]));
}

export async function runPage(root, runId) {
  let run;
  try { run = await api.getRun(runId); } catch (err) { clear(root).append(errorBox(err)); return; }
  // The experiment's name is only a label: the page (and its charts' requests) does not wait for it.
  let exp = null;
  api.getExperiment(run.info.experiment_id).then((e) => {
    exp = e;
    const link = document.getElementById("run-experiment");
    if (link) link.textContent = e.name;
  }).catch(() => {});
  const opts = defaultChartOpts();
  let grid = null, timer = null;

  function render() {
    const d = api.runData(run);
    const i = run.info;
    const metricKeys = Object.keys(d.metrics).sort();
    const runs = [{ run_id: i.run_id, name: api.runName(run), start_time: i.start_time }];
    if (grid) grid.destroy();
    grid = chartGrid(metricKeys, runs, opts);
    const metricsTable = metricKeys.length ? h("table", { class: "grid kv", id: "metrics-table" }, h("tbody", {}, metricKeys.map((k) =>
      h("tr", {}, h("th", {}, k), h("td", { class: "num" }, fmtNum(d.metrics[k])), h("td", {}, `step ${d.metricSteps[k].step}`),
        h("td", {}, h("button", { type: "button", class: "small", onclick: () => historyCsv(i.run_id, k) }, "history CSV")))))) : h("p", { class: "muted" }, "None");
    const tags = Object.fromEntries(Object.entries(d.tags).filter(([k]) => k !== NOTE));
    const artifacts = h("div", { id: "artifacts" });
    clear(root).append(
      h("h1", {}, api.runName(run)),
      h("dl", { class: "overview" },
        h("dt", {}, "Run ID"), h("dd", {}, h("code", {}, i.run_id)),
        h("dt", {}, "Experiment"), h("dd", {}, h("a", { href: `#/experiments/${i.experiment_id}`, id: "run-experiment" }, exp ? exp.name : i.experiment_id)),
        h("dt", {}, "Status"), h("dd", { class: `status ${i.status}`, id: "run-status" }, i.status),
        h("dt", {}, "Started"), h("dd", {}, fmtTime(i.start_time)),
        h("dt", {}, "Duration"), h("dd", {}, fmtDuration(i.start_time, i.end_time)),
        h("dt", {}, "User"), h("dd", {}, i.user_id || ""),
        d.tags["mlflow.parentRunId"] ? [h("dt", {}, "Parent run"), h("dd", {}, h("a", { href: `#/experiments/${i.experiment_id}/runs/${d.tags["mlflow.parentRunId"]}` }, d.tags["mlflow.parentRunId"]))] : null,
        h("dt", {}, "Artifact URI"), h("dd", {}, h("code", {}, i.artifact_uri || ""))),
      notesSection(run, d),
      h("section", {}, h("h2", {}, "Parameters"), kvTable("params-table", d.params)),
      h("section", {}, h("h2", {}, "Metrics"), metricsTable),
      h("section", {}, h("h2", {}, "Charts"), chartControls(opts, () => grid.redraw(), metricKeys), grid.el),
      h("section", {}, h("h2", {}, "Tags"), kvTable("tags-table", tags)),
      h("section", {}, h("h2", {}, "Datasets"), datasetsSection(run)),
      h("section", {}, h("h2", {}, "Logged models"), runModelsSection(run)),
      h("section", {}, h("h2", {}, "Artifacts"), artifacts),
      h("section", {}, h("h2", {}, "Run JSON"), h("details", {}, h("summary", {}, "show"), h("pre", { id: "run-json" }, JSON.stringify(run, null, 2)))));
    renderArtifacts(artifacts, i.run_id);
    setStatus("");
  }

  // Live: poll the run; charts refetch (zoomed ones keep their view), tables update in place.
  function live() {
    clearTimeout(timer);
    if (run.info.status !== "RUNNING") return;
    timer = setTimeout(async () => {
      if (!root.isConnected || !document.getElementById("run-status")) return;
      try {
        const fresh = await api.getRun(runId);
        const oldKeys = (run.data?.metrics || []).map((m) => m.key).join();
        const newKeys = (fresh.data?.metrics || []).map((m) => m.key).join();
        run = fresh;
        if (oldKeys !== newKeys) render();
        else {
          document.getElementById("run-status").textContent = run.info.status;
          const d = api.runData(run);
          const mt = document.getElementById("metrics-table");
          if (mt) for (const tr of mt.querySelectorAll("tr")) {
            const k = tr.firstChild.textContent;
            tr.children[1].textContent = fmtNum(d.metrics[k]);
            tr.children[2].textContent = `step ${d.metricSteps[k].step}`;
          }
          grid.refresh();
        }
      } catch { /* transient; try again */ }
      live();
    }, 5000);
  }

  render();
  live();
  return () => { clearTimeout(timer); if (grid) grid.destroy(); };
}

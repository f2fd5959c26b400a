// #/experiments/<id> and #/compare-experiments/s?experiments=[...]: the runs table.
// Sorting, filtering and paging happen on the server (runs/search); child runs nest under their parents.
import * as api from "./api.js";
import { clear, csv, downloadBlob, errorBox, fmtDuration, fmtNum, fmtTime, h, setStatus } from "./dom.js";

const PAGE = 100;
const PARENT = "mlflow.parentRunId";

function quoteKey(key) { return "`" + key.replace(/`/g, "") + "`"; }

function loadColumns(storeKey) {
  try { return JSON.parse(localStorage.getItem(storeKey)) || null; } catch { return null; }
}

export async function runsPage(root, experimentIds, query) {
  const storeKey = `asyncclient.columns.${experimentIds.join(",")}`;
  const state = {
    // MLflow's URL parameters, so its links (and bookmarks) open the same view.
    filter: query.get("searchFilter") || "",
    orderBy: query.get("orderByKey") ? `${query.get("orderByKey")} ${query.get("orderByAsc") === "true" ? "ASC" : "DESC"}` : "attributes.start_time DESC",
    runs: [], token: null,
    selected: new Set(), expanded: new Set(), cols: loadColumns(storeKey), hideConstant: false, timer: null,
    minmax: false, extremes: new Map(), // "run|key" -> {min, max} from the bucketed endpoint
  };
  const names = await Promise.all(experimentIds.map((id) => api.getExperiment(id).then((e) => e.name).catch(() => id)));
  const filterInput = h("input", { type: "search", id: "runs-filter", value: state.filter, size: 60,
    placeholder: "metrics.loss < 0.5 and params.lr = '0.01'", "aria-label": "Filter runs (MLflow search syntax)" });
  const errorArea = h("div", { id: "runs-error" });
  const table = h("div", { class: "table-wrap" });
  const more = h("button", { type: "button", id: "load-more", hidden: true, onclick: () => fetchPage(true) }, "Load more");
  const colPicker = h("details", { class: "columns" }, h("summary", {}, "Columns"));
  clear(root).append(
    h("h1", {}, names.join(" + ")),
    experimentIds.length === 1 ? h("p", {}, h("a", { href: `#/experiments/${encodeURIComponent(experimentIds[0])}/models`, id: "experiment-models" }, "Logged models of this experiment")) : null,
    h("form", { class: "toolbar", role: "search", onsubmit: (e) => { e.preventDefault(); state.filter = filterInput.value; fetchPage(false); } },
      filterInput, h("button", { type: "submit" }, "Search"),
      h("button", { type: "button", id: "compare-runs", onclick: compare }, "Compare selected"),
      h("button", { type: "button", id: "download-csv", onclick: downloadCsv }, "Download CSV"),
      h("button", { type: "button", id: "download-history", onclick: downloadHistory }, "Metric history CSV (selected)"),
      h("label", {}, h("input", { type: "checkbox", onchange: (e) => { state.hideConstant = e.target.checked; render(); } }), " hide constant columns"),
      h("label", {}, h("input", { type: "checkbox", id: "show-minmax", onchange: (e) => { state.minmax = e.target.checked; render(); } }), " metric min / max")),
    colPicker, errorArea, table, more);

  function compare() {
    const ids = [...state.selected];
    if (ids.length < 1) { setStatus("Select runs to compare first", true); return; }
    location.hash = `#/compare-runs?runs=${encodeURIComponent(JSON.stringify(ids))}&experiments=${encodeURIComponent(JSON.stringify(experimentIds))}`;
  }

  async function fetchPage(append, count = PAGE) {
    clear(errorArea);
    try {
      const body = await api.searchRuns({
        experiment_ids: experimentIds, filter: state.filter, order_by: [state.orderBy], max_results: count,
        page_token: append ? state.token : undefined, run_view_type: "ACTIVE_ONLY",
      });
      state.runs = append ? state.runs.concat(body.runs || []) : body.runs || [];
      if (!append) keepInUrl();
      state.token = body.next_page_token || null;
      render();
      scheduleLive();
    } catch (err) {
      // The server's own words, e.g. "Invalid clause(s) in filter string: ...".
      errorArea.append(errorBox(err));
      setStatus("Search failed", true);
    }
  }

  // The view's filter and sort go into the URL with MLflow's parameter names: reload and bookmarks keep
  // them. replaceState, not a hash assignment, so the router does not rebuild the page.
  function keepInUrl() {
    const [path, qs] = location.hash.split("?");
    const q = new URLSearchParams(qs || "");
    const [key, dir] = state.orderBy.split(/ (?=ASC$|DESC$)/);
    if (state.filter) q.set("searchFilter", state.filter); else q.delete("searchFilter");
    q.set("orderByKey", key);
    q.set("orderByAsc", String(dir === "ASC"));
    history.replaceState(null, "", `${path}?${q}`);
  }

  // Live refresh: while a listed run is RUNNING, re-query the same rows; selection, columns, scroll stay.
  function scheduleLive() {
    clearTimeout(state.timer);
    if (!state.runs.some((r) => r.info.status === "RUNNING")) return;
    state.timer = setTimeout(() => {
      if (!root.isConnected || !document.body.contains(table)) return;
      fetchPage(false, Math.min(1000, Math.max(PAGE, state.runs.length)));
    }, 5000);
  }

  function keysOf(kind) {
    const ks = new Set();
    for (const r of state.runs) for (const x of r.data?.[kind] || []) if (kind !== "tags" || !x.key.startsWith("mlflow.")) ks.add(x.key);
    return [...ks].sort();
  }

  function columns() {
    if (!state.cols) {
      // Default: every metric, and params up to a dozen; tags on request.
      state.cols = { metrics: keysOf("metrics"), params: keysOf("params").slice(0, 12), tags: [] };
    }
    return state.cols;
  }

  function renderPicker() {
    const cols = columns();
    clear(colPicker).append(h("summary", {}, "Columns"));
    for (const kind of ["metrics", "params", "tags"]) {
      const box = h("fieldset", {}, h("legend", {}, kind));
      for (const key of keysOf(kind)) {
        box.append(h("label", {}, h("input", { type: "checkbox", checked: cols[kind].includes(key), onchange: (e) => {
          cols[kind] = e.target.checked ? [...cols[kind], key] : cols[kind].filter((k) => k !== key);
          localStorage.setItem(storeKey, JSON.stringify(cols));
          render();
        } }), " ", key));
      }
      colPicker.append(box);
    }
  }

  function sortHeader(label, field) {
    const [cur, dir] = state.orderBy.split(/ (?=ASC$|DESC$)/);
    const active = cur === field;
    const next = active && dir === "DESC" ? "ASC" : "DESC";
    return h("th", { "aria-sort": active ? (dir === "DESC" ? "descending" : "ascending") : "none" },
      h("button", { type: "button", class: "sort", onclick: () => { state.orderBy = `${field} ${next}`; fetchPage(false); } },
        label, active ? (dir === "DESC" ? " ↓" : " ↑") : ""));
  }

  function render() {
    const cols = columns();
    renderPicker();
    const data = new Map(state.runs.map((r) => [r.info.run_id, api.runData(r)]));
    const visible = (kind) => cols[kind].filter((k) => {
      if (!state.hideConstant || state.runs.length < 2) return true;
      const vals = new Set(state.runs.map((r) => String(data.get(r.info.run_id)[kind][k])));
      return vals.size > 1;
    });
    const mk = visible("metrics"), pk = visible("params"), tk = visible("tags");
    // The tree: children under their parent when it is loaded, at the top level otherwise.
    const ids = new Set(state.runs.map((r) => r.info.run_id));
    const children = new Map();
    const top = [];
    for (const r of state.runs) {
      const parent = data.get(r.info.run_id).tags[PARENT];
      if (parent && ids.has(parent) && parent !== r.info.run_id) {
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(r);
      } else top.push(r);
    }
    const rows = [];
    const walk = (r, depth, seen) => {
      const id = r.info.run_id;
      if (seen.has(id)) return; // a cycle of parent tags must not hang the page
      seen.add(id);
      const d = data.get(id);
      const kids = children.get(id) || [];
      const open = state.expanded.has(id);
      const toggle = kids.length ? h("button", { type: "button", class: "toggle", "aria-expanded": String(open), "aria-label": `${open ? "collapse" : "expand"} ${kids.length} child runs`,
        onclick: () => { open ? state.expanded.delete(id) : state.expanded.add(id); render(); } }, open ? "▾" : "▸", ` ${kids.length}`) : null;
      rows.push(h("tr", { dataset: { runId: id, depth: String(depth) } },
        h("td", {}, h("input", { type: "checkbox", "aria-label": `select ${api.runName(r)}`, checked: state.selected.has(id),
          onchange: (e) => { e.target.checked ? state.selected.add(id) : state.selected.delete(id); } })),
        h("td", { class: "name" },
          h("span", { class: `indent d${Math.min(depth, 8)}` }), toggle,
          h("a", { href: `#/experiments/${r.info.experiment_id}/runs/${id}`, class: "run-link" }, api.runName(r))),
        h("td", { class: `status ${r.info.status}` }, r.info.status),
        h("td", {}, fmtTime(r.info.start_time)),
        h("td", {}, fmtDuration(r.info.start_time, r.info.end_time || (r.info.status === "RUNNING" ? null : r.info.start_time))),
        h("td", {}, r.info.user_id || ""),
        mk.map((k) => [h("td", { class: "num" }, fmtNum(d.metrics[k])),
          state.minmax ? ["min", "max"].map((which) => h("td", { class: "num", dataset: { extreme: `${id}|${k}|${which}` } },
            d.metrics[k] === undefined ? "" : fmtNum(state.extremes.get(`${id}|${k}`)?.[which]))) : null]),
        pk.map((k) => h("td", {}, d.params[k] ?? "")),
        tk.map((k) => h("td", {}, d.tags[k] ?? ""))));
      if (open) for (const c of kids) walk(c, depth + 1, seen);
    };
    const seen = new Set();
    for (const r of top) walk(r, 0, seen);
    clear(table).append(h("table", { class: "grid runs", id: "runs-table" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), sortHeader("Run", "attributes.run_name"), sortHeader("Status", "attributes.status"),
        sortHeader("Created", "attributes.start_time"), h("th", {}, "Duration"), sortHeader("User", "attributes.user_id"),
        mk.map((k) => [sortHeader(k, `metrics.${quoteKey(k)}`), state.minmax ? [h("th", {}, `${k} (min)`), h("th", {}, `${k} (max)`)] : null]), pk.map((k) => sortHeader(k, `params.${quoteKey(k)}`)),
        tk.map((k) => sortHeader(k, `tags.${quoteKey(k)}`)))),
      h("tbody", {}, rows)));
    more.hidden = !state.token;
    if (state.minmax) loadExtremes(mk);
    setStatus(`${state.runs.length} runs${state.token ? " (more available)" : ""}`);
  }

  // Min / max of a metric over a run's whole history: one bucket of the bucketed endpoint per run and
  // key, a few requests at a time, filled into the cells as they arrive.
  async function loadExtremes(keys) {
    const todo = [];
    for (const r of state.runs) for (const k of keys) {
      const id = `${r.info.run_id}|${k}`;
      if (!state.extremes.has(id) && (r.data?.metrics || []).some((m) => m.key === k)) todo.push([r.info.run_id, k, id]);
    }
    const worker = async () => {
      for (let job = todo.shift(); job; job = todo.shift()) {
        const [runId, key, id] = job;
        state.extremes.set(id, {});
        try {
          const b = await api.bucketed({ run_id: runId, metric_key: key, buckets: 1 });
          state.extremes.set(id, { min: b.min[0], max: b.max[0] });
        } catch { continue; }
        for (const which of ["min", "max"]) {
          const cell = table.querySelector(`td[data-extreme="${CSS.escape(`${id}|${which}`)}"]`);
          if (cell) cell.textContent = fmtNum(state.extremes.get(id)[which]);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  function downloadCsv() {
    const mk = keysOf("metrics"), pk = keysOf("params"), tk = keysOf("tags");
    const rows = [["run_id", "name", "experiment_id", "status", "user", "start_time", "end_time", "duration_s",
      ...mk.map((k) => `metrics.${k}`), ...pk.map((k) => `params.${k}`), ...tk.map((k) => `tags.${k}`)]];
    for (const r of state.runs) {
      const d = api.runData(r), i = r.info;
      rows.push([i.run_id, api.runName(r), i.experiment_id, i.status, i.user_id, fmtTime(i.start_time), fmtTime(i.end_time),
        i.end_time ? (i.end_time - i.start_time) / 1000 : "", ...mk.map((k) => d.metrics[k]), ...pk.map((k) => d.params[k]), ...tk.map((k) => d.tags[k])]);
    }
    downloadBlob("runs.csv", csv(rows));
  }

  async function downloadHistory() {
    const runs = state.runs.filter((r) => state.selected.has(r.info.run_id));
    if (!runs.length) { setStatus("Select runs first", true); return; }
    const rows = [["run_id", "key", "step", "timestamp", "value"]];
    for (const r of runs) {
      for (const m of r.data?.metrics || []) {
        for (const p of await api.fullHistory(r.info.run_id, m.key)) rows.push([r.info.run_id, m.key, p.step, p.timestamp, p.value]);
      }
    }
    downloadBlob("metric-history.csv", csv(rows));
  }

  await fetchPage(false);
  return () => clearTimeout(state.timer);
}

// #/compare-runs?runs=[...]&experiments=[...]: runs side by side, differing values marked, metrics overlaid.
import * as api from "./api.js";
import { chartControls, chartGrid, defaultChartOpts, PALETTE } from "./chart.js";
import { clear, errorBox, fmtDuration, fmtNum, fmtTime, h } from "./dom.js";
import { parallelPlot } from "./parallel.js";
import { scatterPlot } from "./scatter.js";

export async function comparePage(root, runIds, onlyMetric) {
  let runs;
  try { runs = await Promise.all(runIds.map((id) => api.getRun(id))); }
  catch (err) { clear(root).append(errorBox(err)); return; }
  const data = runs.map((r) => api.runData(r));
  const union = (kind) => [...new Set(data.flatMap((d) => Object.keys(d[kind])))].sort();

  const header = h("tr", {}, h("th", {}, ""), runs.map((r, i) => h("th", {},
    h("span", { class: "swatch", dataset: { color: String(i % PALETTE.length) } }),
    h("a", { href: `#/experiments/${r.info.experiment_id}/runs/${r.info.run_id}` }, api.runName(r)))));
  const row = (label, values, fmt = (v) => v) => {
    const differs = new Set(values.map((v) => String(v ?? ""))).size > 1;
    return h("tr", { class: differs ? "differs" : "" },
      h("th", {}, label, differs ? h("span", { class: "diff-mark", title: "values differ" }, " ≠") : null),
      values.map((v) => h("td", {}, v === undefined ? "" : fmt(v))));
  };
  const section = (title, kind, fmt) => [h("tr", { class: "group" }, h("th", { colspan: runs.length + 1 }, title)),
    union(kind).map((k) => row(k, data.map((d) => d[kind][k]), fmt))];
  const table = h("table", { class: "grid compare", id: "compare-table" }, h("thead", {}, header), h("tbody", {},
    row("Run ID", runs.map((r) => r.info.run_id)),
    row("Status", runs.map((r) => r.info.status)),
    row("Started", runs.map((r) => fmtTime(r.info.start_time))),
    row("Duration", runs.map((r) => fmtDuration(r.info.start_time, r.info.end_time))),
    section("Parameters", "params"), section("Metrics (latest)", "metrics", fmtNum)));

  const sweep = runs.map((r, i) => ({ name: api.runName(r), params: data[i].params, metrics: data[i].metrics }));
  const opts = defaultChartOpts();
  const keys = onlyMetric ? [onlyMetric] : union("metrics");
  const chartRuns = runs.map((r) => ({ run_id: r.info.run_id, name: api.runName(r), start_time: r.info.start_time }));
  const grid = chartGrid(keys, chartRuns, opts);
  // Group runs by a param or tag: one mean line and min–max band per value (e.g. seeds of one config).
  const groupSel = h("select", { id: "group-by", "aria-label": "group runs by", onchange: () => {
    const [kind, key] = groupSel.value ? groupSel.value.split("\n") : [null, null];
    opts.groupBy = key;
    chartRuns.forEach((cr, i) => { cr.group = kind ? data[i][kind][key] : undefined; });
    grid.redraw();
  } }, h("option", { value: "" }, "no grouping"),
  union("params").map((k) => h("option", { value: `params\n${k}` }, `param: ${k}`)),
  union("tags").filter((k) => !k.startsWith("mlflow.")).map((k) => h("option", { value: `tags\n${k}` }, `tag: ${k}`)));
  clear(root).append(h("h1", {}, `Comparing ${runs.length} runs`), h("div", { class: "table-wrap" }, table),
    h("h2", {}, "Metrics"), chartControls(opts, () => grid.redraw(), union("metrics")), h("label", {}, "Group runs by ", groupSel), grid.el,
    scatterPlot(sweep), parallelPlot(sweep));
  return () => grid.destroy();
}

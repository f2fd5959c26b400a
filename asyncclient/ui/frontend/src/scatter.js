// Compare page: one param (or metric) against one metric, a point per run — the sweep's view.
import uPlot from "uplot";
import { clear, h } from "./dom.js";

/** `runs`: [{name, params, metrics}]. Returns the section element. */
export function scatterPlot(runs) {
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const options = [...params.map((k) => ["params", k]), ...metrics.map((k) => ["metrics", k])];
  const xSel = h("select", { "aria-label": "scatter x", id: "scatter-x" },
    options.map(([kind, k]) => h("option", { value: `${kind}\n${k}` }, `${kind === "params" ? "param" : "metric"}: ${k}`)));
  const ySel = h("select", { "aria-label": "scatter y", id: "scatter-y" }, metrics.map((k) => h("option", { value: k }, `metric: ${k}`)));
  const logX = h("input", { type: "checkbox", id: "scatter-logx" });
  const box = h("div", { class: "plot", id: "scatter" });
  const note = h("p", { class: "muted" });
  let plot = null;

  function draw() {
    const [kind, xKey] = xSel.value.split("\n");
    const yKey = ySel.value;
    const raw = runs.map((r) => ({ name: r.name, x: r[kind][xKey], y: r.metrics[yKey] }))
      .filter((p) => p.x !== undefined && p.y !== undefined);
    // Numbers as they are; anything else (e.g. an optimizer name) by its rank among the sorted values.
    const numeric = raw.every((p) => p.x !== "" && Number.isFinite(Number(p.x)));
    const cats = numeric ? [] : [...new Set(raw.map((p) => String(p.x)))].sort();
    const pts = raw.map((p) => ({ ...p, xv: numeric ? Number(p.x) : cats.indexOf(String(p.x)) }))
      .filter((p) => !(logX.checked && numeric && p.xv <= 0)).sort((a, b) => a.xv - b.xv);
    note.textContent = `${pts.length} runs` + (numeric ? "" : ` — x categories: ${cats.join(", ")}`);
    if (plot) plot.destroy();
    const fg = getComputedStyle(document.body).color;
    const axis = { stroke: fg, grid: { stroke: "rgba(128,128,128,0.25)" } };
    plot = new uPlot({
      width: Math.max(300, box.clientWidth || 600), height: 280,
      scales: { x: { time: false, distr: logX.checked && numeric ? 3 : 1 } },
      axes: [{ ...axis, ...(numeric ? {} : { values: (u, vals) => vals.map((v) => cats[v] ?? "") }) }, { ...axis }],
      series: [{ label: xKey }, { label: yKey, stroke: "#1f77b4", paths: () => null, points: { show: true, size: 8, fill: "#1f77b4" } }],
      legend: { show: true },
    }, [pts.map((p) => p.xv), pts.map((p) => p.y)], box);
    box._uplot = plot;
    box.dataset.points = String(pts.length);
  }
  for (const el of [xSel, ySel, logX]) el.addEventListener("change", draw);
  const section = h("section", { class: "scatter" }, h("h2", {}, "Parameter vs metric"),
    h("div", { class: "chart-controls" }, h("label", {}, "x ", xSel), h("label", {}, "y ", ySel),
      h("label", {}, logX, " log x")), note, box);
  if (!metrics.length || !options.length) { clear(section).append(h("p", { class: "muted" }, "No metrics to plot.")); return section; }
  requestAnimationFrame(draw); // once the section is in the page and has a width
  return section;
}

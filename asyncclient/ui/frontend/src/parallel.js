// Compare page: parallel coordinates — one vertical axis per param and per chosen metric, one polyline per
// run, coloured by the last axis (the metric). SVG built with DOM calls; every label is a text node.
import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// An axis maps values to [0, 1]: numbers linearly (or by log when `log` and all > 0), other values by rank.
function scaleOf(values, log) {
  const nums = values.filter((v) => v !== undefined);
  const numeric = nums.length > 0 && nums.every((v) => v !== "" && Number.isFinite(Number(v)));
  if (!numeric) {
    const cats = [...new Set(nums.map(String))].sort();
    return { ticks: cats, at: (v) => (cats.length < 2 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1)) };
  }
  const useLog = log && nums.every((v) => Number(v) > 0);
  const f = (v) => (useLog ? Math.log10(Number(v)) : Number(v));
  const lo = Math.min(...nums.map(f)), hi = Math.max(...nums.map(f));
  const fmt = (v) => String(+Number(v).toPrecision(4));
  const ticks = [...new Set(nums.map(Number))].sort((a, b) => a - b);
  return { ticks: [fmt(ticks[0]), fmt(ticks[ticks.length - 1])], at: (v) => (hi === lo ? 0.5 : (f(v) - lo) / (hi - lo)) };
}

/** `runs`: [{name, params, metrics}]; axes: every param that differs between runs, then a metric. */
export function parallelPlot(runs) {
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort()
    .filter((k) => new Set(runs.map((r) => r.params[k])).size > 1);
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const metricSel = h("select", { id: "parallel-metric", "aria-label": "parallel coordinates metric" },
    metrics.map((k) => h("option", { value: k }, `metric: ${k}`)));
  const logBox = h("input", { type: "checkbox", id: "parallel-log" });
  const holder = h("div", { class: "parallel", id: "parallel" });
  const section = h("section", {}, h("h2", {}, "Parallel coordinates"),
    h("div", { class: "chart-controls" }, h("label", {}, "color by ", metricSel), h("label", {}, logBox, " log axes")), holder);
  if (!params.length || !metrics.length) {
    holder.append(h("p", { class: "muted" }, "Needs at least one param that differs and a metric."));
    return section;
  }
  function draw() {
    holder.replaceChildren();
    const axes = [...params.map((k) => ["params", k]), ["metrics", metricSel.value]];
    const W = Math.max(400, 160 * axes.length), H = 300, top = 24, bottom = 40, left = 60;
    const step = (W - 2 * left) / Math.max(1, axes.length - 1);
    const svg = s("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "parallel coordinates" });
    const scales = axes.map(([kind, k]) => scaleOf(runs.map((r) => r[kind][k]), logBox.checked));
    const y = (t) => top + (1 - t) * (H - top - bottom);
    const colour = scales[scales.length - 1];
    for (const r of runs) {
      const pts = [];
      axes.forEach(([kind, k], i) => { const v = r[kind][k]; if (v !== undefined) pts.push(`${left + i * step},${y(scales[i].at(v))}`); });
      if (pts.length < 2) continue;
      const m = r.metrics[metricSel.value];
      const hue = m === undefined ? 0 : Math.round(240 * (1 - colour.at(m)));
      const line = s("polyline", { points: pts.join(" "), fill: "none", stroke: m === undefined ? "gray" : `hsl(${hue},70%,50%)`, "stroke-width": 1.5, class: "pc-run" });
      line.append(s("title", {}, r.name));
      svg.append(line);
    }
    axes.forEach(([, k], i) => {
      const x = left + i * step;
      svg.append(s("line", { x1: x, x2: x, y1: top, y2: H - bottom, stroke: "currentColor" }));
      svg.append(s("text", { x, y: H - bottom + 18, "text-anchor": "middle", fill: "currentColor", "font-size": 12 }, k));
      const ticks = scales[i].ticks;
      ticks.forEach((tk) => svg.append(s("text", { x: x + 4, y: y(scales[i].at(tk)) + 4, fill: "currentColor", "font-size": 10 }, tk)));
    });
    holder.append(svg);
    holder.dataset.lines = String(svg.querySelectorAll("polyline").length);
  }
  metricSel.addEventListener("change", draw);
  logBox.addEventListener("change", draw);
  draw();
  return section;
}

// One metric chart: several runs overlaid, each drawn from the bucketed endpoint as a line (the value at
// each bucket's last x) with its min–max band, so a one-step spike stays visible at any zoom.
import uPlot from "uplot";
import { bucketed } from "./api.js";
import { h } from "./dom.js";

export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

// Debiased EMA (TensorBoard's): early points are not dragged towards 0; nulls pass through.
export function ema(ys, weight) {
  if (!weight) return ys;
  const out = new Array(ys.length);
  let last = 0, n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || y === undefined || !Number.isFinite(y)) { out[i] = null; continue; }
    last = last * weight + (1 - weight) * y;
    n++;
    out[i] = last / (1 - Math.pow(weight, n));
  }
  return out;
}

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${a})`;
}

// x values of one run's buckets in the chosen axis: steps, seconds since the run started, or unix seconds.
function xs(res, mode, run) {
  if (mode === "step") return res.x_last;
  if (mode.startsWith("metric:")) return metricXs(res);
  if (mode === "relative") return res.x_last.map((t) => (t - Number(run.start_time || res.x_range[0])) / 1000);
  return res.x_last.map((t) => t / 1000);
}

// x = another metric: each bucket's x is that metric's value at the bucket's last step (or the closest
// step before it), from the same run's bucketed history of that metric.
function metricXs(res) {
  const other = res.xmetric;
  if (!other || !other.x_last.length) return res.x_last.map(() => null);
  const steps = other.x_last, vals = other.last;
  return res.x_last.map((step) => {
    let lo = 0, hi = steps.length - 1, at = -1;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (steps[mid] <= step) { at = mid; lo = mid + 1; } else hi = mid - 1; }
    return at < 0 ? null : vals[at];
  });
}

// The request window for a zoomed x range, back in the endpoint's units (steps or ms).
function windowFor(mode, run, min, max) {
  if (mode === "step") return [Math.floor(min), Math.ceil(max)];
  const base = mode === "relative" ? Number(run.start_time || 0) : 0;
  return [Math.floor(min * 1000 + base), Math.ceil(max * 1000 + base)];
}

/** Runs grouped by a param or tag: per group, on a grid of `cells` x slices shared by all groups, the mean
 * of the runs' values and a band from the smallest min to the largest max (so a spike in one run shows). */
export function groupLines(lines, groups, cells, groupKey) {
  const all = lines.flatMap((l) => l.x);
  if (!all.length) return [];
  let lo = Infinity, hi = -Infinity;
  for (const v of all) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const w = (hi - lo) / cells || 1;
  const cell = (v) => Math.min(cells - 1, Math.floor((v - lo) / w));
  const byGroup = new Map();
  lines.forEach((l, i) => {
    const g = groups[i];
    if (!byGroup.has(g)) byGroup.set(g, { runs: 0, sum: new Float64Array(cells), n: new Uint32Array(cells), min: new Array(cells).fill(null), max: new Array(cells).fill(null) });
    const acc = byGroup.get(g);
    acc.runs++;
    // A run's last bucket in each cell stands for it there; its min/max widen the group's band.
    const lastOf = new Map();
    l.x.forEach((x, j) => {
      const c = cell(x);
      lastOf.set(c, l.y[j]);
      if (l.min[j] !== null && (acc.min[c] === null || l.min[j] < acc.min[c])) acc.min[c] = l.min[j];
      if (l.max[j] !== null && (acc.max[c] === null || l.max[j] > acc.max[c])) acc.max[c] = l.max[j];
    });
    for (const [c, v] of lastOf) if (v !== null && v !== undefined) { acc.sum[c] += v; acc.n[c]++; }
  });
  return [...byGroup.entries()].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([g, acc]) => {
    const keep = [...acc.n.keys()].filter((c) => acc.n[c] > 0 || acc.min[c] !== null);
    return {
      name: `${groupKey}=${g} (${acc.runs} run${acc.runs === 1 ? "" : "s"}, mean)`,
      x: keep.map((c) => lo + (c + 1) * w), y: keep.map((c) => (acc.n[c] ? acc.sum[c] / acc.n[c] : null)),
      min: keep.map((c) => acc.min[c]), max: keep.map((c) => acc.max[c]),
    };
  });
}

/** A chart card for `metricKey` over `runs` ([{run_id, name, start_time}]); `opts` holds the shared view
 * settings {x, logY, logX, smoothing}. Returns {el, mount(), refresh(), destroy()}. */
export function metricChart(metricKey, runs, opts) {
  const plotBox = h("div", { class: "plot" });
  const info = h("span", { class: "chart-info" });
  const reset = h("button", { type: "button", class: "small", hidden: true, onclick: () => load(null) }, "Reset zoom");
  const el = h("section", { class: "chart", dataset: { metric: metricKey } },
    h("header", {}, h("h3", {}, metricKey), info, reset), plotBox);
  let plot = null, zoom = null, loading = 0, data = null, last = null; // last: the drawn results, per run
  const COLUMNS = ["x_first", "x_last", "min", "max", "mean", "last", "count"];

  async function fetchAll(win) {
    const width = Math.max(200, Math.min(2000, Math.round(plotBox.clientWidth || 600)));
    return Promise.all(runs.map((run) => {
      const p = { run_id: run.run_id, metric_key: metricKey, buckets: width, x: opts.x === "relative" || opts.x === "wall" ? "time" : "step" };
      if (win) [p.min_x, p.max_x] = windowFor(opts.x, run, win[0], win[1]);
      const failed = (e) => ({ error: e.message, x_last: [], x_first: [], min: [], max: [], last: [], mean: [], count: [], total: 0 });
      if (opts.x.startsWith("metric:")) {
        // Both metrics bucketed over steps with the same bucket count, paired by step in metricXs.
        const other = { ...p, metric_key: opts.x.slice(7) };
        return Promise.all([bucketed(p), bucketed(other)]).then(([res, xm]) => ({ ...res, xmetric: xm })).catch(failed);
      }
      return bucketed(p).catch(failed);
    }));
  }

  function build(results) {
    // One "line" per run: x, the value at each bucket's last x, and the bucket's min and max.
    let lines = results.map((res, i) => ({
      name: runs[i].name, x: xs(res, opts.x, runs[i]), min: res.min, max: res.max,
      y: res.last.map((v, j) => (v === null ? res.mean[j] : v)),
    }));
    if (opts.groupBy) lines = groupLines(lines, runs.map((r) => r.group ?? "(none)"), plotBox.clientWidth || 600, opts.groupBy);
    // uPlot wants one shared x array: join the lines' tables (nulls where a line has no bucket).
    const tables = lines.map((l) => {
      const pos = (ys) => (opts.logY ? ys.map((v) => (v > 0 ? v : null)) : ys);
      let table = [l.x, pos(l.y), pos(ema(l.y, opts.smoothing)), pos(l.min), pos(l.max)];
      if (opts.x.startsWith("metric:")) {
        // uPlot wants x ascending: points ordered by the other metric's value.
        const order = l.x.map((_, j) => j).filter((j) => l.x[j] !== null).sort((a, b) => l.x[a] - l.x[b]);
        table = table.map((col) => order.map((j) => col[j]));
      }
      // A log x axis has no place for step 0 (or below): those buckets are left out.
      if (opts.logX && opts.x === "step") {
        const keep = l.x.map((v) => v > 0);
        return table.map((col) => col.filter((_, j) => keep[j]));
      }
      return table;
    });
    const joined = tables.length ? uPlot.join(tables) : [[]];
    const series = [{ label: opts.x === "step" ? "step" : opts.x === "relative" ? "seconds" : opts.x === "wall" ? "time" : opts.x.slice(7) }];
    const bands = [];
    lines.forEach((line, i) => {
      const c = PALETTE[i % PALETTE.length];
      const base = 1 + i * 4;
      const smooth = opts.smoothing > 0;
      series.push({ label: `${line.name}${smooth ? " (raw)" : ""}`, stroke: smooth ? alpha(c, 0.3) : c, width: 1, spanGaps: true, points: { show: false } });
      series.push({ label: `${line.name} (EMA ${opts.smoothing})`, stroke: c, width: 1.5, spanGaps: true, show: smooth, points: { show: false } });
      // The band's edges are drawn too: a one-bucket spike is a thin band, its edge line keeps it visible.
      series.push({ label: `${line.name} min`, stroke: alpha(c, 0.35), width: 1, spanGaps: true, points: { show: false } });
      series.push({ label: `${line.name} max`, stroke: alpha(c, 0.35), width: 1, spanGaps: true, points: { show: false } });
      bands.push({ series: [base + 3, base + 2], fill: alpha(c, 0.2) });
    });
    return { joined, series, bands };
  }

  function draw(results) {
    const { joined, series, bands } = build(results);
    data = joined;
    const total = results.reduce((s, r) => s + (r.total || 0), 0);
    const errors = results.filter((r) => r.error).map((r) => r.error);
    info.textContent = `${total.toLocaleString()} points` + (errors.length ? ` — ${errors[0]}` : "");
    const width = plotBox.clientWidth || 600;
    // Axis text and grid from the page's colours, so the chart stays readable in dark mode.
    const css = getComputedStyle(document.documentElement);
    const fg = getComputedStyle(document.body).color, grid = css.getPropertyValue("--line").trim() || "#ddd";
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const cfg = {
      width, height: 260, series, bands, axes: [{ ...axis }, { ...axis }],
      scales: {
        x: { time: opts.x === "wall", distr: opts.logX && opts.x === "step" ? 3 : 1 },
        y: { distr: opts.logY ? 3 : 1 },
      },
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          const min = u.posToVal(u.select.left, "x"), max = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, width: 0 }, false);
          // Against another metric there is no step window to ask for: zoom the drawn buckets.
          if (opts.x.startsWith("metric:")) u.setScale("x", { min, max });
          else load([min, max]);
        }],
        draw: [() => { el.dataset.drawn = String(Number(el.dataset.drawn || 0) + 1); }],
      },
    };
    // Zooming refetches (setSelect above) instead of stretching the coarse buckets.
    cfg.cursor.bind = { dblclick: () => () => { if (zoom) load(null); return null; } };
    if (plot) plot.destroy();
    plot = new uPlot(cfg, joined, plotBox);
    // The legend names each run once: the EMA (when off) and band edges are not listed.
    plot.root.querySelectorAll(".u-legend .u-series").forEach((row, i) => {
      const k = (i - 1) % 4;
      if (i > 0 && (k >= 2 || (k === 1 && !(opts.smoothing > 0)))) row.hidden = true;
    });
    el._uplot = plot;
    el.dataset.points = String(total);
  }

  async function load(win) {
    zoom = win;
    reset.hidden = !win;
    const ticket = ++loading;
    const results = await fetchAll(win);
    if (ticket !== loading) return; // a newer request superseded this one
    last = results;
    draw(results);
  }

  // Live refresh: fetch only what was logged after each run's last drawn x, append it, redraw. Once the
  // appended tails make the series much longer than the chart is wide, rebucket the whole range.
  async function extend() {
    const width = Math.max(200, Math.min(2000, Math.round(plotBox.clientWidth || 600)));
    if (!last || opts.x.startsWith("metric:") || last.some((r) => r.error || r.x_last.length > 3 * width)) return load(null);
    const ticket = ++loading;
    const tails = await Promise.all(runs.map((run, i) => {
      const p = { run_id: run.run_id, metric_key: metricKey, buckets: width, x: opts.x === "relative" || opts.x === "wall" ? "time" : "step" };
      if (last[i].x_range) p.min_x = last[i].x_range[1] + 1;
      return bucketed(p).catch(() => null);
    }));
    if (ticket !== loading) return;
    if (tails.some((t) => t === null)) return load(null);
    last = last.map((res, i) => {
      const tail = tails[i];
      if (!tail.total) return res;
      const merged = { ...res, total: res.total + tail.total,
        x_range: res.x_range ? [res.x_range[0], tail.x_range[1]] : tail.x_range };
      for (const c of COLUMNS) merged[c] = res[c].concat(tail[c]);
      return merged;
    });
    if (tails.some((t) => t.total)) draw(last);
  }

  let resizeObs = null;
  return {
    el,
    mount() {
      load(zoom);
      resizeObs = new ResizeObserver(() => { if (plot && plotBox.clientWidth && Math.abs(plotBox.clientWidth - plot.width) > 20) plot.setSize({ width: plotBox.clientWidth, height: 260 }); });
      resizeObs.observe(plotBox);
    },
    // Live refresh: only new points, and never while the user is zoomed in (their view is kept).
    refresh() { if (!zoom && plot) extend(); },
    redraw() { if (plot) load(zoom); },
    get zoomed() { return !!zoom; },
    get data() { return data; },
    destroy() { if (plot) plot.destroy(); if (resizeObs) resizeObs.disconnect(); },
  };
}

/** A grid of charts mounted lazily: a chart is built only when it scrolls near the viewport. */
export function chartGrid(metricKeys, runs, opts) {
  const grid = h("div", { class: "chart-grid" });
  const charts = [];
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      io.unobserve(e.target);
      e.target._chart.mount();
    }
  }, { rootMargin: "300px" });
  for (const key of metricKeys) {
    const c = metricChart(key, runs, opts);
    c.el._chart = c;
    charts.push(c);
    grid.append(c.el);
    io.observe(c.el);
  }
  return {
    el: grid, charts,
    refresh() { charts.forEach((c) => c.refresh()); },
    redraw() { charts.forEach((c) => c.redraw()); },
    destroy() { io.disconnect(); charts.forEach((c) => c.destroy()); },
  };
}

/** The view settings bar: x axis, log scales, smoothing; calls onChange() after each edit. */
export function chartControls(opts, onChange, metricKeys = []) {
  const sel = h("select", { "aria-label": "x axis", onchange: (e) => { opts.x = e.target.value; onChange(); } },
    h("option", { value: "step" }, "Step"), h("option", { value: "relative" }, "Relative time"),
    h("option", { value: "wall" }, "Wall time"), metricKeys.map((k) => h("option", { value: `metric:${k}` }, `Metric: ${k}`)));
  sel.value = opts.x;
  const check = (label, key) => h("label", {}, h("input", {
    type: "checkbox", checked: opts[key], onchange: (e) => { opts[key] = e.target.checked; onChange(); },
  }), label);
  const smooth = h("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: opts.smoothing, "aria-label": "smoothing" });
  const out = h("output", {}, String(opts.smoothing));
  smooth.addEventListener("change", () => { opts.smoothing = Number(smooth.value); out.textContent = smooth.value; onChange(); });
  return h("div", { class: "chart-controls" }, h("label", {}, "X axis ", sel), check(" log y", "logY"),
    check(" log x", "logX"), h("label", {}, "Smoothing (EMA) ", smooth, out));
}

export function defaultChartOpts() {
  return { x: "step", logY: false, logX: false, smoothing: 0, groupBy: null };
}

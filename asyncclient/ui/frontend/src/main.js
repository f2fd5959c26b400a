// The router: MLflow's hash routes, so links printed by MLflow clients open the same pages here.
//   #/                                          experiments
//   #/experiments/<id>                          runs of one experiment
//   #/compare-experiments/s?experiments=[...]   runs of several
//   #/experiments/<id>/runs/<run_id>[/...]      a run
//   #/compare-runs?runs=[...]&experiments=[...] runs side by side
//   #/metric/<key>?runs=[...]                   one metric of several runs
//   #/models[/<name>[/versions/<v>]]            the Model Registry
//   #/experiments/<id>/models[/<model_id>]      an experiment's logged models
import { comparePage } from "./compare.js";
import { clear, errorBox, h, setStatus } from "./dom.js";
import { experimentsPage } from "./experiments.js";
import { loggedModelPage, loggedModelsPage, modelVersionPage, registeredModelPage, registeredModelsPage } from "./models.js";
import { runPage } from "./run.js";
import { runsPage } from "./runs.js";

let cleanup = null;

function jsonList(q, name) {
  try { const v = JSON.parse(q.get(name) || "[]"); return Array.isArray(v) ? v.map(String) : []; } catch { return []; }
}

function crumbs(parts) {
  const nav = clear(document.getElementById("crumbs"));
  for (const [label, href] of parts) nav.append(" / ", href ? h("a", { href }, label) : h("span", {}, label));
}

async function route() {
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  const root = document.getElementById("app");
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?");
  const q = new URLSearchParams(qs || "");
  const seg = path.split("/").filter(Boolean).map(decodeURIComponent);
  setStatus("Loading…");
  try {
    if (seg.length === 0) {
      crumbs([["Experiments"]]);
      cleanup = await experimentsPage(root);
    } else if (seg[0] === "experiments" && seg.length >= 4 && seg[2] === "runs") {
      crumbs([["Experiments", "#/"], [`Experiment ${seg[1]}`, `#/experiments/${encodeURIComponent(seg[1])}`], ["Run"]]);
      cleanup = await runPage(root, seg[3]);
    } else if (seg[0] === "experiments" && seg.length >= 3 && seg[2] === "models") {
      const expCrumb = [`Experiment ${seg[1]}`, `#/experiments/${encodeURIComponent(seg[1])}`];
      if (seg[3]) {
        crumbs([["Experiments", "#/"], expCrumb, ["Logged models", `#/experiments/${encodeURIComponent(seg[1])}/models`], ["Model"]]);
        cleanup = await loggedModelPage(root, seg[1], seg[3]);
      } else {
        crumbs([["Experiments", "#/"], expCrumb, ["Logged models"]]);
        cleanup = await loggedModelsPage(root, seg[1]);
      }
    } else if (seg[0] === "models" && seg.length >= 4 && seg[2] === "versions") {
      crumbs([["Models", "#/models"], [seg[1], `#/models/${encodeURIComponent(seg[1])}`], [`Version ${seg[3]}`]]);
      cleanup = await modelVersionPage(root, seg[1], seg[3]);
    } else if (seg[0] === "models" && seg[1]) {
      crumbs([["Models", "#/models"], [seg[1]]]);
      cleanup = await registeredModelPage(root, seg[1]);
    } else if (seg[0] === "models") {
      crumbs([["Models"]]);
      cleanup = await registeredModelsPage(root, q);
    } else if (seg[0] === "experiments" && seg.length >= 2) {
      crumbs([["Experiments", "#/"], [`Experiment ${seg[1]}`]]);
      cleanup = await runsPage(root, [seg[1]], q);
    } else if (seg[0] === "compare-experiments") {
      crumbs([["Experiments", "#/"], ["Several experiments"]]);
      cleanup = await runsPage(root, jsonList(q, "experiments"), q);
    } else if (seg[0] === "compare-runs") {
      crumbs([["Experiments", "#/"], ["Compare runs"]]);
      cleanup = await comparePage(root, jsonList(q, "runs"));
    } else if (seg[0] === "metric" && seg[1]) {
      crumbs([["Experiments", "#/"], [`Metric ${seg[1]}`]]);
      cleanup = await comparePage(root, jsonList(q, "runs"), seg[1]);
    } else {
      clear(root).append(h("h1", {}, "Not found"), h("p", {}, "No page at ", h("code", {}, location.hash), ". ", h("a", { href: "#/" }, "Experiments")));
      setStatus("");
    }
  } catch (err) {
    clear(root).append(errorBox(err));
    setStatus("Error", true);
  }
  root.focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
route();

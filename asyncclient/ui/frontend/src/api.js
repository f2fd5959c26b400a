// The tracking server's REST API, by relative URL: the page works at / and under --static-prefix.
const MLFLOW = "ajax-api/2.0/mlflow/";
const OURS = "ajax-api/2.0/asyncclient/";

export class ApiError extends Error {
  constructor(message, code, status) { super(message); this.code = code; this.status = status; }
}

async function call(url, init) {
  const r = await fetch(url, init);
  const text = await r.text();
  let body = {};
  try { body = text ? JSON.parse(text) : {}; } catch { body = { message: text }; }
  if (!r.ok) throw new ApiError(body.message || `HTTP ${r.status}`, body.error_code, r.status);
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x));
  }
  return q.toString();
}

export const get = (path, params = {}) => call(`${MLFLOW}${path}?${query(params)}`);
const send = (method) => (path, body = {}) => call(`${MLFLOW}${path}`, {
  method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
});
export const post = send("POST");
export const patch = send("PATCH");
// MLflow's DELETE routes read their arguments from the query string.
export const del = (path, params = {}) => call(`${MLFLOW}${path}?${query(params)}`, { method: "DELETE" });

export const searchExperiments = (viewType = "ALL") =>
  post("experiments/search", { max_results: 1000, view_type: viewType }).then((b) => b.experiments || []);
export const getExperiment = (id) => get("experiments/get", { experiment_id: id }).then((b) => b.experiment);
export const getRun = (id) => get("runs/get", { run_id: id }).then((b) => b.run);
export const searchRuns = (body) => post("runs/search", body);
export const setTag = (run_id, key, value) => post("runs/set-tag", { run_id, key, value });
export const listArtifacts = (run_id, path) =>
  get("artifacts/list", { run_id, path: path || undefined }).then((b) => b.files || []);
export const artifactUrl = (run_id, path) => `get-artifact?${query({ run_id, path })}`;
// Where a file browser lists and fetches: a run's artifacts, or a logged model's.
export const runArtifacts = (run_id) => ({
  list: (path) => listArtifacts(run_id, path),
  url: (path) => artifactUrl(run_id, path),
});
export const loggedModelArtifacts = (model_id) => ({
  list: (path) => get(`logged-models/${encodeURIComponent(model_id)}/artifacts/directories`,
    { artifact_directory_path: path || undefined }).then((b) => b.files || []),
  url: (path) => `${MLFLOW}logged-models/${encodeURIComponent(model_id)}/artifacts/files?${query({ artifact_file_path: path })}`,
});
export async function searchLoggedModels(body) {
  const models = [];
  let token;
  do {
    const b = await post("logged-models/search", { ...body, max_results: 100, page_token: token });
    models.push(...(b.models || []));
    token = b.next_page_token;
  } while (token && models.length < 5000);
  return models;
}
export const getLoggedModel = (model_id) => get(`logged-models/${encodeURIComponent(model_id)}`).then((b) => b.model);
export const fullHistory = (run_id, metric_key) =>
  get("metrics/get-history", { run_id, metric_key }).then((b) => b.metrics || []);

// The bucketed history (store/bucketing.py): min/max per bucket so spikes survive.
export const bucketed = (params) => call(`${OURS}metrics/get-history-bucketed?${query(params)}`);

// Maps MLflow's list-shaped data ({key, value} arrays) to objects.
export function runData(run) {
  const d = run.data || {};
  const toObj = (xs, f) => Object.fromEntries((xs || []).map((x) => [x.key, f(x)]));
  return {
    metrics: toObj(d.metrics, (m) => m.value),
    metricSteps: toObj(d.metrics, (m) => m),
    params: toObj(d.params, (p) => p.value),
    tags: toObj(d.tags, (t) => t.value),
  };
}

export function runName(run) {
  return run.info.run_name || (run.data?.tags || []).find((t) => t.key === "mlflow.runName")?.value || run.info.run_id;
}

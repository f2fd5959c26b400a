"""``POST /graphql``: the queries and mutations MLflow's UI sends, answered as ``mlflow server`` answers them
(a differential test: same documents, same ``{"data", "errors"}``, ids and artifact roots normalized).

Deliberate differences, each tested below: MLflow's server reads ``maxResults`` / ``startStep`` / ``endStep``
of ``mlflowGetMetricHistoryBulkInterval`` from the URL instead of the input (so ignores them), fails on
``runViewType`` given as a variable, answers ``testMutation`` with null and a syntax error with an HTML 500;
asyncclient honours the inputs, echoes, and answers a syntax error in GraphQL's error shape.
"""

from __future__ import annotations

import json
import re

import requests

_ID = re.compile(r"\b[0-9a-f]{32}\b")
_ROOT = re.compile(r'"(?:mlflow-artifacts:|/)[^"]*?/(?:<id>)/artifacts"')

RUN_FIELDS = ("info { runId runUuid runName experimentId userId status startTime endTime lifecycleStage } "
              "data { metrics { key value step timestamp } params { key value } tags { key value } } "
              "inputs { datasetInputs { dataset { name digest sourceType source schema profile } "
              "tags { key value } } modelInputs { modelId } } outputs { modelOutputs { modelId step } } "
              "experiment { name lifecycleStage tags { key value } } modelVersions { name version status }")


def _normalize(value):
    if isinstance(value, list):
        items = [_normalize(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))  # list order is not the contract
    if isinstance(value, dict):
        # Experiment ids differ between the two servers (each holds other tests' experiments too).
        return {k: "<exp>" if k == "experimentId" else _normalize(v) for k, v in value.items()}
    return value


def _seed(s: requests.Session, base: str, name: str) -> tuple[str, str]:
    api = base + "/api/2.0/mlflow/"
    exp = s.post(api + "experiments/create", json={"name": name}).json()["experiment_id"]
    rid = s.post(api + "runs/create", json={"experiment_id": exp, "run_name": "r1", "start_time": 5}).json()
    rid = rid["run"]["info"]["run_id"]
    s.post(api + "runs/log-batch", json={"run_id": rid, "params": [{"key": "p", "value": "1"}], "metrics": [
        {"key": "m", "value": "NaN", "timestamp": 1, "step": 0}] + [
        {"key": "l", "value": 0.5 + i, "timestamp": 2, "step": i} for i in range(3)]})
    s.post(api + "runs/log-inputs", json={"run_id": rid, "datasets": [
        {"dataset": {"name": "d", "digest": "x", "source_type": "local", "source": "{}"},
         "tags": [{"key": "mlflow.data.context", "value": "train"}]}]})
    return exp, rid


def _graphql(s: requests.Session, base: str, query: str, variables=None):
    r = s.post(base + "/graphql", json={"query": query, "variables": variables})
    return r.status_code, r.json()


def _results(base: str, name: str) -> list:
    s = requests.Session()
    exp, rid = _seed(s, base, name)
    documents = [
        ("query MlflowGetRun($data: MlflowGetRunInput) { mlflowGetRun(input: $data) { apiError { code message } "
         f"run {{ {RUN_FIELDS} }} }} }}", {"data": {"runId": rid}}),
        ("query Q($data: MlflowGetRunInput) { mlflowGetRun(input: $data) { run { info { runId } } } }",
         {"data": {"runId": "f" * 32}}),
        (f'query {{ mlflowGetExperiment(input: {{experimentId: "{exp}"}}) {{ experiment {{ name lifecycleStage '
         "tags { key } } } }", None),
        ('query { mlflowGetExperiment(input: {experimentId: "99999"}) { experiment { name } } }', None),
        ("query Q($d: MlflowGetMetricHistoryBulkIntervalInput) { mlflowGetMetricHistoryBulkInterval(input: $d) "
         "{ metrics { key value step timestamp runId } apiError { code } } }",
         {"d": {"runIds": [rid], "metricKey": "l"}}),
        ("query Q($d: MlflowSearchRunsInput) { mlflowSearchRuns(input: $d) { runs { info { runName status } "
         "data { metrics { key value } } } nextPageToken } }",
         {"d": {"experimentIds": [exp], "filter": "params.p = '1'", "maxResults": 1}}),
        ("mutation Q($d: MlflowSearchRunsInput) { mlflowSearchRuns(input: $d) { runs { info { runName } } } }",
         {"d": {"experimentIds": [exp]}}),
        ("mutation Q($d: MlflowSearchDatasetsInput) { mlflowSearchDatasets(input: $d) { datasetSummaries "
         "{ name digest context experimentId } } }", {"d": {"experimentIds": [exp]}}),
        (f'query {{ mlflowListArtifacts(input: {{runId: "{rid}"}}) {{ rootUri files {{ path isDir fileSize }} }} }}',
         None),
        ("query { mlflowSearchModelVersions(input: {filter: \"name = 'nope'\"}) { modelVersions { name } "
         "nextPageToken } }", None),
        ('query { test(inputString: "x") { output } }', None),
        ("query { nope }", None),
        ("query { " + " ".join(f'a{i}: test(inputString: "x") {{ output }}' for i in range(11)) + " }", None),
        (f'query {{ mlflowSearchRuns(input: {{experimentIds: ["{exp}"], filter: "metrics.m > 1 OR metrics.m < 0"}})'
         " { runs { info { runId } } } }", None),
    ]
    out = []
    for query, variables in documents:
        status, body = _graphql(s, base, query, variables)
        text = _ROOT.sub('"<root>"', _ID.sub("<id>", json.dumps(body)))
        out.append((status, _normalize(json.loads(text))))
    return out


def test_graphql_answers_as_mlflow_server(server, mlflow_server):
    ours = _results(server.url, "graphql")
    theirs = _results(mlflow_server.url, "graphql")
    assert len(ours) == len(theirs)
    for index, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        assert o == t, index


def test_graphql_nan_metric_is_null_and_int64_are_strings(server):
    s = requests.Session()
    _, rid = _seed(s, server.url, "graphql-nan")
    query = ("query Q($d: MlflowGetRunInput) { mlflowGetRun(input: $d) { run { info { startTime } "
             "data { metrics { key value timestamp } } } } }")
    _, body = _graphql(s, server.url, query, {"d": {"runId": rid}})
    run = body["data"]["mlflowGetRun"]["run"]
    assert run["info"]["startTime"] == "5"
    assert {m["key"]: m["value"] for m in run["data"]["metrics"]} == {"m": None, "l": 2.5}


def test_graphql_bulk_interval_honours_max_results_and_steps(server):
    s = requests.Session()
    _, rid = _seed(s, server.url, "graphql-bulk")
    _, body = _graphql(s, server.url, "query Q($d: MlflowGetMetricHistoryBulkIntervalInput) { "
                       "mlflowGetMetricHistoryBulkInterval(input: $d) { metrics { step } } }",
                       {"d": {"runIds": [rid], "metricKey": "l", "maxResults": 2}})
    assert [m["step"] for m in body["data"]["mlflowGetMetricHistoryBulkInterval"]["metrics"]] == ["0", "2"]


def test_graphql_run_view_type_variable_and_test_mutation_work(server):
    s = requests.Session()
    exp, _ = _seed(s, server.url, "graphql-view")
    _, body = _graphql(s, server.url, "mutation Q($d: MlflowSearchRunsInput) { mlflowSearchRuns(input: $d) "
                       "{ runs { info { runName } } } }", {"d": {"experimentIds": [exp], "runViewType": "ALL"}})
    assert body == {"data": {"mlflowSearchRuns": {"runs": [{"info": {"runName": "r1"}}]}}, "errors": None}
    _, body = _graphql(s, server.url, 'mutation { testMutation(inputString: "y") { output } }')
    assert body["data"] == {"testMutation": {"output": "y"}}


def test_graphql_syntax_error_is_a_graphql_error_not_a_500(server):
    status, body = _graphql(requests.Session(), server.url, "query {")
    assert status == 200 and body["data"] is None and body["errors"][0].startswith("Syntax Error")


def test_graphql_needs_a_json_body(server):
    r = requests.post(server.url + "/graphql", data=b"query { test }", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"

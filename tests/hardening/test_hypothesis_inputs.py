"""Property tests on hostile input: log-batch payloads (JSON and msgpack) and search filter strings.

Whatever the body, the server answers 200 or a 4xx in MLflow's format (never a 5xx), and a refused
log-batch leaves nothing of itself behind: the run's params, tags and metric histories are unchanged.
"""

from __future__ import annotations

import math

import msgpack
import orjson
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
KEYS = st.sampled_from(["loss", "acc", "a/b", "x" * 251, "", " ", "bad\x00key", "../k", "ключ"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400"]))


@pytest.fixture(scope="module")
def run_id(asyncclient_server):
    url = asyncclient_server.url + "/api/2.0/mlflow/"
    exp = requests.post(url + "experiments/create", json={"name": f"hypothesis-{math.pi}-{id(run_id)}"}).json()
    return requests.post(url + "runs/create", json={"experiment_id": exp["experiment_id"]}).json()["run"]["info"]["run_id"]


def _snapshot(url: str, run_id: str, keys: set[str]) -> tuple:
    data = requests.get(url + "/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=30).json()["run"]["data"]
    histories = {}
    for key in sorted(keys):
        r = requests.get(url + "/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": key},
                         timeout=30)
        histories[key] = r.json().get("metrics", []) if r.status_code == 200 else r.status_code
    return (sorted(map(str, data.get("params", []))), sorted(map(str, data.get("tags", []))), histories)


def _metric(run_keys):
    return st.fixed_dictionaries({"key": run_keys, "value": SCALARS, "timestamp": SCALARS}, optional={"step": SCALARS})


def _pairs():
    return st.lists(st.fixed_dictionaries({"key": KEYS, "value": st.one_of(st.text(max_size=10), SCALARS)}),
                    max_size=3)


def _check_refusal(response: requests.Response) -> None:
    assert response.status_code < 500, response.text[:300]
    if response.status_code != 200:
        body = response.json()
        assert body["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "BAD_REQUEST"), body
        assert "Traceback" not in body["message"] and "/work/" not in body["message"]


def test_json_log_batch_payloads(asyncclient_server, run_id):
    url = asyncclient_server.url

    @SETTINGS
    @given(metrics=st.lists(_metric(KEYS), max_size=4), params=_pairs(), tags=_pairs(),
           use_run=st.sampled_from(["good", "missing", "number"]))
    def check(metrics, params, tags, use_run):
        target = {"good": run_id, "missing": "0" * 32, "number": 12}[use_run]
        body = orjson.dumps({"run_id": target, "metrics": metrics, "params": params, "tags": tags},
                            option=orjson.OPT_SERIALIZE_NUMPY) if not _has_big_int(metrics) else _dumps(
            {"run_id": target, "metrics": metrics, "params": params, "tags": tags})
        keys = {m["key"] for m in metrics if isinstance(m["key"], str) and m["key"].strip()}
        before = _snapshot(url, run_id, keys)
        r = requests.post(url + "/api/2.0/mlflow/runs/log-batch", data=body,
                          headers={"Content-Type": "application/json"}, timeout=60)
        _check_refusal(r)
        if r.status_code != 200:
            assert _snapshot(url, run_id, keys) == before

    check()


def test_msgpack_log_batch_payloads(asyncclient_server, run_id):
    url = asyncclient_server.url
    raw = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
                    st.floats(allow_nan=True), st.text(max_size=6), st.binary(max_size=6))

    @SETTINGS
    @given(metrics=st.lists(st.one_of(st.tuples(KEYS, raw, raw, raw), st.lists(raw, max_size=5), raw), max_size=4),
           params=st.lists(st.lists(st.one_of(KEYS, raw), max_size=3), max_size=3), garbage=st.binary(max_size=20))
    def check(metrics, params, garbage):
        body = msgpack.packb({"run_id": run_id, "metrics": metrics, "params": params}) + garbage
        keys = {m[0] for m in metrics if isinstance(m, tuple) and isinstance(m[0], str) and m[0].strip()}
        before = _snapshot(url, run_id, keys)
        r = requests.post(url + "/api/2.0/mlflow/runs/log-batch", data=body,
                          headers={"Content-Type": "application/x-asyncclient-msgpack"}, timeout=60)
        _check_refusal(r)
        if r.status_code != 200:
            assert _snapshot(url, run_id, keys) == before

    check()


FILTER_TOKENS = st.sampled_from([
    "metrics.loss", "params.lr", "tags.`a b`", "attributes.status", "attribute.run_name", "run_name", "name",
    "=", "!=", "<", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "AND", "and", "OR", "'x'", "\"y\"", "('a','b')",
    "0.5", "-1e309", "NaN", "%", "`", "'", "(", ")", "datasets.name", "metrics.", "params.lr = 'unterminated",
])


def test_filter_strings(asyncclient_server):
    url = asyncclient_server.url + "/api/2.0/mlflow/"

    @SETTINGS
    @given(tokens=st.lists(FILTER_TOKENS, max_size=7), noise=st.text(max_size=12), use_noise=st.booleans())
    def check(tokens, noise, use_noise):
        text = " ".join(tokens) + (noise if use_noise else "")
        for r in (requests.post(url + "runs/search", json={"experiment_ids": ["0"], "filter": text}, timeout=60),
                  requests.post(url + "experiments/search", json={"filter": text}, timeout=60),
                  requests.get(url + "registered-models/search", params={"filter": text}, timeout=60),
                  requests.get(url + "model-versions/search", params={"filter": text}, timeout=60)):
            assert r.status_code in (200, 400), (text, r.status_code, r.text[:300])
            if r.status_code == 400:
                assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"

    check()


def _has_big_int(metrics) -> bool:
    return any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63
               for m in metrics for v in m.values())


def _dumps(obj) -> bytes:
    import json

    return json.dumps(obj, allow_nan=True).encode()

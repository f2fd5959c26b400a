"""Request parsing by MLflow's wire rules (mlflow-rest-compat.md §0), without a server."""

from __future__ import annotations

import math

import msgpack
import orjson
import pytest

from asyncclient.artifacts import validate_path_is_safe
from asyncclient.exceptions import MlflowException
from asyncclient.server.batch import decode_json_batch, decode_msgpack_batch
from asyncclient.server.protocol import (
    DOUBLE,
    INT64,
    KEY_VALUE,
    RUN_STATUS,
    STRING,
    VIEW_TYPE,
    Field,
    Message,
    decode_json_body,
    required,
)

MSG = Message(
    Field("run_id", STRING), Field("start_time", INT64), Field("value", DOUBLE), Field("status", RUN_STATUS),
    Field("run_view_type", VIEW_TYPE), Field("tags", KEY_VALUE, True), Field("order_by", STRING, True),
)


def test_snake_and_camel_spellings_parse_the_same():
    snake = MSG.parse({"run_id": "r", "start_time": 5, "run_view_type": "ALL"})
    camel = MSG.parse({"runId": "r", "startTime": 5, "runViewType": "ALL"})
    assert snake == camel == {"run_id": "r", "start_time": 5, "run_view_type": 3}


def test_both_spellings_of_one_field_are_rejected():
    with pytest.raises(MlflowException, match="both 'run_id' and 'runId'") as e:
        MSG.parse({"run_id": "a", "runId": "b"})
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("raw", [5, "5", 5.0])
def test_int64_accepts_numbers_and_strings(raw):
    assert MSG.parse({"start_time": raw})["start_time"] == 5


@pytest.mark.parametrize("raw", ["abc", 5.5, True, [1]])
def test_int64_rejects_non_integers(raw):
    with pytest.raises(MlflowException, match="Invalid value .* for parameter 'start_time'"):
        MSG.parse({"start_time": raw})


@pytest.mark.parametrize(("raw", "expected"), [("Infinity", math.inf), ("-Infinity", -math.inf), ("1.5", 1.5), (2, 2.0)])
def test_double_accepts_special_strings(raw, expected):
    assert MSG.parse({"value": raw})["value"] == expected


def test_double_nan_string_is_nan():
    assert math.isnan(MSG.parse({"value": "NaN"})["value"])


def test_enums_accept_names_and_numbers():
    assert MSG.parse({"status": "FINISHED"})["status"] == 3
    assert MSG.parse({"status": 3})["status"] == 3
    with pytest.raises(MlflowException):
        MSG.parse({"status": "DONE"})


def test_unknown_fields_are_ignored_and_absent_fields_omitted():
    assert MSG.parse({"whatever": 1}) == {}


def test_null_means_unset():
    assert MSG.parse({"run_id": None}) == {}


def test_repeated_nested_messages():
    parsed = MSG.parse({"tags": [{"key": "a", "value": "1"}], "orderBy": ["x DESC"]})
    assert parsed == {"tags": [{"key": "a", "value": "1"}], "order_by": ["x DESC"]}


def test_required_message_is_mlflows():
    with pytest.raises(MlflowException) as e:
        required({"name": ""}, "name")
    assert e.value.message == (
        "Missing value for required parameter 'name'. See the API docs for more information about request parameters."
    )


def test_double_encoded_json_body_is_decoded():
    assert decode_json_body(orjson.dumps(orjson.dumps({"a": 1}).decode())) == {"a": 1}
    assert decode_json_body(b"") == {}


@pytest.mark.parametrize("path", ["../x", "a/../../b", "/abs", "a#b", "%2e%2e/x", "%252e%252e/x", "C:\\x"])
def test_unsafe_artifact_paths_are_rejected(path):
    with pytest.raises(MlflowException, match="Invalid path"):
        validate_path_is_safe(path)


@pytest.mark.parametrize("path", ["a/b.txt", "0/abc/artifacts/model/MLmodel", "name with space", "a:b"])
def test_safe_artifact_paths_pass(path):
    assert validate_path_is_safe(path) == path


# ---- log-batch decoders ----

def test_json_batch_decodes_metrics_params_tags():
    body = orjson.dumps({"runId": "r1", "metrics": [{"key": "m", "value": "NaN", "timestamp": "7", "step": "2"}],
                         "params": [{"key": "p", "value": "1"}], "tags": [{"key": "t"}]})
    run_id, metrics, params, tags = decode_json_batch(body)
    assert run_id == "r1"
    assert (metrics[0].key, metrics[0].timestamp, metrics[0].step) == ("m", 7, 2) and math.isnan(metrics[0].value)
    assert (params[0].key, params[0].value) == ("p", "1")
    assert (tags[0].key, tags[0].value) == ("t", "")


@pytest.mark.parametrize("field", ["key", "value", "timestamp"])
def test_json_batch_metric_fields_are_required(field):
    metric = {"key": "m", "value": 1.0, "timestamp": 1}
    del metric[field]
    with pytest.raises(MlflowException, match=rf"required parameter 'metrics\[0\].{field}'"):
        decode_json_batch(orjson.dumps({"run_id": "r", "metrics": [metric]}))


def test_json_batch_over_mlflow_limit_is_a_400():
    metrics = [{"key": "m", "value": 1.0, "timestamp": 1, "step": i} for i in range(1001)]
    with pytest.raises(MlflowException, match="at most 1000 metrics") as e:
        decode_json_batch(orjson.dumps({"run_id": "r", "metrics": metrics}))
    assert e.value.get_http_status_code() == 400


def test_msgpack_batch_decodes_tuples():
    body = msgpack.packb({"run_id": "r", "metrics": [["m", 1, 5, 0], ["m", 2.5, 6, 1]],
                          "params": [["p", "v"]], "tags": [["t", "x"]]})
    run_id, metrics, params, tags = decode_msgpack_batch(body)
    assert [tuple(m) for m in metrics] == [("m", 1.0, 5, 0), ("m", 2.5, 6, 1)]
    assert type(metrics[0][1]) is float
    assert ([tuple(p) for p in params], [tuple(t) for t in tags]) == ([("p", "v")], [("t", "x")])


def test_msgpack_batch_accepts_10000_metrics_and_rejects_more():
    ok = msgpack.packb({"run_id": "r", "metrics": [["m", 1.0, 1, i] for i in range(10000)]})
    assert len(decode_msgpack_batch(ok)[1]) == 10000
    too_many = msgpack.packb({"run_id": "r", "metrics": [["m", 1.0, 1, i] for i in range(10001)]})
    with pytest.raises(MlflowException, match="at most 10000 metrics"):
        decode_msgpack_batch(too_many)


def test_msgpack_batch_param_limit_is_1000():
    with pytest.raises(MlflowException, match="at most 1000 params"):
        decode_msgpack_batch(msgpack.packb({"run_id": "r", "params": [[f"p{i}", "v"] for i in range(1001)]}))


@pytest.mark.parametrize("metric", [["m", "x", 1, 0], ["m", 1.0, -1, 0], [1, 1.0, 1, 0], ["m", 1.0, 1], ["m", True, 1, 0],
                                    ["m", 1.0, 2**63, 0], ["m", 1.0, 1, 2**64 - 1]])
def test_msgpack_batch_rejects_malformed_metrics(metric):
    with pytest.raises(MlflowException) as e:
        decode_msgpack_batch(msgpack.packb({"run_id": "r", "metrics": [metric]}))
    assert e.value.get_http_status_code() == 400


def test_msgpack_garbage_is_a_400():
    with pytest.raises(MlflowException, match="Malformed msgpack") as e:
        decode_msgpack_batch(b"\xc1\xc1\xc1")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"

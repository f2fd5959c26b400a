"""Input checks shared by the client (at the call site), the store and the server.

Rules and messages follow MLflow's ``mlflow/utils/validation.py`` (mlflow-rest-compat.md §4), so a bad key
fails the same way here as on an MLflow server, but at the line of user code that logged it.
"""

from __future__ import annotations

import numbers
import posixpath
import re

from asyncclient.exceptions import MlflowException

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_RESULTS_SEARCH_RUNS = 50000
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_SCHEMA_SIZE = 1048575
MAX_DATASET_PROFILE_SIZE = 16777215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500

_VALID_KEY = re.compile(r"^[/\w.\- :]*$")
_VALID_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")

# Keys that passed validation; the hot path checks this set before running the regex again.
_known_good_keys: set[str] = set()


def bad_path_message(name: str) -> str | None:
    if name != posixpath.normpath(name) or name == "." or name.startswith("..") or name.startswith("/"):
        return ("Names may be treated as files in certain cases, and must not resolve to other names when "
                f"treated as such. This name would resolve to {posixpath.normpath(name)!r}")
    return None


def validate_key(key, kind: str = "metric") -> str:
    """Raise ``INVALID_PARAMETER_VALUE`` unless ``key`` is a valid metric/param/tag key."""
    if key in _known_good_keys:
        return key
    if not isinstance(key, str):
        raise MlflowException.invalid_parameter_value(f"Invalid {kind} name: {key!r}. Names must be strings.")
    if not _VALID_KEY.match(key):
        raise MlflowException.invalid_parameter_value(
            f"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), dashes (-), "
            "periods (.), spaces ( ), colon(:) and slashes (/)."
        )
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise MlflowException.invalid_parameter_value(
            f"'{key[:40]}...' exceeds the maximum length of {MAX_ENTITY_KEY_LENGTH} characters for a {kind} key"
        )
    problem = bad_path_message(key) if key else "Names must not be empty."
    if problem:
        raise MlflowException.invalid_parameter_value(f"Invalid {kind} name: '{key}'. {problem}")
    if len(_known_good_keys) < 100_000:
        _known_good_keys.add(key)
    return key


def metric_value(value, key: str = "") -> float:
    """The metric value as a float; bools and numbers (numpy's too) pass, anything else raises."""
    if type(value) is float:
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return float(value)
    # numpy 0-d arrays and torch scalars expose .item(); MLflow accepts what float() accepts from them.
    if hasattr(value, "item") and hasattr(value, "dtype"):
        try:
            return float(value.item())
        except (TypeError, ValueError):
            pass
    raise MlflowException.invalid_parameter_value(
        f"Got invalid value {value!r} for metric '{key}' (timestamp=..., step=...). "
        "Please specify value as a valid double (64-bit floating point)"
    )


def metric_step(step, key: str = "") -> int:
    if step is None:
        return 0
    if type(step) is int:
        return step
    if isinstance(step, numbers.Integral) and not isinstance(step, bool):
        return int(step)
    raise MlflowException.invalid_parameter_value(f"Got invalid step {step!r} for metric '{key}'. Step must be an integer.")


def metric_timestamp(timestamp, key: str = "") -> int:
    if isinstance(timestamp, numbers.Integral) and not isinstance(timestamp, bool) and timestamp >= 0:
        return int(timestamp)
    raise MlflowException.invalid_parameter_value(
        f"Got invalid timestamp {timestamp!r} for metric '{key}'. Timestamp must be a non-negative integer (ms)."
    )


def param_value(key: str, value) -> str:
    value = str(value)
    if len(value) > MAX_PARAM_VAL_LENGTH:
        raise MlflowException.invalid_parameter_value(
            f"Param value '{value[:40]}...' had length {len(value)}, which exceeded length limit of {MAX_PARAM_VAL_LENGTH}"
        )
    return value


def tag_value(key: str, value) -> str:
    value = str(value)
    if len(value) > MAX_TAG_VAL_LENGTH:
        raise MlflowException.invalid_parameter_value(
            f"Tag value '{value[:40]}...' had length {len(value)}, which exceeded length limit of {MAX_TAG_VAL_LENGTH}"
        )
    return value


def validate_run_id(run_id) -> str:
    if not isinstance(run_id, str) or not _VALID_RUN_ID.match(run_id):
        raise MlflowException.invalid_parameter_value(f"Invalid run ID: '{run_id}'")
    return run_id


def validate_experiment_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise MlflowException.invalid_parameter_value(f"Invalid experiment name: '{name}'")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise MlflowException.invalid_parameter_value(
            f"Experiment name exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters"
        )
    return name


def validate_batch_limits(metrics, params, tags) -> None:
    """MLflow's log-batch limits; the worker never builds a batch past them."""
    for items, limit, what in (
        (metrics, MAX_METRICS_PER_BATCH, "metrics"),
        (params, MAX_PARAMS_TAGS_PER_BATCH, "params"),
        (tags, MAX_PARAMS_TAGS_PER_BATCH, "tags"),
    ):
        if len(items) > limit:
            raise MlflowException.invalid_parameter_value(
                f"A batch logging request can contain at most {limit} {what}. Got {len(items)} {what}. "
                "Please split up the request into multiple requests."
            )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES_PER_BATCH:
        raise MlflowException.invalid_parameter_value(
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} total metrics, params, and "
            f"tags. Got {total} total. Please split up the request into multiple requests."
        )


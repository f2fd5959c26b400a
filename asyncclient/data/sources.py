"""Where a dataset came from (``mlflow.data.dataset_source.DatasetSource`` and its common subclasses)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from asyncclient.exceptions import MlflowException

# URI scheme -> MLflow's source_type for the sources MLflow resolves from a plain string.
_SCHEME_TYPES = {"http": "http", "https": "http", "s3": "s3", "s3a": "s3", "s3n": "s3", "gs": "gs",
                 "file": "local", "": "local"}


class DatasetSource:
    """A source as MLflow stores it: ``source_type`` plus a JSON document (``to_json``)."""

    def __init__(self, source_type: str, fields: dict[str, Any]):
        self._source_type = source_type
        self._fields = fields

    def _get_source_type(self) -> str:
        return self._source_type

    def to_dict(self) -> dict[str, Any]:
        return dict(self._fields)

    def to_json(self) -> str:
        return json.dumps(self._fields)

    @property
    def uri(self) -> str | None:
        return self._fields.get("uri") or self._fields.get("url")

    def __repr__(self) -> str:
        return f"DatasetSource({self._source_type!r}, {self._fields!r})"


def resolve_source(source: Any) -> DatasetSource:
    """A source from what the user passed (``resolve_dataset_source``), or the calling code when None.

    Strings resolve as MLflow's registry does: ``http(s)://`` -> ``http`` with ``{"url"}``, ``s3://`` and
    ``gs://`` -> their scheme with ``{"uri"}``, paths and ``file://`` -> ``local`` with ``{"uri"}``.
    """
    if source is None:
        return code_source()
    if isinstance(source, DatasetSource):
        return source
    if hasattr(source, "_get_source_type") and hasattr(source, "to_json"):  # an MLflow DatasetSource
        return DatasetSource(source._get_source_type(), json.loads(source.to_json()))
    uri = str(source)
    scheme = urlparse(uri).scheme
    source_type = "local" if len(scheme) == 1 else _SCHEME_TYPES.get(scheme)  # one letter: a drive letter
    if source_type is None:
        raise MlflowException.invalid_parameter_value(
            f"Could not find a source information resolver for the specified dataset source: {uri}."
        )
    return DatasetSource(source_type, {"url": uri} if source_type == "http" else {"uri": uri})


def code_source() -> DatasetSource:
    """The code that built the dataset (MLflow's ``CodeDatasetSource`` with the run context tags)."""
    from asyncclient.fluent import _system_tags

    return DatasetSource("code", {"tags": _system_tags()})

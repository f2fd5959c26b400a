"""The dataset base class (``mlflow.data.dataset.Dataset``): name, digest, source, schema and profile, and
the ``mlflow.entities.Dataset`` that ``log_input`` sends."""

from __future__ import annotations

import json
from typing import Any

from asyncclient.data.sources import DatasetSource
from asyncclient.entities import Dataset as DatasetEntity


class Dataset:
    """Subclasses compute the digest, schema and profile from their data."""

    def __init__(self, source: DatasetSource, name: str | None = None, digest: str | None = None):
        self._source = source
        self._name = name
        # Subclasses set their data first: the digest is computed from it here.
        self._digest = digest or self._compute_digest()

    def _compute_digest(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The given name, else ``"dataset"`` (as MLflow)."""
        return self._name if self._name is not None else "dataset"

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def schema(self) -> dict[str, Any] | None:
        """The schema document (``{"mlflow_colspec": [...]}`` for tables), or None."""
        return None

    @property
    def profile(self) -> dict[str, Any] | None:
        return None

    def to_dict(self) -> dict[str, str]:
        """MLflow's ``Dataset.to_dict``: every value a string, schema and profile as JSON."""
        out = {"name": self.name, "digest": self.digest, "source": self._source.to_json(),
               "source_type": self._source._get_source_type()}
        schema, profile = self.schema, self.profile
        if schema is not None:
            out["schema"] = json.dumps(schema)
        if profile is not None:
            out["profile"] = json.dumps(profile)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _to_mlflow_entity(self) -> DatasetEntity:
        """The ``asyncclient.entities.Dataset`` that ``log_input`` logs (MLflow's ``_to_mlflow_entity``)."""
        d = self.to_dict()
        return DatasetEntity(d["name"], d["digest"], d["source_type"], d["source"], d.get("schema"), d.get("profile"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, digest={self.digest!r}, source={self._source!r})"

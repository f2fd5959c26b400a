"""``from_pandas`` (``mlflow.data.from_pandas``): a DataFrame as a loggable dataset."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from asyncclient.data.dataset import Dataset
from asyncclient.data.digest import pandas_digest
from asyncclient.data.schema import pandas_colspec
from asyncclient.data.sources import DatasetSource, resolve_source
from asyncclient.exceptions import MlflowException


class PandasDataset(Dataset):
    """A pandas DataFrame with its source (``mlflow.data.pandas_dataset.PandasDataset``)."""

    def __init__(self, df, source: DatasetSource, targets: str | None = None, name: str | None = None,
                 digest: str | None = None):
        if targets is not None and targets not in df.columns:
            raise MlflowException.invalid_parameter_value(
                f"The specified pandas DataFrame does not contain the specified targets column '{targets}'.")
        self._df = df
        self._targets = targets
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return pandas_digest(self._df)

    @property
    def df(self):
        return self._df

    @property
    def targets(self) -> str | None:
        return self._targets

    @cached_property
    def schema(self) -> dict[str, Any] | None:
        return pandas_colspec(self._df)

    @property
    def profile(self) -> dict[str, Any]:
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}


def from_pandas(df, source: str | DatasetSource | None = None, targets: str | None = None,
                name: str | None = None, digest: str | None = None) -> PandasDataset:
    """``mlflow.data.from_pandas``: ``source`` is a path or URI (None: the calling code); the digest is
    computed as MLflow computes it unless given."""
    return PandasDataset(df, resolve_source(source), targets=targets, name=name, digest=digest)

"""``from_numpy`` (``mlflow.data.from_numpy``): arrays as a loggable dataset."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from asyncclient.data.dataset import Dataset
from asyncclient.data.digest import numpy_digest
from asyncclient.data.schema import numpy_tensorspec
from asyncclient.data.sources import DatasetSource, resolve_source


class NumpyDataset(Dataset):
    """Feature (and optional target) arrays with their source (``mlflow.data.numpy_dataset.NumpyDataset``)."""

    def __init__(self, features, source: DatasetSource, targets=None, name: str | None = None,
                 digest: str | None = None):
        self._features = features
        self._targets = targets
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return numpy_digest(self._features, self._targets)

    @property
    def features(self):
        return self._features

    @property
    def targets(self):
        return self._targets

    @cached_property
    def schema(self) -> dict[str, Any]:
        return numpy_tensorspec(self._features, self._targets)

    @property
    def profile(self) -> dict[str, Any]:
        """``num_rows``/``num_elements`` like a table's, plus MLflow's per-array shape, size and bytes."""
        arrays = {"features": self._features, "targets": self._targets}
        profile: dict[str, Any] = {
            "num_rows": int(self._features.shape[0]) if self._features.ndim else 1,
            "num_elements": sum(int(a.size) for a in arrays.values() if a is not None),
        }
        for label, array in arrays.items():
            if array is not None:
                profile.update({f"{label}_shape": list(array.shape), f"{label}_size": int(array.size),
                                f"{label}_nbytes": int(array.nbytes)})
        return profile


def from_numpy(features, source: str | DatasetSource | None = None, targets=None, name: str | None = None,
               digest: str | None = None) -> NumpyDataset:
    """``mlflow.data.from_numpy``: ``features`` and ``targets`` are numpy arrays; ``source`` a path or URI
    (None: the calling code)."""
    import numpy as np

    features = np.asarray(features)
    targets = None if targets is None else np.asarray(targets)
    return NumpyDataset(features, resolve_source(source), targets=targets, name=name, digest=digest)

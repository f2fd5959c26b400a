"""Datasets to log with ``log_input`` (``mlflow.data``): ``from_pandas``, ``from_numpy``.

pandas and numpy are optional: they are imported only when a builder is called.
"""

from __future__ import annotations

from asyncclient.data.dataset import Dataset
from asyncclient.data.numpy_dataset import NumpyDataset, from_numpy
from asyncclient.data.pandas_dataset import PandasDataset, from_pandas
from asyncclient.data.sources import DatasetSource

__all__ = ["Dataset", "DatasetSource", "NumpyDataset", "PandasDataset", "from_numpy", "from_pandas"]

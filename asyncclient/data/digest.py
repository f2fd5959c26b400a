"""Dataset digests computed exactly as ``mlflow.data.digest_utils`` does, so a DataFrame logged through
asyncclient and through MLflow gets the same digest (and the server stores one dataset, not two)."""

from __future__ import annotations

import hashlib
from typing import Any

from asyncclient.exceptions import MlflowException

MAX_ROWS = 10000  # as MLflow: only the first rows are hashed, so huge frames digest quickly


def md5_digest(elements: list[Any]) -> str:
    """The first 8 hex characters of the md5 of ``elements`` (MLflow's ``get_normalized_md5_digest``)."""
    if not elements:
        raise MlflowException.invalid_parameter_value("No hashable elements were provided for md5 digest creation")
    md5 = hashlib.md5(usedforsecurity=False)
    for element in elements:
        md5.update(element)
    return md5.hexdigest()[:8]


def pandas_digest(df) -> str:
    """MLflow's ``compute_pandas_digest``: string and numeric columns of the first rows, the row count and
    the column names."""
    import numpy as np
    import pandas as pd

    trimmed = df.head(MAX_ROWS)
    mapper = df.map if hasattr(df, "map") else df.applymap  # DataFrame.map is pandas >= 2.1
    string_columns = trimmed.columns[(mapper(type) == str).all(axis=0)]  # noqa: E721 (elementwise, not a type check)
    numeric_columns = trimmed.select_dtypes(include=[np.number]).columns
    trimmed = trimmed[string_columns.union(numeric_columns)]
    return md5_digest([pd.util.hash_pandas_object(trimmed).values, np.int64(len(df))]
                      + [str(c).encode() for c in df.columns])


def numpy_digest(features, targets=None) -> str:
    """MLflow's ``compute_numpy_digest``: the first flattened elements and the shape of each array."""
    import numpy as np
    import pandas as pd

    elements: list[Any] = []

    def add(array) -> None:
        flat = array.flatten()[:MAX_ROWS]
        try:
            elements.append(pd.util.hash_array(flat))
        except TypeError:  # object arrays that pandas cannot hash: their size stands in
            elements.append(np.int64(flat.size))
        elements.extend(np.int64(x) for x in array.shape)

    for item in (features, targets):
        if item is None:
            continue
        if isinstance(item, dict):
            for key in sorted(item):
                add(item[key])
        else:
            add(item)
    return md5_digest(elements)

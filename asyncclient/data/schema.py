"""Schema inference for logged datasets, in the shapes MLflow stores (``mlflow.types.utils._infer_schema``):
``{"mlflow_colspec": [{"type", "name", "required"}]}`` for tables, ``{"mlflow_tensorspec": ...}`` for arrays."""

from __future__ import annotations

import json
from typing import Any


def _numpy_type(dtype) -> str | None:
    """MLflow's DataType name for a numpy (or pandas extension) dtype (``_infer_numpy_dtype``); None when
    MLflow has none (uint64, complex, timedelta)."""
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return "boolean"
    if kind in "iu":
        # Unsigned ints widen by one step (uint32 needs a long); uint64 fits no signed type.
        if size < 4 or (kind == "i" and size == 4):
            return "integer"
        if size < 8 or (kind == "i" and size == 8):
            return "long"
        return None
    if kind == "f":
        return "float" if size <= 4 else "double" if size <= 8 else None
    return {"U": "string", "S": "binary", "M": "datetime"}.get(kind)


def _object_type(series) -> str | None:
    """Object columns: a type when every non-missing value has the same simple Python type."""
    kinds = {type(v) for v in series.dropna()}
    if kinds == {str}:
        return "string"
    if kinds == {bytes}:
        return "binary"
    if kinds == {bool}:
        return "boolean"
    return None


def pandas_colspec(df) -> dict[str, Any] | None:
    """One column spec per column; None (no schema) when a column's type cannot be named, as MLflow does on
    inference failure."""
    import pandas as pd

    cols = []
    for name in df.columns:
        series = df[name]
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            return None
        if dtype.kind == "O":
            series = series.infer_objects()
            dtype = series.dtype
        type_name = _object_type(series) if dtype.kind == "O" else _numpy_type(getattr(dtype, "numpy_dtype", dtype))
        if type_name is None:
            return None
        cols.append({"type": type_name, "name": str(name), "required": not bool(series.isna().any())})
    return {"mlflow_colspec": cols}


def _tensor_spec(array) -> str:
    # MLflow stores each tensor spec list as a JSON string inside the document.
    return json.dumps([{"type": "tensor", "tensor-spec": {"dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]}}])


def numpy_tensorspec(features, targets=None) -> dict[str, Any]:
    return {"mlflow_tensorspec": {"features": _tensor_spec(features),
                                  "targets": _tensor_spec(targets) if targets is not None else None}}

"""Figures, images and tables as artifact files (MLflow's ``log_figure``, ``log_image``, ``log_table``).

Each writes one local file that is then uploaded like any other artifact. The libraries are optional
(``pip install 'asyncclient[media]'``); a missing one is named in the error, with the extra to install.
"""

from __future__ import annotations

import importlib
import posixpath
import sys
import warnings
from typing import Any

from asyncclient.exceptions import MlflowException

MEDIA_EXTRA = "pip install 'asyncclient[media]'"
# The run tag MLflow's UI reads to show logged tables (``mlflow.loggedArtifacts``).
LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"


def require(module: str, package: str, what: str):
    """``import module``, or an error naming the package and the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MlflowException(
            f"{what} needs the '{package}' package, which is not installed: {MEDIA_EXTRA} (or pip install {package})",
            error_code="INVALID_PARAMETER_VALUE") from e


def save_figure(figure: Any, local_file: str, artifact_file: str, save_kwargs: dict | None) -> None:
    """A matplotlib figure (``savefig``) or a plotly one (HTML, or an image via kaleido) to ``local_file``."""
    save_kwargs = dict(save_kwargs or {})
    # Only look at libraries the caller has imported: a figure can only come from one of those.
    if "matplotlib" in sys.modules:
        figure_module = require("matplotlib.figure", "matplotlib", "log_figure")
        if isinstance(figure, figure_module.Figure):
            figure.savefig(local_file, **save_kwargs)
            return
    if "plotly" in sys.modules:
        import plotly.graph_objects as go

        if isinstance(figure, go.Figure):
            extension = posixpath.splitext(artifact_file)[1].lower()
            if extension == ".html":
                save_kwargs.setdefault("include_plotlyjs", "cdn")
                save_kwargs.setdefault("auto_open", False)
                figure.write_html(local_file, **save_kwargs)
            elif extension in (".png", ".jpeg", ".webp", ".svg", ".pdf"):
                figure.write_image(local_file, **save_kwargs)
            else:
                raise TypeError(f"Unsupported file extension for a plotly figure: '{extension}'")
            return
    if type(figure).__module__.startswith("matplotlib") or "matplotlib" not in sys.modules:
        require("matplotlib", "matplotlib", "log_figure")
    raise TypeError(f"Unsupported figure object type: '{type(figure)}' (a matplotlib or plotly figure)")


def to_pil_image(image: Any):
    """A ``PIL.Image.Image`` as is, or a numpy array as an 8-bit image.

    Arrays are ``(H, W)`` grayscale or ``(H, W, C)`` with 1, 3 or 4 channels. Integers must lie in [0, 255];
    floats are taken in [0, 1] (outside it, min-max rescaled with a warning); booleans map to 0 and 255.
    """
    pil = require("PIL.Image", "pillow", "log_image")
    if isinstance(image, pil.Image):
        return image
    np = require("numpy", "numpy", "log_image")
    if not isinstance(image, np.ndarray):
        raise TypeError(f"Unsupported image object type: '{type(image)}' (a numpy.ndarray or PIL.Image.Image)")
    kinds = {"b": "bool", "i": "signed integer", "u": "unsigned integer", "f": "floating"}
    if image.dtype.kind not in kinds:
        raise TypeError(f"Invalid array data type: '{image.dtype}'. Must be one of {list(kinds.values())}")
    if image.ndim not in (2, 3):
        raise ValueError(f"`image` must be a 2D or 3D array but got a {image.ndim}D array")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise ValueError(f"Invalid channel length: {image.shape[2]}. Must be one of [1, 3, 4]")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype.kind in "iu":
        if image.size and (image.min() < 0 or image.max() > 255):
            raise ValueError("Integer pixel values out of acceptable range [0, 255]. "
                             f"Found minimum value {image.min()} and maximum value {image.max()}.")
        pixels = image.astype(np.uint8)
    else:
        values = image.astype(np.float64)
        if image.dtype.kind == "f" and image.size and (values.min() < 0 or values.max() > 1):
            warnings.warn(f"Float pixel values out of acceptable range [0.0, 1.0]. Found minimum value "
                          f"{values.min()} and maximum value {values.max()}. Rescaling values to [0.0, 1.0] "
                          "with min/max scaler.", stacklevel=3)
            span = values.max() - values.min()
            values = (values - values.min()) / (span if span else 1.0)
        pixels = (values * 255).astype(np.uint8)
    return pil.fromarray(pixels)


def table_frame(data: Any):
    """``log_table``'s input (a DataFrame or a dict of columns, or of scalars for one row) as a DataFrame."""
    pd = require("pandas", "pandas", "log_table")
    if isinstance(data, pd.DataFrame):
        return data
    if not isinstance(data, dict):
        raise MlflowException.invalid_parameter_value("data must be a pandas.DataFrame or a dictionary")
    try:
        return pd.DataFrame(data)
    except ValueError:  # all scalars: one row
        return pd.DataFrame([data])


def check_table_file(artifact_file: str) -> None:
    if not artifact_file.endswith((".json", ".parquet")):
        raise ValueError(f"Invalid artifact file path '{artifact_file}'. Please ensure the file you are trying to "
                         "log as a table has a file name with either '.json' or '.parquet' extension.")


def read_table(local_file: str):
    pd = require("pandas", "pandas", "load_table")
    if local_file.endswith(".parquet"):
        return pd.read_parquet(local_file)
    return pd.read_json(local_file, orient="split")


def write_table(frame, local_file: str) -> None:
    try:
        if local_file.endswith(".parquet"):
            frame.to_parquet(local_file, index=False)
        else:
            frame.to_json(local_file, orient="split", index=False, date_format="iso")
    except Exception as e:
        raise MlflowException.invalid_parameter_value(
            f"Failed to save the table as '{posixpath.basename(local_file)}': the data is not serializable: {e}"
        ) from e

"""The fluent API for what a run uses and produces besides data points: dataset inputs (``mlflow.log_input``)
and artifact files (``mlflow.log_artifact``, ``log_text``, ...).

Dataset inputs go through the ring like every other write, ordered after the run's earlier entries.
Artifacts are files: they are uploaded synchronously in the calling thread, as MLflow does.
"""

from __future__ import annotations

import posixpath
import warnings
from typing import Any

from asyncclient import fluent
from asyncclient.data.convert import to_dataset_input


def _run_id(run_id: str | None) -> str:
    # MLflow's _get_or_start_run: the active run, else a new one.
    return run_id or fluent._current_run_id()


# ---- datasets ----

def log_input(dataset=None, context: str | None = None, tags: dict[str, str] | None = None, model=None) -> None:
    """``mlflow.log_input``: record that the active run used ``dataset`` (``asyncclient.data`` or
    ``mlflow.data``), with ``context`` (e.g. ``"training"``) as the ``mlflow.data.context`` input tag.

    Logging the same dataset (name and digest) to a run twice stores one input. ``model`` (a logged-model
    input) is not supported and is ignored with a warning.
    """
    log_inputs([dataset] if dataset is not None else None, [context], [tags], [model] if model else None)


def log_inputs(datasets: list | None = None, contexts: list[str | None] | None = None,
               tags_list: list[dict[str, str] | None] | None = None, models: list | None = None) -> None:
    """``mlflow.log_inputs``: several datasets at once; ``contexts`` and ``tags_list`` align with them."""
    if models:
        warnings.warn("asyncclient does not record logged-model inputs; `model(s)` was ignored", stacklevel=3)
    if not datasets:
        return
    contexts = list(contexts or []) + [None] * len(datasets)
    tags_list = list(tags_list or []) + [None] * len(datasets)
    inputs = [to_dataset_input(d, c, t) for d, c, t in zip(datasets, contexts, tags_list, strict=False)]
    fluent._client().log_inputs(_run_id(None), inputs)


# ---- artifacts ----

def log_artifact(local_path: str, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """``mlflow.log_artifact``: upload a local file into the run's ``artifact_path`` directory."""
    fluent._client().log_artifact(_run_id(run_id), local_path, artifact_path)


def log_artifacts(local_dir: str, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """``mlflow.log_artifacts``: upload every file under ``local_dir``, keeping the tree."""
    fluent._client().log_artifacts(_run_id(run_id), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """``mlflow.log_text``: store ``text`` as the artifact ``artifact_file`` (e.g. ``"dir/notes.txt"``)."""
    fluent._client().log_text(_run_id(run_id), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """``mlflow.log_dict``: JSON, or YAML when ``artifact_file`` ends in ``.yaml``/``.yml``."""
    fluent._client().log_dict(_run_id(run_id), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str, *, save_kwargs: dict | None = None, run_id: str | None = None) -> None:
    """``mlflow.log_figure``: a matplotlib (or plotly) figure as ``artifact_file`` (e.g. ``"plots/loss.png"``)."""
    fluent._client().log_figure(_run_id(run_id), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(image: Any, artifact_file: str | None = None, key: str | None = None, step: int | None = None,
              timestamp: int | None = None, synchronous: bool | None = None, run_id: str | None = None) -> None:
    """``mlflow.log_image``: a numpy array or PIL image as ``artifact_file`` (e.g. ``"images/x.png"``)."""
    fluent._client().log_image(_run_id(run_id), image, artifact_file, key=key, step=step, timestamp=timestamp)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """``mlflow.log_table``: a DataFrame or dict as a ``.json`` or ``.parquet`` table (appending to an
    existing one)."""
    fluent._client().log_table(_run_id(run_id), data, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """``mlflow.get_artifact_uri``: the active run's artifact URI (starting a run if none is active), or the
    URI of ``artifact_path`` under it."""
    run = fluent.active_run()
    root = run.info.artifact_uri if run is not None and run.info.artifact_uri else None
    if root is None:
        return fluent._client().get_artifact_uri(_run_id(None), artifact_path)
    return posixpath.join(root.rstrip("/"), artifact_path.lstrip("/")) if artifact_path else root

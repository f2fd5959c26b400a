"""``MlflowClient``'s artifact methods (MLflow's names): files go straight to the run's artifact store, in
the calling thread; nothing waits for the ring, since artifacts are independent of buffered data points."""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
import threading
from typing import Any

from asyncclient.artifacts import client_repos, media
from asyncclient.artifacts.base import ArtifactRepository
from asyncclient.artifacts.paths import validate_path_is_safe
from asyncclient.entities import FileInfo
from asyncclient.exceptions import MlflowException

# run id -> artifact URI. A run's artifact URI never changes, so it is looked up once per process and
# destination (MLflow caches the repository per run the same way).
_uri_cache: dict[tuple[str, str], str] = {}
_uri_lock = threading.Lock()


def remember_artifact_uri(tracking_uri: str, run_id: str, artifact_uri: str | None) -> None:
    """Record a run's artifact URI already known (from create_run), sparing a get_run later."""
    if artifact_uri:
        with _uri_lock:
            _uri_cache[(tracking_uri, run_id)] = artifact_uri


def dump_dict(dictionary: Any, artifact_file: str) -> str:
    """The text ``log_dict`` stores: YAML for ``.yaml``/``.yml``, JSON (indented) otherwise, as MLflow."""
    if posixpath.splitext(artifact_file)[1].lower() in (".yaml", ".yml"):
        import yaml  # optional, as in MLflow: needed only for YAML files

        return yaml.safe_dump(dictionary, default_flow_style=False, sort_keys=False)
    return json.dumps(dictionary, indent=2)


class ArtifactMethods:
    """Mixed into ``MlflowClient``, which provides ``tracking_uri`` and ``_call``."""

    def _artifact_repo(self, run_id: str) -> ArtifactRepository:
        tracking_uri = self.tracking_uri
        key = (tracking_uri, run_id)
        uri = _uri_cache.get(key)
        if uri is None:
            # No read barrier: an artifact needs the run to exist, not its pending data points.
            uri = self._call("get_run", run_id).info.artifact_uri
            remember_artifact_uri(tracking_uri, run_id, uri)
        return client_repos.client_repository(uri, tracking_uri)

    def get_artifact_uri(self, run_id: str, artifact_path: str | None = None) -> str:
        """The run's artifact URI, or that of ``artifact_path`` under it (``mlflow.get_artifact_uri``)."""
        root = self._artifact_repo(run_id).artifact_uri
        return posixpath.join(root.rstrip("/"), artifact_path.lstrip("/")) if artifact_path else root

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        """``MlflowClient.log_artifact``: upload a file (or a directory's tree) into ``artifact_path``."""
        client_repos.log_artifact(self._artifact_repo(run_id), local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        """``MlflowClient.log_artifacts``: upload every file under ``local_dir``, keeping the tree."""
        client_repos.log_artifacts(self._artifact_repo(run_id), local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """``MlflowClient.log_text``: store ``text`` (UTF-8) as ``artifact_file`` (e.g. ``"notes/a.txt"``)."""
        directory, name = posixpath.split(artifact_file)
        with tempfile.TemporaryDirectory(prefix="asyncclient-text-") as tmp:
            local = os.path.join(tmp, name)
            with open(local, "w", encoding="utf-8") as f:
                f.write(text)
            client_repos.log_artifact(self._artifact_repo(run_id), local, directory or None)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """``MlflowClient.log_dict``: JSON, or YAML when ``artifact_file`` ends in ``.yaml``/``.yml``."""
        self.log_text(run_id, dump_dict(dictionary, artifact_file), artifact_file)

    def _log_file(self, run_id: str, artifact_file: str, write) -> None:
        """``write(local_path)`` makes the file, which is uploaded as ``artifact_file``."""
        directory, name = posixpath.split(validate_path_is_safe(artifact_file))
        if not name:
            raise MlflowException.invalid_parameter_value(f"Invalid artifact file: '{artifact_file}'")
        with tempfile.TemporaryDirectory(prefix="asyncclient-artifact-") as tmp:
            local = os.path.join(tmp, name)
            write(local)
            client_repos.log_artifact(self._artifact_repo(run_id), local, directory or None)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str, *, save_kwargs: dict | None = None) -> None:
        """``MlflowClient.log_figure``: a matplotlib (or plotly) figure saved as ``artifact_file``
        (``"plots/loss.png"``, ``.svg``, ``.pdf``, ... as the library writes them)."""
        self._log_file(run_id, artifact_file, lambda local: media.save_figure(figure, local, artifact_file,
                                                                                 save_kwargs))

    def log_image(self, run_id: str, image: Any, artifact_file: str | None = None, key: str | None = None,
                  step: int | None = None, timestamp: int | None = None, synchronous: bool | None = None) -> None:
        """``MlflowClient.log_image``: a numpy array or PIL image saved as ``artifact_file`` (format from its
        extension). MLflow's step-indexed form (``key=``, ``step=``) is not supported yet."""
        if key is not None or step is not None or timestamp is not None:
            raise MlflowException.invalid_parameter_value(
                "log_image(key=..., step=...) is not supported by asyncclient yet; pass artifact_file=")
        if not artifact_file:
            raise MlflowException.invalid_parameter_value("log_image needs artifact_file (e.g. 'images/x.png')")
        pil_image = media.to_pil_image(image)
        self._log_file(run_id, artifact_file, pil_image.save)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """``MlflowClient.log_table``: a DataFrame or dict as a ``.json`` (pandas' ``split`` layout, MLflow's)
        or ``.parquet`` table; logging to an existing table appends rows, and the run's
        ``mlflow.loggedArtifacts`` tag lists it so MLflow's UI shows it."""
        media.check_table_file(artifact_file)
        frame = media.table_frame(data)
        directory = posixpath.dirname(artifact_file) or None
        if any(f.path == artifact_file for f in self.list_artifacts(run_id, directory)):
            pd = media.require("pandas", "pandas", "log_table")
            frame = pd.concat([self._read_table(run_id, artifact_file), frame], ignore_index=True)
        self._log_file(run_id, artifact_file, lambda local: media.write_table(frame, local))
        run = self.get_run(run_id)
        listed = json.loads(run.data.tags.get(media.LOGGED_ARTIFACTS_TAG, "[]"))
        entry = {"path": artifact_file, "type": "table"}
        if entry not in listed:
            self.set_tag(run_id, media.LOGGED_ARTIFACTS_TAG, json.dumps(listed + [entry]))

    def _read_table(self, run_id: str, artifact_file: str):
        """One logged table of a run as a DataFrame."""
        with tempfile.TemporaryDirectory(prefix="asyncclient-table-") as tmp:
            return media.read_table(self.download_artifacts(run_id, artifact_file, tmp))

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """``MlflowClient.list_artifacts``: one level under ``path``, paths relative to the run's root."""
        return client_repos.list_artifacts(self._artifact_repo(run_id), path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """``MlflowClient.download_artifacts``: the local path of the downloaded file or directory."""
        return client_repos.download_artifacts(self._artifact_repo(run_id), path, dst_path)

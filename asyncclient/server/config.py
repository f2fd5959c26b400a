"""Server settings: the options of ``mlflow server`` that matter to a tracking server."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ARTIFACTS_DESTINATION = "./mlartifacts"
PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:/"

# Body caps. JSON requests stay well under MLflow's documented 1 MB; msgpack batches carry up to 10000
# metrics. Artifact uploads are streamed and not bounded by this cap.
MAX_REQUEST_BODY_BYTES = 16 * 1024 * 1024

# The msgpack fast path's limits, advertised by the capabilities endpoint.
MSGPACK_MAX_METRICS_PER_BATCH = 10000
MSGPACK_MAX_PARAMS_TAGS_PER_BATCH = 1000


@dataclass
class ServerConfig:
    """What ``create_app`` needs; field names follow ``mlflow server`` options.

    ``backend_store_uri=None`` means the local ./mlruns store (``store_from_uri(None)``).
    ``default_artifact_root=None`` means ``mlflow-artifacts:/`` when serving artifacts, else the store's own
    default, as ``mlflow server`` does.
    """

    backend_store_uri: str | None = None
    default_artifact_root: str | None = None
    artifacts_destination: str = DEFAULT_ARTIFACTS_DESTINATION
    serve_artifacts: bool = True
    artifacts_only: bool = False
    static_prefix: str = ""
    store_threads: int = 8
    max_request_body_bytes: int = MAX_REQUEST_BODY_BYTES
    # "basic-auth": users, permissions and tokens (asyncclient/server/auth), as ``mlflow server --app-name``.
    app_name: str | None = None
    # Security middleware (asyncclient/server/security.py), ``mlflow server``'s flags and defaults.
    allowed_hosts: list[str] | None = None
    cors_allowed_origins: list[str] | None = None
    x_frame_options: str = "SAMEORIGIN"
    disable_security_middleware: bool = False
    # --expose-prometheus: the multiprocess metrics folder; None serves no /metrics.
    expose_prometheus: str | None = None

    def resolved_artifact_root(self) -> str | None:
        if self.default_artifact_root:
            return self.default_artifact_root
        return PROXIED_ARTIFACT_ROOT if self.serve_artifacts else None

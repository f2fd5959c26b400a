"""``asyncclient server`` and ``asyncclient ui``: the equivalents of ``mlflow server`` and ``mlflow ui``."""

from __future__ import annotations

import click

from asyncclient.server.config import DEFAULT_ARTIFACTS_DESTINATION, ServerConfig
from asyncclient.server.runner import serve
from asyncclient.server.security import split_list


def _common_options(fn):
    for option in reversed([
        click.option("--backend-store-uri", envvar="MLFLOW_BACKEND_STORE_URI", default=None, metavar="URI",
                     help="sqlite:///<file>, postgresql://user:pw@host:port/db or a folder. "
                          "Default: the local ./mlruns store."),
        click.option("--default-artifact-root", envvar="MLFLOW_DEFAULT_ARTIFACT_ROOT", default=None, metavar="URI",
                     help="Artifact root of new experiments. Default: mlflow-artifacts:/ when serving artifacts, "
                          "else next to the local store."),
        click.option("--artifacts-destination", envvar="MLFLOW_ARTIFACTS_DESTINATION",
                     default=DEFAULT_ARTIFACTS_DESTINATION, show_default=True, metavar="URI",
                     help="Where proxied artifacts (mlflow-artifacts:/) are stored: a folder, s3://bucket/prefix "
                          "or wasbs://container@account.blob.core.windows.net/path."),
        click.option("--serve-artifacts/--no-serve-artifacts", envvar="MLFLOW_SERVE_ARTIFACTS", default=True,
                     show_default=True, help="Serve the proxied artifact API (/api/2.0/mlflow-artifacts)."),
        click.option("--host", "-h", envvar="MLFLOW_HOST", default="127.0.0.1", show_default=True),
        click.option("--port", "-p", envvar="MLFLOW_PORT", default=5000, show_default=True, type=int),
        click.option("--static-prefix", envvar="MLFLOW_STATIC_PREFIX", default="",
                     help="A prefix for every route, e.g. /mlflow."),
    ]):
        fn = option(fn)
    return fn


@click.command("server")
@_common_options
@click.option("--artifacts-only", envvar="MLFLOW_ARTIFACTS_ONLY", is_flag=True, default=False,
              help="Serve only the artifact API; tracking routes answer 503.")
@click.option("--workers", "-w", envvar="MLFLOW_WORKERS", default=1, show_default=True, type=click.IntRange(1),
              help="Worker processes sharing the port (SO_REUSEPORT). One process already serves many "
                   "concurrent clients; add workers to use more cores.")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Log every request (costs throughput).")
@click.option("--allowed-hosts", envvar="MLFLOW_SERVER_ALLOWED_HOSTS", default=None,
              help="Comma-separated Host headers to accept (wildcards allowed; '*' for all). Default: localhost "
                   "on any port and private IP ranges, as mlflow server.")
@click.option("--cors-allowed-origins", envvar="MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", default=None,
              help="Comma-separated origins allowed to call the API cross-origin ('*' for all). Default: localhost "
                   "origins on any port.")
@click.option("--x-frame-options", envvar="MLFLOW_SERVER_X_FRAME_OPTIONS", default="SAMEORIGIN", show_default=True,
              help="X-Frame-Options header: SAMEORIGIN, DENY or NONE (no header).")
@click.option("--disable-security-middleware", envvar="MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE", is_flag=True,
              default=False, help="DANGEROUS: no Host, CORS or frame protection.")
@click.option("--expose-prometheus", envvar="MLFLOW_EXPOSE_PROMETHEUS", default=None, metavar="DIR",
              help="Serve Prometheus metrics at /metrics; DIR holds the workers' samples (created if missing).")
@click.option("--app-name", default=None, type=click.Choice(["basic-auth"]),
              help="basic-auth: users, per-experiment and per-model permissions and tokens, configured as "
                   "MLflow's auth app (MLFLOW_AUTH_CONFIG_PATH, MLFLOW_AUTH_ADMIN_PASSWORD).")
def server(backend_store_uri, default_artifact_root, artifacts_destination, serve_artifacts, host, port,
           static_prefix, artifacts_only, workers, access_log, allowed_hosts, cors_allowed_origins, x_frame_options,
           disable_security_middleware, expose_prometheus, app_name) -> None:
    """Run the tracking server: MLflow's REST API (``mlflow server`` equivalent)."""
    if artifacts_only and backend_store_uri:
        raise click.UsageError("--backend-store-uri has no effect with --artifacts-only; remove one of them.")
    if artifacts_only and not serve_artifacts:
        raise click.UsageError("--artifacts-only needs --serve-artifacts.")
    config = ServerConfig(
        backend_store_uri=backend_store_uri, default_artifact_root=default_artifact_root,
        artifacts_destination=artifacts_destination, serve_artifacts=serve_artifacts,
        artifacts_only=artifacts_only, static_prefix=static_prefix, app_name=app_name,
        allowed_hosts=split_list(allowed_hosts), cors_allowed_origins=split_list(cors_allowed_origins),
        x_frame_options=x_frame_options, disable_security_middleware=disable_security_middleware,
        expose_prometheus=expose_prometheus,
    )
    if expose_prometheus:
        from asyncclient.server.prometheus import prepare_directory

        prepare_directory(expose_prometheus)  # before any worker imports prometheus_client
    _setup_logging()
    from asyncclient.server.auth import AuthConfigurationError

    try:
        serve(config, host=host, port=port, workers=workers, access_log=access_log)
    except AuthConfigurationError as e:
        raise click.ClickException(str(e)) from None


@click.command("ui")
@_common_options
def ui(backend_store_uri, default_artifact_root, artifacts_destination, serve_artifacts, host, port,
       static_prefix) -> None:
    """The tracking server over ./mlruns on 127.0.0.1:5000 (``mlflow ui`` equivalent)."""
    config = ServerConfig(
        backend_store_uri=backend_store_uri, default_artifact_root=default_artifact_root,
        artifacts_destination=artifacts_destination, serve_artifacts=serve_artifacts, static_prefix=static_prefix,
    )
    _setup_logging()
    serve(config, host=host, port=port, workers=1)


def _setup_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

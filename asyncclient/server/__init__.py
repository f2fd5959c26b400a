"""The tracking server: MLflow's REST API over the asyncclient store (``mlflow server`` equivalent)."""

from asyncclient.server.app import create_app
from asyncclient.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]

"""``mlflow.tracking`` equivalent: ``MlflowClient``."""

from asyncclient.tracking.client import MlflowClient

__all__ = ["MlflowClient"]

"""asyncclient: MLflow-compatible experiment tracking with a non-blocking, loss-free logging client."""

__version__ = "0.1.0"

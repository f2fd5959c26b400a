"""The auth app's settings, read as MLflow 3.17 reads them.

MLflow equivalent: ``mlflow/server/auth/config.py``. The ini file named by ``MLFLOW_AUTH_CONFIG_PATH`` (else
the packaged ``basic_auth.ini``, same keys and defaults as MLflow's), ``[mlflow]`` section; the admin's
name and password come from ``MLFLOW_AUTH_ADMIN_USERNAME`` / ``MLFLOW_AUTH_ADMIN_PASSWORD`` when set
(even when set empty), else from the file.

Users and permissions live in the tracking server's own backend store (tables of migration 0004), so the
file's ``database_uri`` is read but not used: one database to back up, and no second store to migrate.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from asyncclient.server.auth.permissions import get_permission

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "basic_auth.ini"
# MLflow 3.17's rule for every password, the admin's included.
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class AuthConfig:
    default_permission: str
    database_uri: str
    admin_username: str | None
    admin_password: str | None
    authorization_function: str


def _env_or(name: str, fallback: str | None) -> str | None:
    # Set-but-empty wins over the file, so an empty injected secret is an error, not a stale file value.
    return (os.environ[name] if name in os.environ else fallback) or None


def read_auth_config() -> AuthConfig:
    path = os.environ.get("MLFLOW_AUTH_CONFIG_PATH") or str(DEFAULT_CONFIG_PATH)
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise FileNotFoundError(f"MLFLOW_AUTH_CONFIG_PATH={path}: no such readable file")
    section = parser["mlflow"]
    config = AuthConfig(
        default_permission=section["default_permission"],
        database_uri=section["database_uri"],
        admin_username=_env_or("MLFLOW_AUTH_ADMIN_USERNAME", section.get("admin_username")),
        admin_password=_env_or("MLFLOW_AUTH_ADMIN_PASSWORD", section.get("admin_password")),
        authorization_function=section.get("authorization_function",
                                           "mlflow.server.auth:authenticate_request_basic_auth"),
    )
    get_permission(config.default_permission)  # a typo in the file stops the start, not the first request
    return config

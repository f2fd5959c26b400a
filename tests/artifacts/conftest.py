"""Fixtures of tests/artifacts: see artifact_fixtures.py."""

from artifact_fixtures import (  # noqa: F401  (pytest finds fixtures by name in this module)
    azure_env,
    azure_store,
    big_file,
    destination,
    destination_server,
    point_clients,
    postgres_server_uri,
    s3_env,
    s3_store,
    server_factory,
)

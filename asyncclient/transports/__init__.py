"""Transports: REST JSON / msgpack to a server, or the embedded store. ``transport_for_uri`` picks one."""

from __future__ import annotations

from asyncclient.exceptions import MlflowException
from asyncclient.transports.base import BatchLimits, TransientError, Transport


def is_embedded_uri(uri: str | None) -> bool:
    return not (uri and uri.startswith(("http://", "https://")))


def transport_for_uri(uri: str | None, credentials: dict | None = None) -> Transport:
    """http(s):// → REST (msgpack if the server offers it); anything else → the embedded store."""
    if uri and uri.startswith(("http://", "https://")):
        from asyncclient.transports.rest import RestTransport

        return RestTransport(uri, credentials=credentials)
    if uri and uri.split(":", 1)[0] in ("databricks", "uc", "databricks-uc"):
        raise MlflowException.invalid_parameter_value(f"Tracking URI scheme of '{uri}' is not supported by asyncclient")
    from asyncclient.transports.embedded import EmbeddedTransport

    return EmbeddedTransport(uri)


__all__ = ["BatchLimits", "Transport", "TransientError", "is_embedded_uri", "transport_for_uri"]

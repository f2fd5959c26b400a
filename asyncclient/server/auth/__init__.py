"""The basic-auth app (``--app-name basic-auth``): users, permissions and tokens for the tracking server.

MLflow equivalent: ``mlflow/server/auth``. ``install(app)`` adds the middleware and the auth REST API to a
tracking app; on startup the first admin is created from the configuration when the user table is empty,
and the server refuses to start without an admin password, as MLflow does.
"""

from __future__ import annotations

from aiohttp import web

APP_NAME = "basic-auth"
_API_VERSIONS = ("/api/2.0", "/ajax-api/2.0", "/api/3.0", "/ajax-api/3.0")
_TOKEN_PREFIXES = ("/api/2.0/asyncclient", "/ajax-api/2.0/asyncclient")


class AuthConfigurationError(RuntimeError):
    """The auth app cannot start as configured (e.g. no admin password for an empty user table)."""


def bootstrap_admin(store, config) -> None:
    """Create the configured admin when no user exists yet; refuse to go on without a valid password."""
    from asyncclient.exceptions import MlflowException

    if store.has_users():
        return
    if not config.admin_username or not config.admin_password:
        raise AuthConfigurationError(
            "The basic-auth app needs an admin password on its first start: set MLFLOW_AUTH_ADMIN_PASSWORD "
            "(or `admin_password` in the file named by MLFLOW_AUTH_CONFIG_PATH). There is no default password.")
    try:
        store.create_user(config.admin_username, config.admin_password, is_admin=True)
    except MlflowException as e:
        if e.error_code == "RESOURCE_ALREADY_EXISTS":  # another worker created it first
            return
        raise AuthConfigurationError(
            f"The configured password for the admin user '{config.admin_username}' is invalid: {e.message} "
            "Set MLFLOW_AUTH_ADMIN_PASSWORD or `admin_password` to a valid password.") from None


def open_auth_store(tracking_store):
    from asyncclient.server.auth.store import AuthStore

    engine = getattr(tracking_store, "engine", None)
    if engine is None:
        raise AuthConfigurationError("The basic-auth app needs a SQL backend store (sqlite:// or postgresql://).")
    return AuthStore(engine)


def install(app: web.Application, mount) -> None:
    """Add the auth middleware, routes and startup to ``app`` (``mount`` is app.py's ``_mount``)."""
    from asyncclient.server.auth import api
    from asyncclient.server.auth.config import read_auth_config
    from asyncclient.server.auth.middleware import AUTHORIZER, Authorizer, auth_middleware
    from asyncclient.server.auth.resources import ResourceResolver
    from asyncclient.server.state import CONFIG, STORE

    config = read_auth_config()  # a bad file stops create_app, before any port is bound
    app.middlewares.append(auth_middleware)
    sp = app[CONFIG].static_prefix.rstrip("/")
    mount(app, api.routes, tuple(sp + p for p in _API_VERSIONS))
    mount(app, api.token_routes, tuple(sp + p for p in _TOKEN_PREFIXES))

    async def startup(app: web.Application):
        store = open_auth_store(app[STORE])
        bootstrap_admin(store, config)
        app[AUTHORIZER] = Authorizer(config, store, ResourceResolver(app[STORE].engine))
        yield

    app.cleanup_ctx.append(startup)

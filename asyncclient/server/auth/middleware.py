"""The aiohttp middleware that authenticates every request and authorizes it against ``rules``.

MLflow equivalent: the ``before_request`` / ``after_request`` hooks of ``mlflow/server/auth``. Answers as
MLflow's auth app answers: 401 with ``WWW-Authenticate: Basic realm="mlflow"`` when credentials are missing
or wrong, 403 ``Permission denied`` when the user lacks the permission. Search results are filtered to what
the user may read, and the creator of an experiment or registered model is granted MANAGE on it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import sqlalchemy as sa
from aiohttp import web

from asyncclient.server.auth import graphql_check
from asyncclient.server.auth.config import AuthConfig
from asyncclient.server.auth.passwords import VerifiedPasswords, token_digest
from asyncclient.server.auth.permissions import (
    ALL_PERMISSIONS,
    MANAGE,
    NO_PERMISSIONS,
    RESOURCE_EXPERIMENT,
    RESOURCE_REGISTERED_MODEL,
    Permission,
)
from asyncclient.server.auth.resources import Resource, ResourceResolver, Unresolvable, request_params
from asyncclient.server.auth.rules import TRACKING_RULES, route_key
from asyncclient.server.auth.store import AuthStore, User
from asyncclient.server.state import in_thread

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

USER = "asyncclient.auth.user"
_UNAUTHENTICATED = (
    "You are not authenticated. Please see "
    "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate."
)
# Reachable without credentials, as in MLflow: probes, static files, the capability document.
PUBLIC_PATHS = ("/health", "/static-files/", "/favicon.ico", "/api/3.0/mlflow/server-info",
                "/ajax-api/3.0/mlflow/server-info", "/openapi.json")


def unauthenticated() -> web.Response:
    return web.Response(text=_UNAUTHENTICATED, status=401, content_type="text/html",
                        headers={"WWW-Authenticate": 'Basic realm="mlflow"'})


def forbidden() -> web.Response:
    return web.Response(text="Permission denied", status=403, content_type="text/html")


class Authorizer:
    """Credentials -> user, user + resources -> allowed. Blocking methods: call them in the thread pool."""

    def __init__(self, config: AuthConfig, store: AuthStore, resolver: ResourceResolver):
        from asyncclient.server.auth.roles import RoleStore

        self.config = config
        self.store = store
        self.roles = RoleStore(store)
        self.resolver = resolver
        self.default_permission = ALL_PERMISSIONS[config.default_permission]
        self._verified = VerifiedPasswords()

    def authenticate(self, header: str | None) -> User | None:
        if not header:
            return None
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and credentials:
            return self.store.user_for_token(credentials.strip())
        if scheme != "basic":
            return None
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        if not sep:
            return None
        user = self.store.find_user(username)
        if not self._verified.check(user.password_hash if user else None, password):
            return None
        return user

    def login(self, header: str | None, resource: Resource | None) -> tuple[User | None, list[str]]:
        """The authenticated user and, in the same query, their grants (own and roles') on ``resource``.

        The ingest hot path: one connection and one statement instead of one per lookup.
        """
        scheme, _, credentials = (header or "").partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        password = None
        if scheme == "bearer" and credentials:
            statement, key = _LOGIN_BY_TOKEN, {"d": token_digest(credentials)}
        elif scheme == "basic":
            try:
                username, sep, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None, []
            if not sep:
                return None, []
            statement, key = _LOGIN_BY_NAME, {"n": username}
        else:
            return None, []
        resource_type, resource_id = resource if resource is not None else ("", "")
        with self.store._engine.connect() as conn:
            rows = conn.execute(statement, {**key, "t": resource_type, "r": resource_id}).all()
        # Raw SQL: SQLite hands the boolean back as 0/1.
        user = User(rows[0][0], rows[0][1], rows[0][2], bool(rows[0][3])) if rows else None
        if password is not None and not self._verified.check(user.password_hash if user else None, password):
            return None, []
        return user, [row[4] for row in rows if row[4] is not None]

    def decide(self, header: str | None, capability: str, resolve: Callable[[], list[Resource]]
               ) -> tuple[User | None, bool]:
        """(user, allowed) for a request to a route with a rule, in one thread hop."""
        try:
            resources: list[Resource] | None = resolve()
        except Unresolvable:
            resources = None  # a missing run or model: only admins get through (to the handler's 404)
        single = resources[0] if resources is not None and len(resources) == 1 else None
        user, grants = self.login(header, single)
        if user is None or user.is_admin:
            return user, user is not None
        if resources is None:
            return user, False
        if single is not None:
            return user, getattr(_fold(grants, self.default_permission), capability)
        return user, self.allowed(user, capability, resources)

    def permission(self, user: User, resource: Resource) -> Permission:
        resource_type, resource_id = resource
        names = [name for pattern, name in self.roles.grants_of_user(user.id, resource_type)
                 if pattern in ("*", resource_id)]
        granted = self.store.permission_of(user.id, resource_type, resource_id)
        return _fold(names + [granted] if granted else names, self.default_permission)

    def allowed(self, user: User, capability: str, resources: list[Resource]) -> bool:
        return all(getattr(self.permission(user, r), capability) for r in resources)

    def readable(self, user: User, resource_type: str) -> Callable[[Any], bool]:
        grants = self.store.permissions_of(user.id, resource_type)
        role_grants = self.roles.grants_of_user(user.id, resource_type)
        default = self.default_permission

        def can_read(resource_id: Any) -> bool:
            rid = str(resource_id)
            names = [name for pattern, name in role_grants if pattern in ("*", rid)]
            if rid in grants:
                names.append(grants[rid])
            return _fold(names, default).can_read

        return can_read

    def grant_creator(self, user: User, resource_type: str, resource_id: str) -> None:
        if self.store.permission_of(user.id, resource_type, resource_id) is None:
            self.store.grant(user.username, resource_type, resource_id, MANAGE.name)


AUTHORIZER = web.AppKey("authorizer", Authorizer)
# The user, with one row per grant of theirs (own or through a role) on resource (:t, :r); no grant: one
# row with a NULL permission. {user} selects the user's id.
_LOGIN_SQL = """
SELECT u.id, u.username, u.password_hash, u.is_admin, g.permission
FROM auth_users u LEFT JOIN (
    SELECT user_id, permission FROM auth_permissions
    WHERE user_id = ({user}) AND resource_type = :t AND resource_id = :r
    UNION ALL
    SELECT ur.user_id, rp.permission FROM auth_role_permissions rp JOIN auth_user_roles ur ON ur.role_id = rp.role_id
    WHERE ur.user_id = ({user}) AND rp.resource_type = :t AND rp.resource_pattern IN (:r, '*')
) g ON g.user_id = u.id
WHERE u.id = ({user})
"""
_LOGIN_BY_NAME = sa.text(_LOGIN_SQL.format(user="SELECT id FROM auth_users WHERE username = :n"))
_LOGIN_BY_TOKEN = sa.text(_LOGIN_SQL.format(
    user="SELECT user_id FROM auth_tokens WHERE token_digest = :d AND revoked_at IS NULL"))
_PRIORITY = {"NO_PERMISSIONS": 0, "READ": 1, "USE": 2, "EDIT": 3, "MANAGE": 4}


def _fold(names: list[str], default: Permission) -> Permission:
    """MLflow's fold of a user's grants on one resource: DENY wins, else the highest; none: the default."""
    if not names:
        return default
    if "DENY" in names:
        return NO_PERMISSIONS
    return ALL_PERMISSIONS[max(names, key=_PRIORITY.__getitem__)]


def _strip(path: str, static_prefix: str) -> str:
    return path[len(static_prefix):] if static_prefix and path.startswith(static_prefix) else path


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    auth = request.app[AUTHORIZER]
    static_prefix = auth_static_prefix(request)
    path = _strip(request.path, static_prefix)
    if path.startswith(PUBLIC_PATHS) or request.method == "OPTIONS":
        return await handler(request)
    route = request.match_info.route
    canonical = route.resource.canonical if route.resource is not None else None
    rule = None
    if canonical is not None and not getattr(route.handler, "auth_self_checked", False):
        rule = TRACKING_RULES.get(route_key(request.method, canonical, static_prefix))
    if rule is not None:  # the common case, ingest included: one thread hop, one query
        params = await request_params(request)
        match = dict(request.match_info)
        user, ok = await in_thread(request, auth.decide, request.headers.get("Authorization"), rule.capability,
                                   lambda: rule.resolve(params, match, auth.resolver))
        if user is None:
            return unauthenticated()
        request[USER] = user
        if not ok:
            return forbidden()
        response = await handler(request)
        await _after(request, auth, user, route_key(request.method, canonical, static_prefix), response)
        return response
    user = await in_thread(request, auth.authenticate, request.headers.get("Authorization"))
    if user is None:
        return unauthenticated()
    request[USER] = user
    if canonical is None:  # no such route: the router's 404/405 says so, nothing to protect
        return await handler(request)
    key = route_key(request.method, canonical, static_prefix)
    if getattr(route.handler, "auth_self_checked", False):
        return await handler(request)  # the auth API's own routes check admin / MANAGE themselves
    if user.is_admin:
        response = await handler(request)
        await _after(request, auth, user, key, response)
        return response
    if key[1] == "/graphql":
        if not await graphql_check.allowed(request, auth, user):
            return forbidden()
    else:
        return forbidden()  # fail closed: a route without a rule is for admins only
    response = await handler(request)
    await _after(request, auth, user, key, response)
    return response


def auth_static_prefix(request: web.Request) -> str:
    from asyncclient.server.state import CONFIG

    return request.app[CONFIG].static_prefix.rstrip("/")


# Search responses: (list field, function giving the resource type and id of one item).
_FILTERS: dict[str, tuple[str, str, Callable[[dict], Any]]] = {
    "experiments/search": ("experiments", RESOURCE_EXPERIMENT, lambda e: e.get("experiment_id")),
    "runs/search": ("runs", RESOURCE_EXPERIMENT, lambda r: (r.get("info") or {}).get("experiment_id")),
    "registered-models/search": ("registered_models", RESOURCE_REGISTERED_MODEL, lambda m: m.get("name")),
    "model-versions/search": ("model_versions", RESOURCE_REGISTERED_MODEL, lambda v: v.get("name")),
    "logged-models/search": ("models", RESOURCE_EXPERIMENT, lambda m: (m.get("info") or {}).get("experiment_id")),
}
_CREATED: dict[str, tuple[str, Callable[[dict], Any]]] = {
    "experiments/create": (RESOURCE_EXPERIMENT, lambda body: body.get("experiment_id")),
    "registered-models/create": (RESOURCE_REGISTERED_MODEL,
                                 lambda body: (body.get("registered_model") or {}).get("name")),
}


async def _after(request: web.Request, auth: Authorizer, user: User, key: tuple[str, str],
                 response: web.StreamResponse) -> None:
    path = key[1]
    if response.status != 200 or not isinstance(response, web.Response) or response.body is None:
        return
    if path in _CREATED:
        resource_type, id_of = _CREATED[path]
        created = id_of(orjson.loads(response.body))
        if created is not None:
            await in_thread(request, auth.grant_creator, user, resource_type, str(created))
        return
    if user.is_admin:
        return
    if path == "/graphql":
        await graphql_check.filter_response(request, auth, user, response)
        return
    if path not in _FILTERS:
        return
    field, resource_type, id_of = _FILTERS[path]
    body = orjson.loads(response.body)
    if not isinstance(body, dict) or not isinstance(body.get(field), list):
        return
    can_read = await in_thread(request, auth.readable, user, resource_type)
    body[field] = [item for item in body[field] if can_read(id_of(item))]
    if not body[field]:
        del body[field]  # proto3 JSON leaves out an empty repeated field, as the handlers do
    response.body = orjson.dumps(body)

"""The auth app's REST API, as MLflow 3.17's ``AuthServiceClient`` calls it, plus bearer tokens.

MLflow equivalent: the user and permission handlers of ``mlflow/server/auth/__init__.py``. Users are managed
by admins; a user reads and changes their own account (changing the password needs the current one);
a per-resource grant needs admin or MANAGE on that resource. Tokens (our addition, for
``MLFLOW_TRACKING_TOKEN``) are created, listed and revoked by their owner (admins: any).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from asyncclient.exceptions import MlflowException
from asyncclient.server.auth.middleware import AUTHORIZER, USER, forbidden
from asyncclient.server.auth.passwords import verify_password
from asyncclient.server.auth.permissions import CAN_MANAGE, get_permission, validate_resource_type
from asyncclient.server.auth.store import User
from asyncclient.server.protocol import json_response
from asyncclient.server.state import in_thread

routes = web.RouteTableDef()
token_routes = web.RouteTableDef()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _self_checked(fn: Handler) -> Handler:
    fn.auth_self_checked = True  # type: ignore[attr-defined]  # read by the middleware
    return fn


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, error_code="INVALID_PARAMETER_VALUE")


async def _params(request: web.Request) -> dict:
    if request.method == "GET":
        return dict(request.query)
    try:
        body = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        raise _invalid("Malformed JSON request body.") from None
    return body if isinstance(body, dict) else {}


def _required(params: dict, name: str):
    value = params.get(name)
    if value is None or value == "":
        raise _invalid(f"Missing value for required parameter '{name}'.")
    return value


def _caller(request: web.Request) -> User:
    return request[USER]


def _store(request: web.Request):
    return request.app[AUTHORIZER].store


@routes.post("/mlflow/users/create")
@_self_checked
async def create_user(request: web.Request) -> web.Response:
    if not _caller(request).is_admin:
        return forbidden()
    p = await _params(request)
    user = await in_thread(request, _store(request).create_user, _required(p, "username"), _required(p, "password"))
    return json_response({"user": user.to_json()})


@routes.get("/mlflow/users/get")
@_self_checked
async def get_user(request: web.Request) -> web.Response:
    p = await _params(request)
    username = _required(p, "username")
    caller = _caller(request)
    if not caller.is_admin and caller.username != username:
        return forbidden()
    user = await in_thread(request, _store(request).get_user, username)
    return json_response({"user": user.to_json()})


@routes.get("/mlflow/users/current")
@_self_checked
async def current_user(request: web.Request) -> web.Response:
    return json_response({"is_basic_auth": True, "user": _caller(request).to_json()})


@routes.get("/mlflow/users/list")
@_self_checked
async def list_users(request: web.Request) -> web.Response:
    if not _caller(request).is_admin:
        return forbidden()
    users = await in_thread(request, _store(request).list_users)
    return json_response({"users": [u.to_json() for u in users]})


@routes.patch("/mlflow/users/update-password")
@_self_checked
async def update_password(request: web.Request) -> web.Response:
    p = await _params(request)
    username, password = _required(p, "username"), _required(p, "password")
    caller = _caller(request)
    if not caller.is_admin:
        if caller.username != username:
            return forbidden()
        current = p.get("current_password")
        if not isinstance(current, str) or not await in_thread(request, verify_password, caller.password_hash,
                                                                current):
            raise _invalid("current_password is required and must match the user's current password.")
    await in_thread(request, _store(request).update_password, username, password)
    return json_response({})


@routes.patch("/mlflow/users/update-admin")
@_self_checked
async def update_admin(request: web.Request) -> web.Response:
    if not _caller(request).is_admin:
        return forbidden()
    p = await _params(request)
    is_admin = p.get("is_admin")
    if not isinstance(is_admin, bool):
        raise _invalid("Missing or invalid value for required parameter 'is_admin' (a boolean).")
    await in_thread(request, _store(request).update_admin, _required(p, "username"), is_admin)
    return json_response({})


@routes.delete("/mlflow/users/delete")
@_self_checked
async def delete_user(request: web.Request) -> web.Response:
    if not _caller(request).is_admin:
        return forbidden()
    p = await _params(request)
    await in_thread(request, _store(request).delete_user, _required(p, "username"))
    return json_response({})


async def _may_manage(request: web.Request, resource_type: str, resource_id: str) -> bool:
    caller = _caller(request)
    if caller.is_admin:
        return True
    auth = request.app[AUTHORIZER]
    return await in_thread(request, auth.allowed, caller, CAN_MANAGE, [(resource_type, str(resource_id))])


def _resource(p: dict) -> tuple[str, str]:
    return validate_resource_type(_required(p, "resource_type")), str(_required(p, "resource_id"))


@routes.post("/mlflow/users/permissions/grant")
@_self_checked
async def grant_permission(request: web.Request) -> web.Response:
    p = await _params(request)
    resource_type, resource_id = _resource(p)
    if not await _may_manage(request, resource_type, resource_id):
        return forbidden()
    await in_thread(request, _store(request).grant, _required(p, "username"), resource_type, resource_id,
                    _required(p, "permission"))
    return json_response({})


@routes.post("/mlflow/users/permissions/revoke")
@_self_checked
async def revoke_permission(request: web.Request) -> web.Response:
    p = await _params(request)
    resource_type, resource_id = _resource(p)
    if not await _may_manage(request, resource_type, resource_id):
        return forbidden()
    await in_thread(request, _store(request).revoke, _required(p, "username"), resource_type, resource_id)
    return json_response({})


@routes.get("/mlflow/users/permissions/get")
@_self_checked
async def get_permission_of_user(request: web.Request) -> web.Response:
    p = await _params(request)
    resource_type, resource_id = _resource(p)
    username = _required(p, "username")
    caller = _caller(request)
    if not caller.is_admin and caller.username != username and not await _may_manage(
            request, resource_type, resource_id):
        return forbidden()
    auth = request.app[AUTHORIZER]
    user = await in_thread(request, auth.store.get_user, username)
    permission = await in_thread(request, auth.permission, user, (resource_type, resource_id))
    # MLflow's GetUserPermissionResult: ``allowed`` is the regular-access tier (can_use).
    return json_response({"allowed": permission.can_use, "permission": permission.name})


def _roles(request: web.Request):
    return request.app[AUTHORIZER].roles


def _admin_only(fn: Handler) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if not _caller(request).is_admin:
            return forbidden()
        return await fn(request)

    handler.__name__ = fn.__name__
    handler.__doc__ = fn.__doc__
    return _self_checked(handler)


@routes.post("/mlflow/roles/create")
@_admin_only
async def create_role(request: web.Request) -> web.Response:
    p = await _params(request)
    role = await in_thread(request, _roles(request).create_role, p.get("workspace"), p.get("name"),
                           p.get("description"))
    return json_response({"role": role})


async def _may_view_role(request: web.Request, role_id: object) -> bool:
    caller = _caller(request)
    return caller.is_admin or await in_thread(request, _roles(request).may_view, caller.id, role_id)


@routes.get("/mlflow/roles/get")
@_self_checked
async def get_role(request: web.Request) -> web.Response:
    p = await _params(request)
    if not await _may_view_role(request, p.get("role_id")):
        return forbidden()
    return json_response({"role": await in_thread(request, _roles(request).get_role, _required(p, "role_id"))})


@routes.get("/mlflow/roles/list")
@_admin_only
async def list_roles(request: web.Request) -> web.Response:
    p = await _params(request)
    return json_response({"roles": await in_thread(request, _roles(request).list_roles, p.get("workspace"))})


@routes.patch("/mlflow/roles/update")
@_admin_only
async def update_role(request: web.Request) -> web.Response:
    p = await _params(request)
    role = await in_thread(request, _roles(request).update_role, _required(p, "role_id"), p.get("name"),
                           p.get("description"))
    return json_response({"role": role})


@routes.delete("/mlflow/roles/delete")
@_admin_only
async def delete_role(request: web.Request) -> web.Response:
    p = await _params(request)
    await in_thread(request, _roles(request).delete_role, _required(p, "role_id"))
    return json_response({})


@routes.post("/mlflow/roles/permissions/add")
@_admin_only
async def add_role_permission(request: web.Request) -> web.Response:
    p = await _params(request)
    rp = await in_thread(request, _roles(request).add_permission, _required(p, "role_id"),
                         _required(p, "resource_type"), _required(p, "resource_pattern"), _required(p, "permission"))
    return json_response({"role_permission": rp})


@routes.delete("/mlflow/roles/permissions/remove")
@_admin_only
async def remove_role_permission(request: web.Request) -> web.Response:
    p = await _params(request)
    await in_thread(request, _roles(request).remove_permission, _required(p, "role_permission_id"))
    return json_response({})


@routes.get("/mlflow/roles/permissions/list")
@_self_checked
async def list_role_permissions(request: web.Request) -> web.Response:
    p = await _params(request)
    if not await _may_view_role(request, p.get("role_id")):
        return forbidden()
    perms = await in_thread(request, _roles(request).list_permissions, _required(p, "role_id"))
    return json_response({"role_permissions": perms})


@routes.patch("/mlflow/roles/permissions/update")
@_admin_only
async def update_role_permission(request: web.Request) -> web.Response:
    p = await _params(request)
    rp = await in_thread(request, _roles(request).update_permission, _required(p, "role_permission_id"),
                         _required(p, "permission"))
    return json_response({"role_permission": rp})


@routes.post("/mlflow/roles/assign")
@_admin_only
async def assign_role(request: web.Request) -> web.Response:
    p = await _params(request)
    assignment = await in_thread(request, _roles(request).assign, _required(p, "username"), _required(p, "role_id"))
    return json_response({"assignment": assignment})


@routes.delete("/mlflow/roles/unassign")
@_admin_only
async def unassign_role(request: web.Request) -> web.Response:
    p = await _params(request)
    await in_thread(request, _roles(request).unassign, _required(p, "username"), _required(p, "role_id"))
    return json_response({})


@routes.get("/mlflow/users/roles/list")
@_self_checked
async def list_user_roles(request: web.Request) -> web.Response:
    p = await _params(request)
    username = _required(p, "username")
    caller = _caller(request)
    if not caller.is_admin and caller.username != username:
        return forbidden()
    return json_response({"roles": await in_thread(request, _roles(request).roles_of_user, username)})


@routes.get("/mlflow/roles/users/list")
@_admin_only
async def list_role_users(request: web.Request) -> web.Response:
    p = await _params(request)
    return json_response({"assignments": await in_thread(request, _roles(request).users_of_role,
                                                         _required(p, "role_id"))})


@token_routes.post("/tokens/create")
@_self_checked
async def create_token(request: web.Request) -> web.Response:
    p = await _params(request)
    token, info = await in_thread(request, _store(request).create_token, _caller(request).id, p.get("name", ""))
    return json_response({"token": token, "token_info": info})


@token_routes.get("/tokens/list")
@_self_checked
async def list_tokens(request: web.Request) -> web.Response:
    infos = await in_thread(request, _store(request).list_tokens, _caller(request).id)
    return json_response({"tokens": infos})


@token_routes.post("/tokens/revoke")
@_self_checked
async def revoke_token(request: web.Request) -> web.Response:
    p = await _params(request)
    token_id = _required(p, "token_id")
    if isinstance(token_id, bool) or not isinstance(token_id, int | str) or not str(token_id).isdigit():
        raise _invalid(f"Invalid value {token_id!r} for parameter 'token_id': an integer id.")
    caller = _caller(request)
    await in_thread(request, _store(request).revoke_token, None if caller.is_admin else caller.id, int(token_id))
    return json_response({})


__all__ = ["routes", "token_routes", "get_permission"]

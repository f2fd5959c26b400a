"""Roles: named sets of grants (a resource id or ``*`` for every resource of a type) assigned to users.

MLflow equivalent: the role API of MLflow 3.17's auth app (``/api/3.0/mlflow/roles/...``). A user's level
on a resource folds their own grant and the grants of their roles that match it: an explicit ``DENY``
wins, otherwise the highest level; with no grant at all, the configured default applies. Roles belong to
a workspace; this server has the one workspace MLflow calls ``default``.
"""

from __future__ import annotations

import sqlalchemy as sa

from asyncclient.exceptions import MlflowException
from asyncclient.server.auth.permissions import get_permission, validate_resource_type
from asyncclient.server.auth.store import AuthStore, _md, users

DEFAULT_WORKSPACE = "default"
ROLE_PERMISSIONS = ("READ", "USE", "EDIT", "MANAGE", "DENY")

roles = sa.Table(
    "auth_roles", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.String(1000), nullable=True),
)
role_permissions = sa.Table(
    "auth_role_permissions", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("role_id", sa.Integer, nullable=False),
    sa.Column("resource_type", sa.String(32), nullable=False),
    sa.Column("resource_pattern", sa.String(255), nullable=False),
    sa.Column("permission", sa.String(32), nullable=False),
)
user_roles = sa.Table(
    "auth_user_roles", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("role_id", sa.Integer, nullable=False),
)


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, error_code="INVALID_PARAMETER_VALUE")


def _missing(what: str) -> MlflowException:
    return MlflowException(f"{what} not found", error_code="RESOURCE_DOES_NOT_EXIST")


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise _invalid(f"Invalid value {value!r} for parameter '{name}': an integer id.")
    return int(value)


def _text(value: object, name: str, limit: int = 255) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _invalid(f"'{name}' must be a non-empty string of at most {limit} characters.")
    return value


def _role_permission(permission: object) -> str:
    if permission not in ROLE_PERMISSIONS:
        raise _invalid(f"Invalid permission '{permission}'. Valid permissions are: {ROLE_PERMISSIONS}")
    return permission  # type: ignore[return-value]


class RoleStore:
    """Role tables over the auth store's engine."""

    def __init__(self, store: AuthStore):
        self._store = store
        self._engine = store._engine

    def _role_json(self, conn, row) -> dict:
        perms = conn.execute(sa.select(role_permissions).where(role_permissions.c.role_id == row.id)
                             .order_by(role_permissions.c.id)).all()
        return {"id": row.id, "name": row.name, "workspace": row.workspace, "description": row.description,
                "permissions": [_permission_json(p) for p in perms]}

    def _role_row(self, conn, role_id: int):
        row = conn.execute(sa.select(roles).where(roles.c.id == role_id)).first()
        if row is None:
            raise _missing(f"Role with id={role_id}")
        return row

    def create_role(self, workspace: object, name: object, description: object = None) -> dict:
        workspace, name = _text(workspace, "workspace"), _text(name, "name")
        if description is not None:
            description = _text(description, "description", 1000)

        def insert(conn):
            if conn.execute(sa.select(roles.c.id).where(roles.c.workspace == workspace, roles.c.name == name)).first():
                raise MlflowException(f"Role (workspace={workspace}, name={name}) already exists.",
                                      error_code="RESOURCE_ALREADY_EXISTS")
            role_id = conn.execute(sa.insert(roles).values(workspace=workspace, name=name,
                                                           description=description)).inserted_primary_key[0]
            return self._role_json(conn, self._role_row(conn, role_id))

        return self._store._write(insert)

    def get_role(self, role_id: object) -> dict:
        with self._engine.connect() as conn:
            return self._role_json(conn, self._role_row(conn, _int(role_id, "role_id")))

    def list_roles(self, workspace: object | None) -> list[dict]:
        query = sa.select(roles).order_by(roles.c.id)
        if workspace is not None:
            query = query.where(roles.c.workspace == _text(workspace, "workspace"))
        with self._engine.connect() as conn:
            return [self._role_json(conn, row) for row in conn.execute(query).all()]

    def update_role(self, role_id: object, name: object = None, description: object = None) -> dict:
        role_id = _int(role_id, "role_id")
        values = {}
        if name is not None:
            values["name"] = _text(name, "name")
        if description is not None:
            values["description"] = _text(description, "description", 1000)

        def update(conn):
            row = self._role_row(conn, role_id)
            if "name" in values and conn.execute(sa.select(roles.c.id).where(
                    roles.c.workspace == row.workspace, roles.c.name == values["name"], roles.c.id != role_id)).first():
                raise MlflowException(f"Role (workspace={row.workspace}, name={values['name']}) already exists.",
                                      error_code="RESOURCE_ALREADY_EXISTS")
            if values:
                conn.execute(sa.update(roles).where(roles.c.id == role_id).values(**values))
            return self._role_json(conn, self._role_row(conn, role_id))

        return self._store._write(update)

    def delete_role(self, role_id: object) -> None:
        role_id = _int(role_id, "role_id")

        def delete(conn):
            self._role_row(conn, role_id)
            conn.execute(sa.delete(role_permissions).where(role_permissions.c.role_id == role_id))
            conn.execute(sa.delete(user_roles).where(user_roles.c.role_id == role_id))
            conn.execute(sa.delete(roles).where(roles.c.id == role_id))

        self._store._write(delete)

    def add_permission(self, role_id: object, resource_type: object, pattern: object, permission: object) -> dict:
        role_id = _int(role_id, "role_id")
        resource_type = validate_resource_type(resource_type)
        pattern = _text(str(pattern) if isinstance(pattern, int) else pattern, "resource_pattern")
        permission = _role_permission(permission)

        def insert(conn):
            self._role_row(conn, role_id)
            if conn.execute(sa.select(role_permissions.c.id).where(
                    role_permissions.c.role_id == role_id, role_permissions.c.resource_type == resource_type,
                    role_permissions.c.resource_pattern == pattern)).first():
                raise MlflowException(f"Permission on resource_type={resource_type}, resource_pattern={pattern} "
                                      f"already exists for role_id={role_id}.", error_code="RESOURCE_ALREADY_EXISTS")
            new_id = conn.execute(sa.insert(role_permissions).values(
                role_id=role_id, resource_type=resource_type, resource_pattern=pattern,
                permission=permission)).inserted_primary_key[0]
            return _permission_json(conn.execute(sa.select(role_permissions).where(
                role_permissions.c.id == new_id)).first())

        return self._store._write(insert)

    def role_of_permission(self, role_permission_id: object) -> int:
        with self._engine.connect() as conn:
            role_id = conn.execute(sa.select(role_permissions.c.role_id).where(
                role_permissions.c.id == _int(role_permission_id, "role_permission_id"))).scalar()
        if role_id is None:
            raise _missing(f"Role permission with id={role_permission_id}")
        return role_id

    def update_permission(self, role_permission_id: object, permission: object) -> dict:
        rp_id, permission = _int(role_permission_id, "role_permission_id"), _role_permission(permission)

        def update(conn):
            if conn.execute(sa.update(role_permissions).where(role_permissions.c.id == rp_id)
                            .values(permission=permission)).rowcount == 0:
                raise _missing(f"Role permission with id={rp_id}")
            return _permission_json(conn.execute(sa.select(role_permissions).where(
                role_permissions.c.id == rp_id)).first())

        return self._store._write(update)

    def remove_permission(self, role_permission_id: object) -> None:
        rp_id = _int(role_permission_id, "role_permission_id")

        def delete(conn):
            if conn.execute(sa.delete(role_permissions).where(role_permissions.c.id == rp_id)).rowcount == 0:
                raise _missing(f"Role permission with id={rp_id}")

        self._store._write(delete)

    def list_permissions(self, role_id: object) -> list[dict]:
        return self.get_role(role_id)["permissions"]

    def assign(self, username: object, role_id: object) -> dict:
        user = self._store.get_user(username)  # type: ignore[arg-type]
        role_id = _int(role_id, "role_id")

        def insert(conn):
            self._role_row(conn, role_id)
            if conn.execute(sa.select(user_roles.c.id).where(user_roles.c.user_id == user.id,
                                                             user_roles.c.role_id == role_id)).first():
                raise MlflowException(f"User {user.username} already has role_id={role_id}.",
                                      error_code="RESOURCE_ALREADY_EXISTS")
            new_id = conn.execute(sa.insert(user_roles).values(user_id=user.id, role_id=role_id)).inserted_primary_key[0]
            return {"id": new_id, "user_id": user.id, "role_id": role_id}

        return self._store._write(insert)

    def unassign(self, username: object, role_id: object) -> None:
        user = self._store.get_user(username)  # type: ignore[arg-type]
        role_id = _int(role_id, "role_id")

        def delete(conn):
            if conn.execute(sa.delete(user_roles).where(user_roles.c.user_id == user.id,
                                                        user_roles.c.role_id == role_id)).rowcount == 0:
                raise _missing(f"Role assignment of user={user.username} to role_id={role_id}")

        self._store._write(delete)

    def roles_of_user(self, username: object) -> list[dict]:
        user = self._store.get_user(username)  # type: ignore[arg-type]
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(roles).join(user_roles, user_roles.c.role_id == roles.c.id)
                                .where(user_roles.c.user_id == user.id).order_by(roles.c.id)).all()
            return [self._role_json(conn, row) for row in rows]

    def users_of_role(self, role_id: object) -> list[dict]:
        role_id = _int(role_id, "role_id")
        with self._engine.connect() as conn:
            self._role_row(conn, role_id)
            rows = conn.execute(sa.select(user_roles).where(user_roles.c.role_id == role_id)
                                .order_by(user_roles.c.id)).all()
        return [{"id": r.id, "user_id": r.user_id, "role_id": r.role_id} for r in rows]

    def may_view(self, user_id: int, role_id: object) -> bool:
        """MLflow's rule for viewing a role: the role exists and the user has some presence in its workspace
        (a grant of their own or a role); with one workspace, any grant or role at all."""
        with self._engine.connect() as conn:
            try:
                exists = conn.execute(sa.select(roles.c.id).where(roles.c.id == _int(role_id, "role_id"))).first()
            except MlflowException:
                return False
            if exists is None:
                return False
            own = conn.execute(sa.text("SELECT 1 FROM auth_permissions WHERE user_id = :u LIMIT 1"),
                               {"u": user_id}).first()
            assigned = conn.execute(sa.select(user_roles.c.id).where(user_roles.c.user_id == user_id)).first()
            return own is not None or assigned is not None

    def grants_of_user(self, user_id: int, resource_type: str) -> list[tuple[str, str]]:
        """(resource pattern, permission) of every role grant of the user on one resource type."""
        with self._engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                sa.select(role_permissions.c.resource_pattern, role_permissions.c.permission)
                .join(user_roles, user_roles.c.role_id == role_permissions.c.role_id)
                .where(user_roles.c.user_id == user_id, role_permissions.c.resource_type == resource_type))]


def _permission_json(row) -> dict:
    return {"id": row.id, "role_id": row.role_id, "resource_type": row.resource_type,
            "resource_pattern": row.resource_pattern, "permission": row.permission}


__all__ = ["RoleStore", "users", "get_permission", "DEFAULT_WORKSPACE"]

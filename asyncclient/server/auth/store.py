"""Users, permissions and tokens in the tracking server's own database (tables of migration 0004).

MLflow equivalent: ``mlflow/server/auth/sqlalchemy_store.py``. Plain SQLAlchemy Core on the backend store's
engine; every write is one transaction through ``with_retry`` like the tracking store's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from asyncclient.exceptions import MlflowException
from asyncclient.server.auth.config import MIN_PASSWORD_LENGTH
from asyncclient.server.auth.passwords import hash_password, new_token, token_digest
from asyncclient.server.auth.permissions import get_permission, validate_resource_type
from asyncclient.store.engine import with_retry, writer

_md = sa.MetaData()
users = sa.Table(
    "auth_users", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_admin", sa.Boolean(create_constraint=False), nullable=False),
)
permissions = sa.Table(
    "auth_permissions", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("resource_type", sa.String(32), nullable=False),
    sa.Column("resource_id", sa.String(255), nullable=False),
    sa.Column("permission", sa.String(32), nullable=False),
)
tokens = sa.Table(
    "auth_tokens", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password_hash: str
    is_admin: bool

    def to_json(self) -> dict:
        # MLflow's User.to_json: never the hash.
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin}


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, error_code="INVALID_PARAMETER_VALUE")


def validate_username(username: object) -> str:
    if not isinstance(username, str) or not username or len(username) > 255:
        raise _invalid("Username must be a non-empty string of at most 255 characters.")
    return username


def validate_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise _invalid(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def _user_missing(username: str) -> MlflowException:
    return MlflowException(f"User with username={username} not found", error_code="RESOURCE_DOES_NOT_EXIST")


class AuthStore:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._writer = writer(engine)

    def _write(self, fn):
        def transaction():
            with self._writer.begin() as conn:
                return fn(conn)

        return with_retry(transaction)

    # ---- users ----

    def has_users(self) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(sa.select(users.c.id).limit(1)).first() is not None

    def find_user(self, username: str) -> User | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        return User(*row) if row else None

    def get_user(self, username: str) -> User:
        user = self.find_user(validate_username(username))
        if user is None:
            raise _user_missing(username)
        return user

    def list_users(self) -> list[User]:
        with self._engine.connect() as conn:
            return [User(*row) for row in conn.execute(sa.select(users).order_by(users.c.id))]

    def create_user(self, username: str, password: str, is_admin: bool = False) -> User:
        validate_username(username)
        password_hash = hash_password(validate_password(password))

        def insert(conn):
            if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
                raise MlflowException(f"User (username={username}) already exists.",
                                      error_code="RESOURCE_ALREADY_EXISTS")
            conn.execute(sa.insert(users).values(username=username, password_hash=password_hash,
                                                 is_admin=is_admin))

        self._write(insert)
        return self.get_user(username)

    def update_password(self, username: str, password: str) -> None:
        password_hash = hash_password(validate_password(password))
        self._update_user(username, password_hash=password_hash)

    def update_admin(self, username: str, is_admin: bool) -> None:
        self._update_user(username, is_admin=is_admin)

    def _update_user(self, username: str, **values) -> None:
        validate_username(username)

        def update(conn):
            if conn.execute(sa.update(users).where(users.c.username == username).values(**values)).rowcount == 0:
                raise _user_missing(username)

        self._write(update)

    def delete_user(self, username: str) -> None:
        user = self.get_user(username)

        def delete(conn):
            conn.execute(sa.delete(permissions).where(permissions.c.user_id == user.id))
            conn.execute(sa.delete(tokens).where(tokens.c.user_id == user.id))
            conn.execute(sa.text("DELETE FROM auth_user_roles WHERE user_id = :u"), {"u": user.id})
            conn.execute(sa.delete(users).where(users.c.id == user.id))

        self._write(delete)

    # ---- per-resource grants ----

    def permission_of(self, user_id: int, resource_type: str, resource_id: str) -> str | None:
        """The user's explicit grant on the resource, or None (then the default permission applies)."""
        with self._engine.connect() as conn:
            return conn.execute(sa.select(permissions.c.permission).where(
                permissions.c.user_id == user_id, permissions.c.resource_type == resource_type,
                permissions.c.resource_id == resource_id)).scalar()

    def permissions_of(self, user_id: int, resource_type: str) -> dict[str, str]:
        """Every explicit grant of the user on resources of one type: resource id -> permission name."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(permissions.c.resource_id, permissions.c.permission).where(
                permissions.c.user_id == user_id, permissions.c.resource_type == resource_type))
            return dict(rows.all())

    def grant(self, username: str, resource_type: str, resource_id: str, permission: str) -> None:
        validate_resource_type(resource_type)
        get_permission(permission)
        resource_id = _resource_id(resource_id)
        user = self.get_user(username)

        def insert(conn):
            if self._grant_row(conn, user.id, resource_type, resource_id) is not None:
                raise MlflowException(
                    f"Permission for user={username} on resource_type={resource_type}, "
                    f"resource_id={resource_id} already exists.", error_code="RESOURCE_ALREADY_EXISTS")
            conn.execute(sa.insert(permissions).values(user_id=user.id, resource_type=resource_type,
                                                       resource_id=resource_id, permission=permission))

        self._write(insert)

    def revoke(self, username: str, resource_type: str, resource_id: str) -> None:
        validate_resource_type(resource_type)
        resource_id = _resource_id(resource_id)
        user = self.get_user(username)

        def delete(conn):
            row = self._grant_row(conn, user.id, resource_type, resource_id)
            if row is None:
                raise MlflowException(
                    f"Permission for user={username} on resource_type={resource_type}, "
                    f"resource_id={resource_id} not found.", error_code="RESOURCE_DOES_NOT_EXIST")
            conn.execute(sa.delete(permissions).where(permissions.c.id == row))

        self._write(delete)

    @staticmethod
    def _grant_row(conn, user_id: int, resource_type: str, resource_id: str) -> int | None:
        return conn.execute(sa.select(permissions.c.id).where(
            permissions.c.user_id == user_id, permissions.c.resource_type == resource_type,
            permissions.c.resource_id == resource_id)).scalar()

    # ---- bearer tokens ----

    def create_token(self, user_id: int, name: str) -> tuple[str, dict]:
        if not isinstance(name, str) or len(name) > 255:
            raise _invalid("Token name must be a string of at most 255 characters.")
        token = new_token()
        created_at = int(time.time() * 1000)

        def insert(conn):
            return conn.execute(sa.insert(tokens).values(
                user_id=user_id, name=name, token_digest=token_digest(token), created_at=created_at,
            )).inserted_primary_key[0]

        token_id = self._write(insert)
        return token, {"id": token_id, "name": name, "created_at": created_at}

    def list_tokens(self, user_id: int) -> list[dict]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(tokens.c.id, tokens.c.name, tokens.c.created_at).where(
                tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None)).order_by(tokens.c.id))
            return [{"id": r.id, "name": r.name, "created_at": r.created_at} for r in rows]

    def revoke_token(self, user_id: int | None, token_id: int) -> None:
        """Revoke one of ``user_id``'s tokens (``None``: any user's, for admins)."""
        now = int(time.time() * 1000)

        def update(conn):
            query = sa.update(tokens).where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
            if user_id is not None:
                query = query.where(tokens.c.user_id == user_id)
            if conn.execute(query.values(revoked_at=now)).rowcount == 0:
                raise MlflowException(f"Token with id={token_id} not found.", error_code="RESOURCE_DOES_NOT_EXIST")

        self._write(update)

    def user_for_token(self, token: str) -> User | None:
        """The owner of a live token, or None for an unknown or revoked one."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(users).join(tokens, tokens.c.user_id == users.c.id).where(
                tokens.c.token_digest == token_digest(token), tokens.c.revoked_at.is_(None))).first()
        return User(*row) if row else None


def _resource_id(resource_id: object) -> str:
    if isinstance(resource_id, int) and not isinstance(resource_id, bool):
        resource_id = str(resource_id)
    if not isinstance(resource_id, str) or not resource_id or len(resource_id) > 255:
        raise _invalid("resource_id must be a non-empty string.")
    return resource_id

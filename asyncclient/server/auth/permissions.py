"""Permission levels and what each allows: MLflow's auth app's ``READ`` < ``USE`` < ``EDIT`` < ``MANAGE``.

MLflow equivalent: ``mlflow/server/auth/permissions.py``. A user's level on a resource is their explicit
grant, else the configured ``default_permission``; admins may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from asyncclient.exceptions import MlflowException


@dataclass(frozen=True)
class Permission:
    name: str
    can_read: bool
    can_use: bool
    can_update: bool
    can_delete: bool
    can_manage: bool


READ = Permission("READ", True, False, False, False, False)
USE = Permission("USE", True, True, False, False, False)
EDIT = Permission("EDIT", True, True, True, False, False)
MANAGE = Permission("MANAGE", True, True, True, True, True)
NO_PERMISSIONS = Permission("NO_PERMISSIONS", False, False, False, False, False)

ALL_PERMISSIONS = {p.name: p for p in (READ, USE, EDIT, MANAGE, NO_PERMISSIONS)}

# The resource types a grant may name (MLflow's RESOURCE_TYPE_EXPERIMENT / _REGISTERED_MODEL).
RESOURCE_EXPERIMENT = "experiment"
RESOURCE_REGISTERED_MODEL = "registered_model"
RESOURCE_TYPES = (RESOURCE_EXPERIMENT, RESOURCE_REGISTERED_MODEL)

# What a route needs of the resource it touches: the name of a ``Permission`` attribute.
CAN_READ = "can_read"
CAN_UPDATE = "can_update"
CAN_DELETE = "can_delete"
CAN_MANAGE = "can_manage"


def get_permission(name: str) -> Permission:
    """The level called ``name``; an unknown name is the caller's error (INVALID_PARAMETER_VALUE)."""
    try:
        return ALL_PERMISSIONS[name]
    except (KeyError, TypeError):
        raise MlflowException(
            f"Invalid permission '{name}'. Valid permissions are: {tuple(ALL_PERMISSIONS)}",
            error_code="INVALID_PARAMETER_VALUE") from None


def validate_resource_type(resource_type: object) -> str:
    if resource_type not in RESOURCE_TYPES:
        raise MlflowException(
            f"Invalid resource_type '{resource_type}'. Valid resource types are: {RESOURCE_TYPES}",
            error_code="INVALID_PARAMETER_VALUE")
    return resource_type  # type: ignore[return-value]

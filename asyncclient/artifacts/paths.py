"""Artifact path checks, as MLflow's ``validate_path_is_safe`` (mlflow/utils/uri.py)."""

from __future__ import annotations

import os
import pathlib
import urllib.parse

from asyncclient.exceptions import MlflowException

# Separators other than "/": the OS's own ("\\" on Windows) and always the backslash, because an object store
# key or a Windows client may treat "..\\x" as a parent reference even when this server runs on Linux.
_OS_ALT_SEPS = sorted({sep for sep in (os.sep, os.altsep, "\\") if sep is not None and sep != "/"})


def _decode(path: str) -> str:
    # Percent-decode until stable so "%252e%252e" cannot smuggle ".." past the checks.
    for _ in range(10):
        decoded = urllib.parse.unquote(path)
        if decoded == path:
            return path
        path = decoded
    raise MlflowException.invalid_parameter_value("Invalid path")


def validate_path_is_safe(path: str) -> str:
    """Return ``path`` decoded if it is safe to join under a trusted root, else raise 400 "Invalid path".

    Rejected: ``#``, NUL, a ``..`` segment, absolute POSIX or Windows paths, backslashes and other OS separators.
    """
    invalid = MlflowException.invalid_parameter_value("Invalid path")
    path = _decode(path)
    if path.startswith("file://"):
        path = urllib.parse.urlparse(path).path
    if (
        "#" in path
        or "\x00" in path
        or any(sep in path for sep in _OS_ALT_SEPS)
        or ".." in path.split("/")
        or pathlib.PurePosixPath(path).is_absolute()
        or pathlib.PureWindowsPath(path).is_absolute()
    ):
        raise invalid
    return path

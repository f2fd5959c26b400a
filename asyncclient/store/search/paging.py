"""Offset page tokens and ``max_results`` checks (MLflow's ``SearchUtils`` page-token helpers)."""

from __future__ import annotations

import base64
import binascii
import json

from asyncclient.exceptions import MlflowException
from asyncclient.validation import MAX_RESULTS_SEARCH_RUNS


def create_page_token(offset: int) -> str:
    """base64 of ``{"offset": N}``, byte-compatible with MLflow's tokens."""
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def parse_page_token(page_token: str | bytes | None) -> int:
    """The offset in a page token; 0 for none (``SearchUtils.parse_start_offset_from_page_token``)."""
    if not page_token:
        return 0
    try:
        decoded = base64.b64decode(page_token, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise MlflowException.invalid_parameter_value("Invalid page token, could not base64-decode") from None
    try:
        parsed = json.loads(decoded)
    except ValueError:
        raise MlflowException.invalid_parameter_value(f"Invalid page token, decoded value={decoded!r}") from None
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    if not offset:
        raise MlflowException.invalid_parameter_value(f"Invalid page token, parsed value={parsed}")
    try:
        offset = int(offset)
    except (TypeError, ValueError):
        raise MlflowException.invalid_parameter_value(f"Invalid page token, not stringable {offset}") from None
    if offset < 0:
        raise MlflowException.invalid_parameter_value(f"Invalid page token, negative offset {offset}")
    return offset


def check_max_results(max_results, allow_none: bool = False) -> None:
    """1 <= max_results <= 50000 (``SqlAlchemyStore._validate_max_results_param``)."""
    if max_results is None and allow_none:
        return
    if not isinstance(max_results, int) or isinstance(max_results, bool) or max_results < 1:
        raise MlflowException.invalid_parameter_value(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive integer")
    if max_results > MAX_RESULTS_SEARCH_RUNS:
        raise MlflowException.invalid_parameter_value(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at most "
            f"{MAX_RESULTS_SEARCH_RUNS}")

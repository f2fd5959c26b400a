"""Errors with MLflow's names and error codes, so code that catches ``MlflowException`` keeps working."""

from __future__ import annotations

# error_code -> HTTP status, as MLflow's ERROR_CODE_TO_HTTP_STATUS (mlflow-rest-compat.md §2).
ERROR_CODE_TO_HTTP_STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "CUSTOMER_UNAUTHORIZED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
INTERNAL_ERROR = "INTERNAL_ERROR"
INVALID_STATE = "INVALID_STATE"
BAD_REQUEST = "BAD_REQUEST"


class MlflowException(Exception):
    """Base error, as ``mlflow.exceptions.MlflowException``: a message plus an MLflow error code."""

    def __init__(self, message: str, error_code: str = INTERNAL_ERROR, **kwargs):
        self.message = str(message)
        self.error_code = error_code
        self.json_kwargs = kwargs
        super().__init__(self.message)

    def get_http_status_code(self) -> int:
        return ERROR_CODE_TO_HTTP_STATUS.get(self.error_code, 500)

    def serialize_as_json(self) -> dict:
        return {"error_code": self.error_code, "message": self.message, **self.json_kwargs}

    @classmethod
    def invalid_parameter_value(cls, message: str) -> MlflowException:
        return cls(message, error_code=INVALID_PARAMETER_VALUE)


class RestException(MlflowException):
    """An error body returned by a tracking server (``mlflow.exceptions.RestException``)."""

    def __init__(self, json: dict, http_status: int | None = None):
        code = json.get("error_code", INTERNAL_ERROR)
        message = f"{code}: {json.get('message', '')}"
        super().__init__(message, error_code=code)
        self.json = json
        self.http_status = http_status


class DeliveryError(MlflowException):
    """Logged data that the server refused or that could not be delivered.

    Raised by ``flush()``, ``end_run()`` and the exit of ``with start_run()``; ``failures`` lists one
    entry per refused batch with the run, the keys and the server's message.
    """

    def __init__(self, failures: list[dict]):
        self.failures = failures
        lines = []
        for f in failures[:20]:
            keys = ", ".join(sorted(f.get("keys", ())))
            lines.append(f"run {f['run_id']}: {f['message']} (keys: {keys or '-'}; {f.get('count', 0)} entries)")
        if len(failures) > 20:
            lines.append(f"... and {len(failures) - 20} more")
        super().__init__(
            "asyncclient could not deliver logged data:\n  " + "\n  ".join(lines),
            error_code=failures[0].get("error_code", INTERNAL_ERROR) if failures else INTERNAL_ERROR,
        )

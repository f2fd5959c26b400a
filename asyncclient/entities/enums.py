"""ViewType, RunStatus, LifecycleStage and SourceType as in MLflow (int codes, string names)."""

from asyncclient.exceptions import MlflowException


class ViewType:
    ACTIVE_ONLY, DELETED_ONLY, ALL = 1, 2, 3
    _NAMES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}

    @classmethod
    def from_string(cls, view_str: str) -> int:
        try:
            return cls._NAMES[view_str.upper()]
        except KeyError:
            raise MlflowException.invalid_parameter_value(
                f"Could not get valid view type corresponding to string {view_str}. "
                f"Valid view types are {list(cls._NAMES)}"
            ) from None

    @classmethod
    def to_string(cls, view_type: int) -> str:
        for name, value in cls._NAMES.items():
            if value == view_type:
                return name
        raise MlflowException.invalid_parameter_value(f"Could not get valid view type for {view_type}")


class RunStatus:
    RUNNING, SCHEDULED, FINISHED, FAILED, KILLED = 1, 2, 3, 4, 5
    _NAMES = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}
    _TERMINATED = {"FINISHED", "FAILED", "KILLED"}

    @classmethod
    def from_string(cls, status_str: str) -> int:
        try:
            return cls._NAMES[status_str]
        except KeyError:
            raise MlflowException.invalid_parameter_value(
                f"Could not get run status corresponding to string {status_str}. "
                f"Valid run status strings: {list(cls._NAMES)}"
            ) from None

    @classmethod
    def to_string(cls, status: int) -> str:
        for name, value in cls._NAMES.items():
            if value == status:
                return name
        raise MlflowException.invalid_parameter_value(f"Could not get string corresponding to run status {status}")

    @classmethod
    def is_terminated(cls, status: int | str) -> bool:
        name = status if isinstance(status, str) else cls.to_string(status)
        return name in cls._TERMINATED

    @classmethod
    def all_status(cls) -> list[int]:
        return list(cls._NAMES.values())


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"

    @classmethod
    def view_type_to_stages(cls, view_type: int = ViewType.ALL) -> list[str]:
        stages = []
        if view_type in (ViewType.ACTIVE_ONLY, ViewType.ALL):
            stages.append(cls.ACTIVE)
        if view_type in (ViewType.DELETED_ONLY, ViewType.ALL):
            stages.append(cls.DELETED)
        return stages


class SourceType:
    NOTEBOOK, JOB, PROJECT, LOCAL, UNKNOWN = 1, 2, 3, 4, 1000
    _NAMES = {"NOTEBOOK": 1, "JOB": 2, "PROJECT": 3, "LOCAL": 4, "UNKNOWN": 1000}

    @classmethod
    def to_string(cls, source_type: int) -> str:
        for name, value in cls._NAMES.items():
            if value == source_type:
                return name
        return "UNKNOWN"

    @classmethod
    def from_string(cls, name: str) -> int:
        return cls._NAMES.get(name, cls.UNKNOWN)

"""The store interface: what the embedded transport and the server call.

Method names and signatures follow MLflow's ``AbstractStore`` (mlflow/store/tracking/abstract_store.py) so
the same code answers the embedded client and the HTTP API. Errors are ``MlflowException`` with MLflow's
error codes (RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS, ...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from asyncclient.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    Metric,
    MetricWithRunId,
    ModelMetric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)


class TrackingStore(ABC):
    # ---- experiments ----
    @abstractmethod
    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: list[ExperimentTag] | None = None) -> str: ...

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment: ...

    @abstractmethod
    def get_experiment_by_name(self, experiment_name: str) -> Experiment | None: ...

    @abstractmethod
    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: str | None = None) -> PagedList[Experiment]: ...

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abstractmethod
    def delete_experiment(self, experiment_id: str) -> None: ...

    @abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None: ...

    @abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    # ---- runs ----
    @abstractmethod
    def create_run(self, experiment_id: str, user_id: str, start_time: int | None, tags: list[RunTag],
                   run_name: str | None, run_id: str | None = None) -> Run:
        """``run_id`` lets a client choose the id (uuid4 hex) so a retried create is idempotent."""

    @abstractmethod
    def get_run(self, run_id: str) -> Run: ...

    @abstractmethod
    def update_run_info(self, run_id: str, run_status: int | str | None, end_time: int | None,
                        run_name: str | None) -> RunInfo: ...

    @abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abstractmethod
    def log_batch(self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag],
                  model_metrics: list[ModelMetric] | None = None) -> None:
        """Idempotent: exact duplicate metric points are dropped, an identical param re-log is accepted;
        ``model_metrics`` (MLflow 3) also records points on their logged models."""

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, [metric], [], [])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, [], [param], [])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, [], [], [tag])

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abstractmethod
    def log_inputs(self, run_id: str, datasets: list[DatasetInput] | None = None) -> None: ...

    @abstractmethod
    def get_metric_history(self, run_id: str, metric_key: str, max_results: int | None = None,
                           page_token: str | None = None) -> PagedList[Metric]: ...

    @abstractmethod
    def get_metric_history_bulk_interval(self, run_ids: list[str], metric_key: str, max_results: int,
                                         start_step: int | None = None,
                                         end_step: int | None = None) -> list[MetricWithRunId]: ...

    @abstractmethod
    def search_runs(self, experiment_ids: list[str], filter_string: str = "",
                    run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000,
                    order_by: list[str] | None = None, page_token: str | None = None) -> PagedList[Run]: ...

    def close(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release connections (engine.dispose())."""

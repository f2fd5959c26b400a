"""Tracking entities with the names and attributes of ``mlflow.entities``."""

from asyncclient.entities.dataset import Dataset, DatasetInput, InputTag, RunInputs
from asyncclient.entities.enums import LifecycleStage, RunStatus, SourceType, ViewType
from asyncclient.entities.experiment import Experiment, ExperimentTag
from asyncclient.entities.file_info import FileInfo
from asyncclient.entities.logged_model import LoggedModel, LoggedModelOutput, LoggedModelStatus, ModelMetric
from asyncclient.entities.metric import Metric, MetricWithRunId
from asyncclient.entities.model_registry import ModelVersion, RegisteredModel
from asyncclient.entities.paged_list import PagedList
from asyncclient.entities.run import Param, Run, RunData, RunInfo, RunTag

__all__ = [
    "Dataset", "DatasetInput", "Experiment", "ExperimentTag", "FileInfo", "InputTag", "LifecycleStage", "LoggedModel", "LoggedModelOutput", "LoggedModelStatus",
    "Metric", "MetricWithRunId", "ModelMetric", "ModelVersion", "PagedList", "Param", "RegisteredModel", "Run", "RunData", "RunInfo", "RunInputs",
    "RunStatus", "RunTag", "SourceType", "ViewType",
]

"""The GraphQL schema MLflow's UI queries, written with graphene: type and field names are MLflow's
(``Mlflow<ProtoMessage>``, camelCase fields), values come from asyncclient's store.

Resolvers return plain dicts in MLflow's REST JSON shape. A field a dict lacks resolves to the proto default
(``""``, ``0``, ``[]``, an empty message), as MLflow's resolvers read unset proto fields; an enum resolves
from its name. NaN metric values are ``null`` (GraphQL floats cannot be NaN), as in MLflow.
"""

from __future__ import annotations

import math
from typing import Any

import graphene
from graphql import GraphQLEnumType, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from graphql.language.ast import IntValueNode

from asyncclient.entities import ViewType
from asyncclient.exceptions import MlflowException
from asyncclient.wire import experiment_to_json, run_to_json
from asyncclient.wire_models import model_version_to_json

MAX_RUNS_PER_BULK_REQUEST = 100
MAX_RESULTS_PER_RUN_INTERVAL = 2500


def proto_default_resolver(attname: str, default_value: Any, root: Any, info, **args) -> Any:
    """Dict lookup with proto3-like defaults for what is missing (MLflow resolves on proto messages)."""
    value = root.get(attname) if isinstance(root, dict) else getattr(root, attname, None)
    if value is not None:
        return value
    kind = info.return_type
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return []
    if isinstance(kind, GraphQLObjectType):
        return None if attname == "api_error" else {}
    if isinstance(kind, GraphQLEnumType):
        return None
    if isinstance(kind, GraphQLScalarType):
        return {"String": "", "Float": 0.0, "Boolean": False, "Int": 0, "LongString": 0}.get(kind.name)
    return None


class LongString(graphene.Scalar):
    """An int64 as a string, so JavaScript never rounds it (MLflow's ``LongString``)."""

    @staticmethod
    def serialize(value):
        return str(value)

    @staticmethod
    def parse_literal(node, _variables=None):
        return int(node.value) if isinstance(node, IntValueNode) else None

    @staticmethod
    def parse_value(value):
        return int(value)


def _object(type_name: str, /, **fields) -> type:
    """A graphene ObjectType named ``type_name`` with proto-default resolution."""
    return type(type_name, (graphene.ObjectType,), {
        **fields, "Meta": type("Meta", (), {"default_resolver": proto_default_resolver})})


MlflowRunStatus = graphene.Enum("MlflowRunStatus", [("RUNNING", 1), ("SCHEDULED", 2), ("FINISHED", 3),
                                                    ("FAILED", 4), ("KILLED", 5)])
MlflowViewType = graphene.Enum("MlflowViewType", [("ACTIVE_ONLY", 1), ("DELETED_ONLY", 2), ("ALL", 3)])
MlflowModelVersionStatus = graphene.Enum("MlflowModelVersionStatus", [
    ("PENDING_REGISTRATION", 1), ("FAILED_REGISTRATION", 2), ("READY", 3)])
MlflowDeploymentJobConnectionState = graphene.Enum("MlflowDeploymentJobConnectionState", [
    ("DEPLOYMENT_JOB_CONNECTION_STATE_UNSPECIFIED", 1), ("NOT_SET_UP", 2), ("CONNECTED", 3), ("NOT_FOUND", 4),
    ("REQUIRED_PARAMETERS_CHANGED", 5)])
MlflowModelVersionDeploymentJobStateDeploymentJobRunState = graphene.Enum(
    "MlflowModelVersionDeploymentJobStateDeploymentJobRunState", [
        ("DEPLOYMENT_JOB_RUN_STATE_UNSPECIFIED", 1), ("NO_VALID_DEPLOYMENT_JOB_FOUND", 2), ("RUNNING", 3),
        ("SUCCEEDED", 4), ("FAILED", 5), ("PENDING", 6), ("APPROVAL", 7)])


def _enum_value(enum, name: str | None):
    """The graphene enum member for a REST enum name (graphene serializes members, not names)."""
    return None if name is None else getattr(enum, name, None)


ErrorDetail = _object("ErrorDetail", field=graphene.String(), message=graphene.String())
ApiError = _object("ApiError", code=graphene.String(), message=graphene.String(), help_url=graphene.String(),
                   trace_id=graphene.String(), error_details=graphene.List(ErrorDetail))
KeyValue = {"key": graphene.String(), "value": graphene.String()}
MlflowExperimentTag = _object("MlflowExperimentTag", **KeyValue)
MlflowExperiment = _object(
    "MlflowExperiment", experiment_id=graphene.String(), name=graphene.String(),
    artifact_location=graphene.String(), lifecycle_stage=graphene.String(), last_update_time=LongString(),
    creation_time=LongString(), tags=graphene.List(graphene.NonNull(MlflowExperimentTag)),
    effective_trace_archival_retention=graphene.String(), workspace=graphene.String())
MlflowRunTag = _object("MlflowRunTag", **KeyValue)
MlflowParam = _object("MlflowParam", **KeyValue)
MlflowInputTag = _object("MlflowInputTag", **KeyValue)
MlflowModelVersionTag = _object("MlflowModelVersionTag", **KeyValue)
MlflowModelParam = _object("MlflowModelParam", name=graphene.String(), value=graphene.String())
_METRIC_FIELDS = {"key": graphene.String(), "timestamp": LongString(), "step": LongString(),
                  "dataset_name": graphene.String(), "dataset_digest": graphene.String(),
                  "model_id": graphene.String(), "run_id": graphene.String()}


def _finite(value):
    # REST JSON carries NaN as "NaN" and ±inf as strings; GraphQL floats cannot hold NaN: null, as MLflow.
    if isinstance(value, str):
        value = float(value.replace("Infinity", "inf"))
    return None if value is None or math.isnan(value) else value


MlflowMetricExtension = _object("MlflowMetricExtension", **_METRIC_FIELDS, value=graphene.Float(
    resolver=lambda root, info: _finite(root.get("value"))))
MlflowModelMetric = _object("MlflowModelMetric", **_METRIC_FIELDS, value=graphene.Float())
MlflowMetricWithRunId = _object("MlflowMetricWithRunId", key=graphene.String(), timestamp=LongString(),
                                step=LongString(), run_id=graphene.String(), value=graphene.Float(
                                    resolver=lambda root, info: _finite(root.get("value"))))
MlflowModelVersionDeploymentJobState = _object(
    "MlflowModelVersionDeploymentJobState", job_id=graphene.String(), run_id=graphene.String(),
    job_state=graphene.Field(MlflowDeploymentJobConnectionState),
    run_state=graphene.Field(MlflowModelVersionDeploymentJobStateDeploymentJobRunState),
    current_task_name=graphene.String())
MlflowModelVersion = _object(
    "MlflowModelVersion", name=graphene.String(), version=graphene.String(), creation_timestamp=LongString(),
    last_updated_timestamp=LongString(), user_id=graphene.String(), current_stage=graphene.String(),
    description=graphene.String(), source=graphene.String(), run_id=graphene.String(),
    status=graphene.Field(MlflowModelVersionStatus,
                          resolver=lambda root, info: _enum_value(MlflowModelVersionStatus, root.get("status"))),
    status_message=graphene.String(), tags=graphene.List(graphene.NonNull(MlflowModelVersionTag)),
    run_link=graphene.String(), aliases=graphene.List(graphene.String), model_id=graphene.String(),
    model_params=graphene.List(graphene.NonNull(MlflowModelParam)),
    model_metrics=graphene.List(graphene.NonNull(MlflowModelMetric)),
    deployment_job_state=graphene.Field(MlflowModelVersionDeploymentJobState,
                                        resolver=lambda root, info: root.get("deployment_job_state")))
MlflowDataset = _object("MlflowDataset", name=graphene.String(), digest=graphene.String(),
                        source_type=graphene.String(), source=graphene.String(), schema=graphene.String(),
                        profile=graphene.String())
MlflowDatasetInput = _object("MlflowDatasetInput", tags=graphene.List(graphene.NonNull(MlflowInputTag)),
                             dataset=graphene.Field(MlflowDataset))
MlflowModelInput = _object("MlflowModelInput", model_id=graphene.String())
MlflowModelOutput = _object("MlflowModelOutput", model_id=graphene.String(), step=LongString())
MlflowRunInputs = _object("MlflowRunInputs", dataset_inputs=graphene.List(graphene.NonNull(MlflowDatasetInput)),
                          model_inputs=graphene.List(graphene.NonNull(MlflowModelInput)))
MlflowRunOutputs = _object("MlflowRunOutputs", model_outputs=graphene.List(graphene.NonNull(MlflowModelOutput)))
MlflowRunData = _object("MlflowRunData", metrics=graphene.List(graphene.NonNull(MlflowMetricExtension)),
                        params=graphene.List(graphene.NonNull(MlflowParam)),
                        tags=graphene.List(graphene.NonNull(MlflowRunTag)))
MlflowRunInfo = _object(
    "MlflowRunInfo", run_id=graphene.String(), run_uuid=graphene.String(), run_name=graphene.String(),
    experiment_id=graphene.String(), user_id=graphene.String(),
    status=graphene.Field(MlflowRunStatus, resolver=lambda root, info: _enum_value(MlflowRunStatus, root.get("status"))),
    start_time=LongString(), end_time=LongString(), artifact_uri=graphene.String(),
    lifecycle_stage=graphene.String())


def _store(info):
    return info.context["store"]


def _resolve_run_experiment(root, info):
    experiment = _store(info).get_experiment(root["info"]["experiment_id"])
    return experiment_to_json(experiment)


def _resolve_run_model_versions(root, info):
    page = _store(info).search_model_versions(f"run_id='{root['info']['run_id']}'", 10000)
    return [model_version_to_json(v) for v in page]


MlflowRunExtension = _object(
    "MlflowRunExtension", info=graphene.Field(MlflowRunInfo), data=graphene.Field(MlflowRunData),
    inputs=graphene.Field(MlflowRunInputs), outputs=graphene.Field(MlflowRunOutputs),
    experiment=graphene.Field(MlflowExperiment, resolver=_resolve_run_experiment),
    model_versions=graphene.List(graphene.NonNull(MlflowModelVersion), resolver=_resolve_run_model_versions))
MlflowFileInfo = _object("MlflowFileInfo", path=graphene.String(), is_dir=graphene.Boolean(), file_size=LongString())
MlflowDatasetSummary = _object("MlflowDatasetSummary", experiment_id=graphene.String(), name=graphene.String(),
                               digest=graphene.String(), context=graphene.String())


def _response(name: str, **fields) -> type:
    return _object(name, **fields, apiError=graphene.Field(ApiError, resolver=lambda root, info: None))


MlflowGetExperimentResponse = _response("MlflowGetExperimentResponse", experiment=graphene.Field(MlflowExperiment))
MlflowGetRunResponse = _response("MlflowGetRunResponse", run=graphene.Field(MlflowRunExtension))
MlflowSearchRunsResponse = _response("MlflowSearchRunsResponse",
                                     runs=graphene.List(graphene.NonNull(MlflowRunExtension)),
                                     next_page_token=graphene.String())
MlflowListArtifactsResponse = _response("MlflowListArtifactsResponse", root_uri=graphene.String(),
                                        files=graphene.List(graphene.NonNull(MlflowFileInfo)),
                                        next_page_token=graphene.String())
MlflowGetMetricHistoryBulkIntervalResponse = _response(
    "MlflowGetMetricHistoryBulkIntervalResponse", metrics=graphene.List(graphene.NonNull(MlflowMetricWithRunId)))
MlflowSearchModelVersionsResponse = _response(
    "MlflowSearchModelVersionsResponse", model_versions=graphene.List(graphene.NonNull(MlflowModelVersion)),
    next_page_token=graphene.String())
MlflowSearchDatasetsResponse = _response(
    "MlflowSearchDatasetsResponse", dataset_summaries=graphene.List(graphene.NonNull(MlflowDatasetSummary)))


class MlflowGetExperimentInput(graphene.InputObjectType):
    experiment_id = graphene.String()


class MlflowGetRunInput(graphene.InputObjectType):
    run_id = graphene.String()
    run_uuid = graphene.String()


class MlflowSearchRunsInput(graphene.InputObjectType):
    experiment_ids = graphene.List(graphene.String)
    filter = graphene.String()
    run_view_type = graphene.Field(MlflowViewType)
    max_results = graphene.Int()
    order_by = graphene.List(graphene.String)
    page_token = graphene.String()


class MlflowListArtifactsInput(graphene.InputObjectType):
    run_id = graphene.String()
    run_uuid = graphene.String()
    path = graphene.String()
    page_token = graphene.String()


class MlflowGetMetricHistoryBulkIntervalInput(graphene.InputObjectType):
    run_ids = graphene.List(graphene.String)
    metric_key = graphene.String()
    start_step = graphene.Int()
    end_step = graphene.Int()
    max_results = graphene.Int()


class MlflowSearchModelVersionsInput(graphene.InputObjectType):
    filter = graphene.String()
    max_results = LongString()
    order_by = graphene.List(graphene.String)
    page_token = graphene.String()


class MlflowSearchDatasetsInput(graphene.InputObjectType):
    experiment_ids = graphene.List(graphene.String)


Test = _object("Test", output=graphene.String(description="Echoes the input string"))
TestMutation = _object("TestMutation", output=graphene.String(description="Echoes the input string"))


def _run_json(store, run) -> dict:
    body = run_to_json(run)
    outputs, model_inputs = store.get_run_model_edges(run.info.run_id)
    if outputs:
        body["outputs"] = {"model_outputs": [{"model_id": o.model_id, "step": o.step} for o in outputs]}
    if model_inputs:
        body["inputs"]["model_inputs"] = [{"model_id": m} for m in model_inputs]
    return body


def _search_runs(info, input) -> dict:
    """``mlflowSearchRuns``: the REST ``runs/search`` semantics (view type name or number, max 50000)."""
    view = input.get("run_view_type")
    view = ViewType.ACTIVE_ONLY if view is None else getattr(view, "value", view)
    page = _store(info).search_runs(list(input.get("experiment_ids") or []), input.get("filter") or "", view,
                                    input.get("max_results") or 1000, input.get("order_by") or None,
                                    input.get("page_token") or None)
    return {"runs": [_run_json(_store(info), r) for r in page], "next_page_token": page.token}


def _search_datasets(info, input) -> dict:
    ids = list(input.get("experiment_ids") or [])
    if not ids:
        raise MlflowException.invalid_parameter_value("SearchDatasets request must specify at least one experiment_id.")
    if len(ids) > 20:
        raise MlflowException.invalid_parameter_value(
            f"SearchDatasets request cannot specify more than 20 experiment_ids. Received {len(ids)} experiment_ids.")
    return {"dataset_summaries": [{k: v for k, v in s.items() if v is not None}
                                  for s in _store(info).search_datasets(ids)]}


class Query(graphene.ObjectType):
    mlflow_get_experiment = graphene.Field(MlflowGetExperimentResponse, input=MlflowGetExperimentInput())
    mlflow_get_metric_history_bulk_interval = graphene.Field(
        MlflowGetMetricHistoryBulkIntervalResponse, input=MlflowGetMetricHistoryBulkIntervalInput())
    mlflow_get_run = graphene.Field(MlflowGetRunResponse, input=MlflowGetRunInput())
    mlflow_list_artifacts = graphene.Field(MlflowListArtifactsResponse, input=MlflowListArtifactsInput())
    mlflow_search_model_versions = graphene.Field(MlflowSearchModelVersionsResponse,
                                                  input=MlflowSearchModelVersionsInput())
    mlflow_search_runs = graphene.Field(MlflowSearchRunsResponse, input=MlflowSearchRunsInput())
    test = graphene.Field(Test, input_string=graphene.String(), description="Simple echoing field")

    @staticmethod
    def resolve_mlflow_get_experiment(root, info, input):
        experiment_id = input.get("experiment_id")
        if not experiment_id:
            raise MlflowException.invalid_parameter_value(
                "Missing value for required parameter 'experiment_id'. See the API docs for more information "
                "about request parameters.")
        return {"experiment": experiment_to_json(_store(info).get_experiment(experiment_id))}

    @staticmethod
    def resolve_mlflow_get_run(root, info, input):
        run_id = input.get("run_id") or input.get("run_uuid")
        if not run_id:
            raise MlflowException.invalid_parameter_value(
                "Missing value for required parameter 'run_id'. See the API docs for more information about "
                "request parameters.")
        return {"run": _run_json(_store(info), _store(info).get_run(run_id))}

    @staticmethod
    def resolve_mlflow_search_runs(root, info, input):
        return _search_runs(info, input)

    @staticmethod
    def resolve_mlflow_list_artifacts(root, info, input):
        return info.context["list_artifacts"](input.get("run_id") or input.get("run_uuid"), input.get("path"))

    @staticmethod
    def resolve_mlflow_get_metric_history_bulk_interval(root, info, input):
        run_ids = list(input.get("run_ids") or [])
        if not run_ids:
            raise MlflowException.invalid_parameter_value(
                "Missing value for required parameter 'run_ids'. See the API docs for more information about "
                "request parameters.")
        if len(run_ids) > MAX_RUNS_PER_BULK_REQUEST:
            raise MlflowException.invalid_parameter_value(
                f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_PER_BULK_REQUEST} run_ids. "
                f"Received {len(run_ids)} run_ids. See the API docs for more information about request parameters.")
        max_results = input.get("max_results") or MAX_RESULTS_PER_RUN_INTERVAL
        if not 1 <= max_results <= MAX_RESULTS_PER_RUN_INTERVAL:
            raise MlflowException.invalid_parameter_value(
                f"max_results must be between 1 and {MAX_RESULTS_PER_RUN_INTERVAL}.")
        points = _store(info).get_metric_history_bulk_interval(
            run_ids, input.get("metric_key"), max_results, input.get("start_step"), input.get("end_step"))
        return {"metrics": [{"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step,
                             "run_id": m.run_id} for m in points]}

    @staticmethod
    def resolve_mlflow_search_model_versions(root, info, input):
        page = _store(info).search_model_versions(input.get("filter") or None, input.get("max_results") or 10000,
                                                  input.get("order_by") or None, input.get("page_token") or None)
        return {"model_versions": [model_version_to_json(v) for v in page], "next_page_token": page.token}

    @staticmethod
    def resolve_test(root, info, input_string=None):
        return {"output": input_string}


class Mutation(graphene.ObjectType):
    mlflow_search_datasets = graphene.Field(MlflowSearchDatasetsResponse, input=MlflowSearchDatasetsInput())
    mlflow_search_runs = graphene.Field(MlflowSearchRunsResponse, input=MlflowSearchRunsInput())
    testMutation = graphene.Field(TestMutation, input_string=graphene.String(), description="Simple echoing field")

    @staticmethod
    def resolve_mlflow_search_datasets(root, info, input):
        return _search_datasets(info, input)

    @staticmethod
    def resolve_mlflow_search_runs(root, info, input):
        return _search_runs(info, input)

    @staticmethod
    def resolve_testMutation(root, info, input_string=None):
        return {"output": input_string}


schema = graphene.Schema(query=Query, mutation=Mutation)

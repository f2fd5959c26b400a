"""LoggedModels and the Model Registry in ``SqlStore``, on SQLite and PostgreSQL (MLflow's SQL semantics)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from asyncclient.entities import LoggedModelOutput, LoggedModelStatus, Metric, ModelMetric
from asyncclient.exceptions import MlflowException


@pytest.fixture
def exp_run(store):
    exp = store.create_experiment("models")
    run = store.create_run(exp, "u", 1000, [], "r")
    return exp, run.info.run_id


def _model(store, exp, run, name="m", **kw):
    return store.create_logged_model(exp, name, run, kw.get("tags"), kw.get("params"), kw.get("model_type"))


# ---- logged models ----

def test_created_logged_model_is_pending_with_artifacts_under_the_experiment(store, exp_run):
    exp, run = exp_run
    lm = _model(store, exp, run, tags={"t": "1"}, params={"p": "x"})
    assert lm.model_id.startswith("m-") and lm.status == LoggedModelStatus.PENDING
    assert lm.artifact_location == store.get_experiment(exp).artifact_location + f"/models/{lm.model_id}/artifacts"
    assert (lm.tags, lm.params, lm.source_run_id) == ({"t": "1"}, {"p": "x"}, run)


def test_finalize_sets_status_and_deleted_models_are_not_found(store, exp_run):
    exp, run = exp_run
    lm = _model(store, exp, run)
    assert store.finalize_logged_model(lm.model_id, LoggedModelStatus.READY).status == LoggedModelStatus.READY
    store.delete_logged_model(lm.model_id)
    with pytest.raises(MlflowException) as e:
        store.get_logged_model(lm.model_id)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert store.get_logged_model(lm.model_id, allow_deleted=True).model_id == lm.model_id


def test_tags_upsert_and_delete_and_params_keep_first_value(store, exp_run):
    exp, run = exp_run
    lm = _model(store, exp, run, params={"p": "1"})
    store.set_logged_model_tags(lm.model_id, {"a": "1", "b": "2"})
    store.set_logged_model_tags(lm.model_id, {"a": "3"})
    store.delete_logged_model_tag(lm.model_id, "b")
    store.log_logged_model_params(lm.model_id, {"p": "2", "q": "3"})
    got = store.get_logged_model(lm.model_id)
    assert got.tags == {"a": "3"} and got.params == {"p": "1", "q": "3"}
    with pytest.raises(MlflowException, match="No tag"):
        store.delete_logged_model_tag(lm.model_id, "b")


def test_model_linked_metrics_land_on_the_run_and_the_model_in_one_batch(store, exp_run):
    exp, run = exp_run
    lm = _model(store, exp, run)
    store.log_batch(run, [Metric("acc", 0.9, 5, 1)], [], [],
                    model_metrics=[ModelMetric(lm.model_id, "acc", 0.9, 5, 1, "d", "abc")])
    assert store.get_run(run).data.metrics == {"acc": 0.9}
    [m] = store.get_logged_model(lm.model_id).metrics
    assert (m.key, m.value, m.step, m.run_id, m.dataset_name, m.dataset_digest) == ("acc", 0.9, 1, run, "d", "abc")


def test_a_metric_for_an_unknown_model_stores_nothing_of_the_batch(store, exp_run):
    _, run = exp_run
    with pytest.raises(MlflowException) as e:
        store.log_batch(run, [Metric("acc", 0.9, 5, 1)], [], [], model_metrics=[ModelMetric("m-x", "acc", 0.9, 5, 1)])
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert store.get_run(run).data.metrics == {}


def test_run_outputs_are_recorded_once(store, exp_run):
    exp, run = exp_run
    lm = _model(store, exp, run)
    store.log_outputs(run, [LoggedModelOutput(lm.model_id, 2)])
    store.log_outputs(run, [LoggedModelOutput(lm.model_id, 2)])
    outputs, inputs = store.get_run_model_edges(run)
    assert [(o.model_id, o.step) for o in outputs] == [(lm.model_id, 2)] and inputs == []


def test_search_logged_models_filters_by_attribute_metric_param_and_tag(store, exp_run):
    exp, run = exp_run
    a = _model(store, exp, run, "a", params={"p": "1"}, tags={"t": "x"})
    b = _model(store, exp, run, "b", params={"p": "2"})
    store.finalize_logged_model(b.model_id, LoggedModelStatus.READY)
    store.log_batch(run, [], [], [], model_metrics=[ModelMetric(a.model_id, "acc", 0.5, 1, 0),
                                                    ModelMetric(b.model_id, "acc", 0.9, 1, 0, "d", "abc")])

    def names(f=None, **kw):
        return [m.name for m in store.search_logged_models([exp], f, **kw)]
    assert names("metrics.acc > 0.6") == ["b"]
    assert names("params.p = '1' AND tags.t = 'x'") == ["a"]
    assert names("name LIKE 'a%'") == ["a"]
    assert names("status = 'READY'") == ["b"]
    assert names("metrics.acc > 0.1", datasets=[{"dataset_name": "d"}]) == ["b"]
    assert names(datasets=[{"dataset_name": "d"}]) == ["b"]  # by name, without a digest


def test_search_logged_models_orders_by_metric_with_missing_last_and_pages(store, exp_run):
    exp, run = exp_run
    ids = {n: _model(store, exp, run, n).model_id for n in ("x", "y", "z")}
    store.log_batch(run, [], [], [], model_metrics=[ModelMetric(ids["x"], "acc", 0.7, 1, 0),
                                                    ModelMetric(ids["y"], "acc", 0.2, 1, 0),
                                                    ModelMetric(ids["y"], "acc", 0.9, 2, 0)])
    order = [{"field_name": "metrics.acc", "ascending": True}]
    first = store.search_logged_models([exp], order_by=order, max_results=2)
    second = store.search_logged_models([exp], order_by=order, max_results=2, page_token=first.token)
    # y's latest acc is 0.9 (timestamp 2); z has none and sorts last.
    assert [m.name for m in first] + [m.name for m in second] == ["x", "y", "z"]
    assert second.token is None


def test_search_logged_models_rejects_bad_filters(store, exp_run):
    exp, _ = exp_run
    for bad in ("metrics.acc > 'x'", "name = 'a' OR name = 'b'", "runs.x = '1'", "status = 'BOGUS'"):
        with pytest.raises(MlflowException) as e:
            store.search_logged_models([exp], bad)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE", bad


# ---- the registry ----

def test_versions_are_numbered_per_model_and_never_reused_after_delete(store):
    store.create_registered_model("r")
    assert [store.create_model_version("r", f"s3://b/{i}").version for i in range(2)] == ["1", "2"]
    store.delete_model_version("r", "2")
    assert store.create_model_version("r", "s3://b/3").version == "3"
    assert [v.version for v in store.search_model_versions("name = 'r'")] == ["3", "1"]


def test_duplicate_and_missing_registered_models_use_mlflows_codes(store):
    store.create_registered_model("r")
    with pytest.raises(MlflowException) as dup:
        store.create_registered_model("r")
    with pytest.raises(MlflowException) as missing:
        store.get_model_version("r", "5")
    assert (dup.value.error_code, missing.value.error_code) == ("RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST")
    assert str(missing.value.message) == "Model Version (name=r, version=5) not found"


def test_alias_moves_and_follows_a_rename(store):
    store.create_registered_model("r")
    for _ in range(2):
        store.create_model_version("r", "s3://b/x")
    store.set_registered_model_alias("r", "champion", "1")
    store.set_registered_model_alias("r", "champion", "2")
    store.rename_registered_model("r", "r2")
    assert store.get_model_version_by_alias("r2", "champion").version == "2"
    assert store.get_registered_model("r2").aliases == {"champion": "2"}
    with pytest.raises(MlflowException, match="reserved"):
        store.set_registered_model_alias("r2", "latest", "1")


def test_stage_transition_archives_others_and_latest_versions_per_stage(store):
    store.create_registered_model("r")
    for _ in range(3):
        store.create_model_version("r", "s3://b/x")
    store.transition_model_version_stage("r", "1", "production")
    store.transition_model_version_stage("r", "2", "Production", archive_existing_versions=True)
    assert store.get_model_version("r", "1").current_stage == "Archived"
    assert [(v.version, v.current_stage) for v in store.get_latest_versions("r")] == [
        ("1", "Archived"), ("2", "Production"), ("3", "None")]
    assert [v.version for v in store.get_latest_versions("r", ["production"])] == ["2"]
    with pytest.raises(MlflowException, match="Invalid Model Version stage"):
        store.transition_model_version_stage("r", "3", "live")


def test_search_registered_models_filters_tags_pages_and_hides_prompts(store):
    for name in ("a1", "a2", "b1"):
        store.create_registered_model(name, tags={"team": name[0]})
    store.create_registered_model("p", tags={"mlflow.prompt.is_prompt": "true"})
    first = store.search_registered_models("name LIKE 'a%'", max_results=1)
    second = store.search_registered_models("name LIKE 'a%'", max_results=1, page_token=first.token)
    assert [m.name for m in first] + [m.name for m in second] == ["a1", "a2"]
    assert [m.name for m in store.search_registered_models("tags.team = 'b'")] == ["b1"]
    assert [m.name for m in store.search_registered_models()] == ["a1", "a2", "b1"]
    assert [m.name for m in store.search_registered_models("tags.`mlflow.prompt.is_prompt` = 'true'")] == ["p"]


def test_version_from_a_logged_model_resolves_storage_and_records_registration(store, exp_run):
    exp, run = exp_run
    lm = _model(store, exp, run)
    store.create_registered_model("r")
    mv = store.create_model_version("r", lm.model_uri, model_id=lm.model_id, storage_location=lm.artifact_location)
    assert mv.run_id == run
    assert store.get_model_version_download_uri("r", "1") == lm.artifact_location
    assert store.get_logged_model(lm.model_id).tags["mlflow.modelVersions"] == '[{"name": "r", "version": 1}]'


def test_delete_registered_model_removes_versions_tags_and_aliases(store, db_uri):
    store.create_registered_model("r", tags={"a": "b"})
    store.create_model_version("r", "s3://b/x", tags={"k": "v"})
    store.set_registered_model_alias("r", "x", "1")
    store.delete_registered_model("r")
    engine = sa.create_engine(db_uri)
    with engine.connect() as conn:
        for table in ("registered_models", "registered_model_tags", "model_versions", "model_version_tags",
                      "registered_model_aliases"):
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0, table
    engine.dispose()


# ---- migration 0003 ----

def test_migration_0003_creates_the_tables_the_schema_module_declares(store, db_uri):
    from asyncclient.store import schema

    engine = sa.create_engine(db_uri)
    inspector = sa.inspect(engine)
    for name in ("logged_models", "logged_model_metrics", "registered_models", "model_versions",
                 "registered_model_aliases", "run_model_outputs"):
        declared = schema.metadata.tables[name]
        assert {c["name"] for c in inspector.get_columns(name)} == {c.name for c in declared.columns}, name
        assert set(inspector.get_pk_constraint(name)["constrained_columns"]) == {c.name for c in declared.primary_key}
    engine.dispose()


def test_upgrade_from_0002_keeps_runs_and_adds_models(tmp_path):
    from alembic import command
    from alembic.config import Config

    from asyncclient.store import SqlStore
    from asyncclient.store.migrate import MIGRATIONS_DIR, upgrade

    uri = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(sa.text("INSERT INTO experiments (experiment_id, name, lifecycle_stage, artifact_location) "
                             "VALUES (0, 'Default', 'active', '/a/0')"))
        conn.execute(sa.text("INSERT INTO runs (run_uuid, experiment_id, status, lifecycle_stage) "
                             "VALUES ('r1', 0, 'RUNNING', 'active')"))
    engine.dispose()
    upgrade(uri)
    store = SqlStore(uri, f"file://{tmp_path}")
    lm = store.create_logged_model("0", "m", "r1")
    assert store.get_run("r1").info.run_id == "r1"
    assert store.get_logged_model(lm.model_id).artifact_location == f"/a/0/models/{lm.model_id}/artifacts"
    store.close()


def test_metric_ordered_pages_match_one_whole_page(store, exp_run):
    """The index walk used for metric order (when a page lies within the models having the metric) gives
    exactly the general query's pages: latest point by timestamp then step, NaN and missing last."""
    exp, run = exp_run
    ids = {n: _model(store, exp, run, n).model_id for n in "abcde"}
    nan = float("nan")
    store.log_batch(run, [], [], [], model_metrics=[
        ModelMetric(ids["a"], "acc", 0.9, 1, 0), ModelMetric(ids["a"], "acc", 0.1, 2, 0),  # latest is 0.1
        ModelMetric(ids["b"], "acc", 0.5, 1, 0),
        ModelMetric(ids["c"], "acc", nan, 1, 0),
        ModelMetric(ids["e"], "acc", 0.3, 1, 1), ModelMetric(ids["e"], "acc", 0.7, 1, 2)])  # same ts: step wins
    for ascending, expected in ((True, "abedc"), (False, "ebadc")):
        order = [{"field_name": "metrics.acc", "ascending": ascending}]
        whole = [m.name for m in store.search_logged_models([exp], order_by=order)]
        pages, token = [], None
        while True:
            page = store.search_logged_models([exp], order_by=order, max_results=1, page_token=token)
            pages += [m.name for m in page]
            token = page.token
            if not token:
                break
        assert whole == pages == list(expected), ascending

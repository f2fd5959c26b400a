"""asyncclient's autolog with the real libraries on tiny data, read back through MLflow's own client from
asyncclient's server; and a fit that never fails because its destination does."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import asyncclient


@pytest.fixture
def peer(asyncclient_server):
    from mlflow.tracking import MlflowClient

    return MlflowClient(asyncclient_server.url)


def last_run(peer, experiment):
    asyncclient.flush()
    return peer.search_runs([experiment.experiment_id], "", order_by=["attributes.start_time DESC"])[0]


def artifacts(peer, run_id: str, path: str | None = None) -> set[str]:
    return {f.path for f in peer.list_artifacts(run_id, path)}


def steps(peer, run_id: str, key: str) -> list[int]:
    return sorted(m.step for m in peer.get_metric_history(run_id, key))


def tiny_classification(n: int = 120):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


# ---- scikit-learn ----

def test_sklearn_fit_logs_params_training_metrics_tags_and_the_model(autolog_to, peer, tmp_path):
    from sklearn.linear_model import LogisticRegression

    asyncclient.sklearn.autolog()
    X, y = tiny_classification()
    LogisticRegression(C=0.5).fit(X, y)
    run = last_run(peer, autolog_to)
    assert run.info.status == "FINISHED"
    assert run.data.params["C"] == "0.5"
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert 0.8 < run.data.metrics["training_accuracy_score"] <= 1.0
    assert {"training_f1_score", "training_precision_score", "training_recall_score", "training_score"} <= set(
        run.data.metrics)
    assert artifacts(peer, run.info.run_id, "model") == {"model/model.pkl"}
    import pickle

    with open(peer.download_artifacts(run.info.run_id, "model/model.pkl", str(tmp_path)), "rb") as f:
        assert (pickle.load(f).predict(X) == LogisticRegression(C=0.5).fit(X, y).predict(X)).all()


@pytest.mark.parametrize("search_class", ["GridSearchCV", "RandomizedSearchCV"])
def test_a_search_makes_a_parent_run_and_child_runs_for_the_best_candidates(autolog_to, peer, search_class):
    from sklearn import model_selection
    from sklearn.linear_model import LogisticRegression

    asyncclient.sklearn.autolog(log_models=False, max_tuning_runs=2)
    X, y = tiny_classification()
    extra = {"n_iter": 3, "random_state": 0} if search_class == "RandomizedSearchCV" else {}
    # GridSearchCV(LogisticRegression(), {"C": [0.1, 1, 10]}).fit(X, y) is the call the issue saw fail.
    search = getattr(model_selection, search_class)(LogisticRegression(), {"C": [0.1, 1, 10]}, cv=3, **extra)
    search.fit(X, y)
    asyncclient.flush()
    everything = peer.search_runs([autolog_to.experiment_id])
    (parent,) = [r for r in everything if "mlflow.parentRunId" not in r.data.tags]  # one run: the search's
    children = peer.search_runs([autolog_to.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(everything) == 1 + len(children)
    assert parent.info.status == "FINISHED"
    assert parent.data.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.params["cv"] == "3"
    assert parent.data.tags["estimator_name"] == search_class
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert "cv_results.csv" in artifacts(peer, parent.info.run_id)
    assert len(children) == 2  # max_tuning_runs best candidates
    ranked = sorted(zip(search.cv_results_["rank_test_score"], search.cv_results_["params"], strict=True),
                    key=lambda t: t[0])
    assert {c.data.params["C"] for c in children} == {str(p["C"]) for _, p in ranked[:2]}
    for child in children:
        assert child.info.status == "FINISHED"
        assert {"mean_test_score", "std_test_score", "rank_test_score"} <= set(child.data.metrics)


def test_pipeline_logs_its_steps_params(autolog_to, peer):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    asyncclient.sklearn.autolog(log_models=False)
    X, y = tiny_classification()
    make_pipeline(StandardScaler(), LogisticRegression(C=2.0)).fit(X, y)
    run = last_run(peer, autolog_to)
    assert run.data.params["logisticregression__C"] == "2.0"
    assert run.data.params["standardscaler__with_mean"] == "True"
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert "training_accuracy_score" in run.data.metrics


def test_fit_inside_an_active_run_logs_to_it(autolog_to, peer):
    from sklearn.linear_model import LinearRegression

    asyncclient.sklearn.autolog(log_models=False)
    X, y = tiny_classification()
    with asyncclient.start_run() as active:
        LinearRegression().fit(X, y.astype(float))
    run = peer.get_run(active.info.run_id)
    assert {"training_r2_score", "training_mean_squared_error", "training_root_mean_squared_error",
            "training_mean_absolute_error", "training_score"} <= set(run.data.metrics)


# ---- XGBoost and LightGBM ----

def test_xgboost_logs_params_every_round_early_stopping_importance_and_model(autolog_to, peer):
    xgb = pytest.importorskip("xgboost")
    asyncclient.xgboost.autolog()
    X, y = tiny_classification(200)
    train, valid = xgb.DMatrix(X[:150], label=y[:150]), xgb.DMatrix(X[150:], label=y[150:])
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "eta": 0.3}, train, num_boost_round=200,
                        evals=[(train, "train"), (valid, "valid")], early_stopping_rounds=3, verbose_eval=False)
    run = last_run(peer, autolog_to)
    rounds = booster.num_boosted_rounds()
    assert run.info.status == "FINISHED" and rounds < 200  # early stopping happened
    assert run.data.params["max_depth"] == "2" and run.data.params["early_stopping_rounds"] == "3"
    assert run.data.params["num_boost_round"] == "200"
    assert steps(peer, run.info.run_id, "train-logloss")[: rounds] == list(range(rounds))
    assert run.data.metrics["best_iteration"] == booster.best_iteration
    assert run.data.metrics["stopped_iteration"] == rounds - 1
    assert {"feature_importance_weight.json", "model"} <= artifacts(peer, run.info.run_id)
    assert artifacts(peer, run.info.run_id, "model") == {"model/model.ubj"}


def test_xgboost_sklearn_api_is_logged_too(autolog_to, peer):
    xgb = pytest.importorskip("xgboost")
    asyncclient.xgboost.autolog(log_models=False)
    X, y = tiny_classification()
    xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y, eval_set=[(X, y)], verbose=False)
    run = last_run(peer, autolog_to)
    assert steps(peer, run.info.run_id, "validation_0-logloss") == list(range(5))


def test_lightgbm_logs_params_every_iteration_early_stopping_importance_and_model(autolog_to, peer, tmp_path):
    lgb = pytest.importorskip("lightgbm")
    asyncclient.lightgbm.autolog()
    X, y = tiny_classification(200)
    train = lgb.Dataset(X[:150], label=y[:150])
    valid = lgb.Dataset(X[150:], label=y[150:], reference=train)
    booster = lgb.train({"objective": "binary", "num_leaves": 4, "verbose": -1}, train, num_boost_round=300,
                        valid_sets=[valid], valid_names=["valid"], callbacks=[lgb.early_stopping(3, verbose=False)])
    run = last_run(peer, autolog_to)
    assert run.info.status == "FINISHED"
    assert run.data.params["num_leaves"] == "4" and run.data.params["num_boost_round"] == "300"
    assert steps(peer, run.info.run_id, "valid-binary_logloss")[:5] == [0, 1, 2, 3, 4]
    assert run.data.metrics["best_iteration"] == booster.best_iteration
    assert run.data.metrics["stopped_iteration"] == booster.current_iteration() < 300
    assert {"feature_importance_split.json", "feature_importance_gain.json"} <= artifacts(peer, run.info.run_id)
    path = peer.download_artifacts(run.info.run_id, "feature_importance_split.json", str(tmp_path))
    with open(path) as f:
        assert set(json.load(f)) == set(booster.feature_name())
    assert artifacts(peer, run.info.run_id, "model") == {"model/model.lgb"}


# ---- PyTorch Lightning ----

def test_lightning_logs_hyperparams_every_metric_with_its_step_and_epoch_timing(autolog_to, peer):
    pytest.importorskip("lightning")
    from tiny_lightning import train

    asyncclient.pytorch.autolog()
    train(logger=False, steps=10)
    run = last_run(peer, autolog_to)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["lr"] == "0.05" and params["hidden"] == "8"
    assert params["epochs"] == "2" and params["optimizer_name"] == "SGD"
    assert steps(peer, run.info.run_id, "train_loss") == list(range(10))
    assert len(steps(peer, run.info.run_id, "val_loss")) == 2
    assert steps(peer, run.info.run_id, "epoch_duration_seconds") == [0, 1]
    assert artifacts(peer, run.info.run_id, "model") == {"model/state_dict.pt"}


# ---- a failing destination never fails the user's fit ----

def _fits():
    def sklearn_fit():
        from sklearn.linear_model import LogisticRegression

        X, y = tiny_classification()
        return LogisticRegression().fit(X, y).predict(X)

    def xgboost_fit():
        import xgboost as xgb

        X, y = tiny_classification()
        d = xgb.DMatrix(X, label=y)
        return xgb.train({"objective": "binary:logistic"}, d, 3, evals=[(d, "train")], verbose_eval=False).predict(d)

    def lightgbm_fit():
        import lightgbm as lgb

        X, y = tiny_classification()
        d = lgb.Dataset(X, label=y)
        return lgb.train({"objective": "binary", "verbose": -1}, d, 3, valid_sets=[d]).predict(X)

    def lightning_fit():
        from tiny_lightning import train

        train(logger=False, steps=4)
        return [1]

    return {"sklearn": sklearn_fit, "xgboost": xgboost_fit, "lightgbm": lightgbm_fit, "pytorch": lightning_fit}


@pytest.mark.parametrize("flavor", ["sklearn", "xgboost", "lightgbm", "pytorch"])
def test_training_finishes_and_warns_once_when_the_destination_is_down(dead_destination, flavor):
    getattr(asyncclient, flavor).autolog()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = _fits()[flavor]()
        second = _fits()[flavor]()
    assert len(first) > 0 and len(second) > 0
    ours = [w for w in caught if "asyncclient autolog" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert "could not log this fit" in str(ours[0].message)


def test_autolog_disable_restores_the_libraries(autolog_to):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    before = (LogisticRegression.fit, GridSearchCV.fit)
    asyncclient.autolog()
    assert LogisticRegression.fit is not before[0]
    asyncclient.autolog(disable=True)
    assert (LogisticRegression.fit, GridSearchCV.fit) == before


def test_autolog_enables_each_library_when_it_is_imported_and_imports_none_itself():
    import subprocess
    import sys

    code = ("import sys, asyncclient\n"
            "asyncclient.autolog()\n"
            "assert not {'torch', 'lightning', 'xgboost', 'lightgbm'} & set(sys.modules), sorted(sys.modules)\n"
            "import xgboost\n"
            "assert xgboost.train.__asyncclient_autolog__\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]

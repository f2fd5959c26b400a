"""scikit-learn autologging, with MLflow's names (``mlflow.sklearn.autolog``).

Each outermost ``fit`` logs the estimator's params, its tags and MLflow's training metrics. Parameter
searches (``GridSearchCV``, ``RandomizedSearchCV``) log as MLflow does: the search's params, ``best_<param>``
params and ``best_cv_score`` on the parent run, one child run for each of the best ``max_tuning_runs``
candidates, and ``cv_results.csv`` as an artifact. Pipelines log their steps' params (``deep`` params).
With ``log_models`` the fitted estimator is pickled to the artifact ``model/model.pkl``.

As in MLflow, a fit with no active run starts one and ends it when the fit returns; a fit inside a run logs
to that run. Fits nested inside another fit (search candidates, pipeline steps) are not logged again.
Nothing here can make ``fit`` fail: logging errors are warned about once and training goes on.
"""

from __future__ import annotations

import functools

from asyncclient.autolog import _common

NAME = "sklearn"
_patched: dict[type, object] = {}
_settings = {"log_models": True, "max_tuning_runs": 5}


def _training_metrics(estimator, X, y, sample_weight=None) -> dict:
    """MLflow's training metric names: classifier or regressor metrics, and the estimator's own score."""
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    out = {}
    y_pred = estimator.predict(X)
    if is_classifier(estimator):
        average = "binary" if len(set(y)) <= 2 else "weighted"
        out["training_accuracy_score"] = metrics.accuracy_score(y, y_pred, sample_weight=sample_weight)
        out["training_precision_score"] = metrics.precision_score(y, y_pred, average=average, zero_division=0,
                                                                  sample_weight=sample_weight)
        out["training_recall_score"] = metrics.recall_score(y, y_pred, average=average, zero_division=0,
                                                            sample_weight=sample_weight)
        out["training_f1_score"] = metrics.f1_score(y, y_pred, average=average, zero_division=0,
                                                    sample_weight=sample_weight)
    elif is_regressor(estimator):
        mse = metrics.mean_squared_error(y, y_pred, sample_weight=sample_weight)
        out["training_mean_squared_error"] = mse
        out["training_root_mean_squared_error"] = mse ** 0.5
        out["training_mean_absolute_error"] = metrics.mean_absolute_error(y, y_pred, sample_weight=sample_weight)
        out["training_r2_score"] = metrics.r2_score(y, y_pred, sample_weight=sample_weight)
    if hasattr(estimator, "score"):
        out["training_score"] = estimator.score(X, y)
    return out


def _is_search(estimator) -> bool:
    return hasattr(estimator, "cv_results_") and hasattr(estimator, "best_params_")


def _log_search(run: _common.FitRun, search) -> None:
    import pandas as pd

    best = {f"best_{k}": v for k, v in search.best_params_.items()}
    _common.log_params(run.run_id, best)
    if getattr(search, "best_score_", None) is not None:
        _common.log_metrics(run.run_id, {"best_cv_score": search.best_score_})
    results = pd.DataFrame(search.cv_results_)
    _common.log_file(run.run_id, "cv_results.csv", lambda path: results.to_csv(path, index=False))
    ranked = results.sort_values("rank_test_score").head(_settings["max_tuning_runs"])
    client = _common.client()
    metric_columns = [c for c in results.columns if c.startswith(("mean_", "std_", "rank_"))]
    base_params = search.estimator.get_params(deep=False)
    for _, row in ranked.iterrows():
        child = client.create_run(run.experiment_id, tags={"mlflow.parentRunId": run.run_id,
                                                           "estimator_name": type(search.estimator).__name__})
        child_id = child.info.run_id
        _common.log_params(child_id, {**base_params, **row["params"]})
        _common.log_metrics(child_id, {c: row[c] for c in metric_columns})
        client.set_terminated(child_id)


def _log_fit(run: _common.FitRun, estimator, X, y, sample_weight) -> None:
    cls = type(estimator)
    _common.set_tags(run.run_id, {"estimator_name": cls.__name__,
                                  "estimator_class": f"{cls.__module__}.{cls.__name__}"})
    _common.log_params(run.run_id, estimator.get_params(deep=not _is_search(estimator)))
    if _is_search(estimator):
        _common.guarded(NAME, _log_search, run, estimator)
    if y is not None:
        target = estimator.best_estimator_ if _is_search(estimator) and hasattr(estimator, "best_estimator_") \
            else estimator
        metrics = _common.guarded(NAME, _training_metrics, target, X, y, sample_weight)
        if metrics:
            _common.log_metrics(run.run_id, metrics)
    if _settings["log_models"]:
        _common.log_pickled_model(run.run_id, estimator)


def _wrap(original):
    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        if _common.nested():
            return original(self, *args, **kwargs)
        run = _common.FitRun(NAME)
        with run:  # logging happens inside too: the fits and transforms it calls are not logged as fits
            result = original(self, *args, **kwargs)
            if run.run_id is not None:
                X = args[0] if args else kwargs.get("X")
                y = args[1] if len(args) > 1 else kwargs.get("y")
                _common.guarded(NAME, _log_fit, run, self, X, y, kwargs.get("sample_weight"))
        run.end()
        return result

    fit.__asyncclient_autolog__ = True
    return fit


def enable(silent: bool = False, log_models: bool = True, max_tuning_runs: int = 5) -> None:
    from sklearn.utils import all_estimators

    _settings.update(log_models=log_models, max_tuning_runs=max_tuning_runs)
    for _, cls in all_estimators():
        # Patched where fit is defined (GridSearchCV's is on BaseSearchCV): every subclass then goes through it.
        owner = next((k for k in cls.__mro__ if "fit" in k.__dict__), None)
        if owner is None or owner in _patched or getattr(owner.__dict__["fit"], "__asyncclient_autolog__", False):
            continue
        _patched[owner] = owner.__dict__["fit"]
        owner.fit = _wrap(owner.__dict__["fit"])


def disable() -> None:
    for cls, original in _patched.items():
        cls.fit = original
    _patched.clear()

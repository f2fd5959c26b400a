"""XGBoost autologging, with MLflow's names (``mlflow.xgboost.autolog``).

``xgboost.train`` (and the scikit-learn API, which calls it) logs its params, every evaluation metric at
every boosting round as ``<eval name>-<metric>`` with the round as step, ``stopped_iteration`` and
``best_iteration`` (plus each metric at the best round) under early stopping, the feature importance as
``feature_importance_weight.json`` and, with ``log_models``, the booster as ``model/model.ubj``.
Logging errors never stop training: they are warned about once.
"""

from __future__ import annotations

import functools

from asyncclient.autolog import _common

NAME = "xgboost"
_originals: dict[tuple[object, str], object] = {}
_settings = {"log_models": True}


def _callback_class():
    import xgboost

    class LogEveryRound(xgboost.callback.TrainingCallback):
        def __init__(self, run_id: str):
            super().__init__()
            self.run_id = run_id

        def after_iteration(self, model, epoch, evals_log) -> bool:
            latest = {f"{data}-{metric}": values[-1] for data, metrics in evals_log.items()
                      for metric, values in metrics.items()}
            _common.guarded(NAME, _common.log_metrics, self.run_id, latest, epoch)
            return False  # never asks training to stop

    return LogEveryRound


def _log_result(run_id: str, booster, evals_result: dict | None) -> None:
    best = getattr(booster, "best_iteration", None)
    if best is not None and "best_iteration" in booster.attributes():
        metrics = {"stopped_iteration": booster.num_boosted_rounds() - 1, "best_iteration": best}
        for data, by_metric in (evals_result or {}).items():
            for metric, values in by_metric.items():
                if best < len(values):
                    metrics[f"{data}-{metric}"] = values[best]
        _common.log_metrics(run_id, metrics, step=booster.num_boosted_rounds())
    importance = booster.get_score(importance_type="weight")
    _common.log_json(run_id, "feature_importance_weight.json", importance)
    if _settings["log_models"]:
        _common.log_file(run_id, "model.ubj", booster.save_model, "model")


def _wrap(original):
    @functools.wraps(original)
    def train(params, dtrain, num_boost_round=10, *args, **kwargs):
        if _common.nested():
            return original(params, dtrain, num_boost_round, *args, **kwargs)
        run = _common.FitRun(NAME)
        if run.run_id is not None:
            logged = dict(params or {}, num_boost_round=num_boost_round)
            if kwargs.get("early_stopping_rounds") is not None:
                logged["early_stopping_rounds"] = kwargs["early_stopping_rounds"]
            _common.guarded(NAME, _common.log_params, run.run_id, logged)
            callback = _common.guarded(NAME, lambda: _callback_class()(run.run_id))
            if callback is not None:
                kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), callback]
            user_evals_result = kwargs.get("evals_result")
            kwargs["evals_result"] = user_evals_result if user_evals_result is not None else {}
        with run:
            booster = original(params, dtrain, num_boost_round, *args, **kwargs)
            if run.run_id is not None:
                _common.guarded(NAME, _log_result, run.run_id, booster, kwargs.get("evals_result"))
        run.end()
        return booster

    train.__asyncclient_autolog__ = True
    return train


def enable(silent: bool = False, log_models: bool = True) -> None:
    import xgboost
    import xgboost.sklearn
    import xgboost.training

    _settings["log_models"] = log_models
    _common.replace_functions(_originals, (xgboost, xgboost.training, xgboost.sklearn), "train", _wrap)


def disable() -> None:
    _common.restore_functions(_originals)

"""LightGBM autologging, with MLflow's names (``mlflow.lightgbm.autolog``).

``lightgbm.train`` (and the scikit-learn API, which calls it) logs its params, every validation metric at
every iteration as ``<valid name>-<metric>`` with the iteration as step, ``stopped_iteration`` and
``best_iteration`` under early stopping, the feature importance as ``feature_importance_split.json`` and
``feature_importance_gain.json`` and, with ``log_models``, the booster as ``model/model.lgb``.
Logging errors never stop training: they are warned about once.
"""

from __future__ import annotations

import functools

from asyncclient.autolog import _common

NAME = "lightgbm"
_originals: dict[tuple[object, str], object] = {}
_settings = {"log_models": True}


def _callback(run_id: str):
    def log_every_iteration(env) -> None:
        latest = {f"{entry[0]}-{entry[1]}": entry[2] for entry in env.evaluation_result_list or ()}
        if latest:
            _common.guarded(NAME, _common.log_metrics, run_id, latest, env.iteration)

    log_every_iteration.order = 100  # after LightGBM's own callbacks (early stopping is 30)
    return log_every_iteration


def _log_result(run_id: str, booster) -> None:
    if booster.best_iteration > 0:
        _common.log_metrics(run_id, {"stopped_iteration": booster.current_iteration(),
                                     "best_iteration": booster.best_iteration},
                            step=booster.current_iteration())
    names = booster.feature_name()
    for kind in ("split", "gain"):
        values = booster.feature_importance(importance_type=kind)
        importance = {name: float(v) for name, v in zip(names, values, strict=True)}
        _common.log_json(run_id, f"feature_importance_{kind}.json", importance)
    if _settings["log_models"]:
        _common.log_file(run_id, "model.lgb", booster.save_model, "model")


def _wrap(original):
    @functools.wraps(original)
    def train(params, train_set, num_boost_round=100, *args, **kwargs):
        if _common.nested():
            return original(params, train_set, num_boost_round, *args, **kwargs)
        run = _common.FitRun(NAME)
        if run.run_id is not None:
            _common.guarded(NAME, _common.log_params, run.run_id, dict(params or {}, num_boost_round=num_boost_round))
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _callback(run.run_id)]
        with run:
            booster = original(params, train_set, num_boost_round, *args, **kwargs)
            if run.run_id is not None:
                _common.guarded(NAME, _log_result, run.run_id, booster)
        run.end()
        return booster

    train.__asyncclient_autolog__ = True
    return train


def enable(silent: bool = False, log_models: bool = True) -> None:
    import lightgbm
    import lightgbm.engine
    import lightgbm.sklearn

    _settings["log_models"] = log_models
    _common.replace_functions(_originals, (lightgbm, lightgbm.engine, lightgbm.sklearn), "train", _wrap)


def disable() -> None:
    _common.restore_functions(_originals)

"""scikit-learn autologging: each outermost ``fit`` logs the estimator's params, tags and training score.

As in MLflow, a fit with no active run starts one and ends it when the fit returns; a fit inside a run
logs to that run. Fits nested inside another fit (meta-estimators, pipelines) are not logged again.
"""

from __future__ import annotations

import functools
import threading

_patched: dict[type, object] = {}
_state = threading.local()


def _log_fit(estimator, args, kwargs, result) -> None:
    import asyncclient as mlflow

    params = {k: v for k, v in estimator.get_params(deep=False).items()}
    mlflow.log_params({k: str(v)[:6000] for k, v in params.items()})
    mlflow.set_tags({"estimator_name": type(estimator).__name__,
                     "estimator_class": f"{type(estimator).__module__}.{type(estimator).__name__}"})
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    if X is not None and y is not None and hasattr(estimator, "score"):
        try:
            mlflow.log_metric("training_score", float(estimator.score(X, y)))
        except Exception:  # a score that cannot be computed is not worth failing the user's fit
            pass


def _wrap(cls, original):
    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        if getattr(_state, "depth", 0) > 0:
            return original(self, *args, **kwargs)
        import asyncclient as mlflow

        started = mlflow.active_run() is None
        if started:
            mlflow.start_run()
        _state.depth = 1
        try:
            result = original(self, *args, **kwargs)
        except BaseException:
            _state.depth = 0
            if started:
                mlflow.end_run("FAILED")
            raise
        _state.depth = 0
        _log_fit(self, args, kwargs, result)
        if started:
            mlflow.end_run()
        return result

    fit.__asyncclient_autolog__ = True
    return fit


def enable(silent: bool = False) -> None:
    from sklearn.utils import all_estimators

    for _, cls in all_estimators():
        original = cls.__dict__.get("fit")
        if original is None or getattr(original, "__asyncclient_autolog__", False):
            continue
        _patched[cls] = original
        cls.fit = _wrap(cls, original)


def disable() -> None:
    for cls, original in _patched.items():
        cls.fit = original
    _patched.clear()

"""PyTorch Lightning autologging (``asyncclient.pytorch.autolog()``, as ``mlflow.pytorch.autolog()``).

``Trainer.fit`` gets an extra Lightning logger writing to asyncclient, so every metric the module logs
(``self.log``) arrives with the step Lightning gives it, as MLFlowLogger would store it, plus:
the module's hyperparameters and MLflow's ``epochs``, ``optimizer_name`` and ``lr`` params, and
``epoch_duration_seconds`` per epoch (step = epoch). With ``log_models`` the trained module's state dict is
saved as ``model/state_dict.pt``. Logging errors never stop training: they are warned about once.
"""

from __future__ import annotations

import functools
import time

from asyncclient.autolog import _common

NAME = "pytorch"
_originals: dict[type, object] = {}
_settings = {"log_models": True}


def _flatten(params, prefix: str = "") -> dict:
    out = {}
    for key, value in dict(params).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "/"))
        else:
            out[name] = value
    return out


def _logger_and_callback(run_id: str):
    from lightning.pytorch import Callback
    from lightning.pytorch.loggers import Logger

    class AsyncclientLogger(Logger):
        """Receives exactly what Lightning sends its loggers, with Lightning's steps."""

        @property
        def name(self) -> str:
            return "asyncclient"

        @property
        def version(self) -> str:
            return run_id

        def log_hyperparams(self, params, *args, **kwargs) -> None:
            params = vars(params) if hasattr(params, "__dict__") and not isinstance(params, dict) else params
            _common.guarded(NAME, _common.log_params, run_id, _flatten(params or {}))

        def log_metrics(self, metrics, step=None) -> None:
            values = {k: float(v) for k, v in metrics.items()}
            _common.guarded(NAME, _common.log_metrics, run_id, values, step or 0)

    class EpochTimingAndOptimizer(Callback):
        def on_train_start(self, trainer, pl_module) -> None:
            params = {"epochs": trainer.max_epochs}
            if trainer.optimizers:
                optimizer = trainer.optimizers[0]
                params["optimizer_name"] = type(optimizer).__name__
                params.update({k: v for k, v in optimizer.defaults.items() if k in ("lr", "weight_decay", "momentum")})
            _common.guarded(NAME, _common.log_params, run_id, params)

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            self.started = time.perf_counter()

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            _common.guarded(NAME, _common.log_metrics, run_id,
                            {"epoch_duration_seconds": time.perf_counter() - self.started}, trainer.current_epoch)

    return AsyncclientLogger(), EpochTimingAndOptimizer()


def _log_model(run_id: str, module) -> None:
    import torch

    _common.log_file(run_id, "state_dict.pt", lambda path: torch.save(module.state_dict(), path), "model")


def _wrap(original):
    @functools.wraps(original)
    def fit(self, model, *args, **kwargs):
        if _common.nested():
            return original(self, model, *args, **kwargs)
        run = _common.FitRun(NAME)
        added = None
        if run.run_id is not None:
            added = _common.guarded(NAME, _logger_and_callback, run.run_id)
            if added is not None:
                self.loggers = [*self.loggers, added[0]]
                self.callbacks.append(added[1])
        with run:
            result = original(self, model, *args, **kwargs)
        if added is not None:  # a later fit of the same trainer gets a run of its own
            self.loggers = [lg for lg in self.loggers if lg is not added[0]]
            self.callbacks.remove(added[1])
        if run.run_id is not None and _settings["log_models"]:
            _common.guarded(NAME, _log_model, run.run_id, model)
        run.end()
        return result

    fit.__asyncclient_autolog__ = True
    return fit


def enable(silent: bool = False, log_models: bool = True) -> None:
    from lightning.pytorch import Trainer

    _settings["log_models"] = log_models
    if not getattr(Trainer.fit, "__asyncclient_autolog__", False):
        _originals[Trainer] = Trainer.fit
        Trainer.fit = _wrap(Trainer.fit)


def disable() -> None:
    for cls, original in _originals.items():
        cls.fit = original
    _originals.clear()

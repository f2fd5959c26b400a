"""The integration examples run as written, on the data their libraries ship, into the embedded store."""

from __future__ import annotations

import os
import runpy

import pytest

import asyncclient
from asyncclient import config, fluent, session

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples")


@pytest.mark.parametrize("example, prints", [
    ("autolog_sklearn.py", "3 child runs"),
    ("autolog_xgboost.py", "best_iteration"),
    ("autolog_lightgbm.py", "best_iteration"),
    ("autolog_lightning.py", "train_loss points"),
])
def test_example_runs(example, prints, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # its ./mlruns is the test's
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    session.reset_session()
    config.set_tracking_uri(None)
    try:
        runpy.run_path(os.path.join(EXAMPLES, example), run_name="__main__")
    finally:
        asyncclient.autolog(disable=True)
        session.reset_session()
        fluent._active_experiment_id = None
    assert prints in capsys.readouterr().out

"""Integrations side by side in one run (issue 8).

(a) A small PyTorch Lightning training whose MLFlowLogger logs every step, to the same `mlflow server`
    (and to an asyncclient server): MLflow's own client (plain) vs the same code under
    ``asyncclient.patch_mlflow()``. Reported: wall time of ``fit``, time inside the logger's calls
    (log_hyperparams + log_metrics) and in its finalize (where the patched run waits for delivery), and the
    points stored afterwards. Acceptance: the patched run spends >= 10x less time in logging (calls +
    finalize) than the plain one.
(b) Autolog overhead on a small fit (scikit-learn, XGBoost, LightGBM; no active run, so each fit makes its
    own run, and log_models=False on both sides): median wall time of fit with MLflow's
    ``mlflow.<flavor>.autolog()`` and with asyncclient's ``autolog()``, minus the same fit without
    autologging, all logging to the same `mlflow server`.

Each contender runs in its own process (MLflow's settings and exit handlers stay apart) and prints one JSON
line. Usage: python benchmarks/bench_integrations.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from conftest import AsyncclientServer, MlflowServer  # noqa: E402  (the launchers the tests use)

LIGHTNING = r"""
import json, sys, time
import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import MLFlowLogger
from mlflow.tracking import MlflowClient
from torch.utils.data import DataLoader, TensorDataset

uri, experiment, steps, which = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if which == "patched":
    import asyncclient
    asyncclient.patch_mlflow()
spent = {"calls": 0.0, "finalize": 0.0}

class TimedMLFlowLogger(MLFlowLogger):  # the stock logger; only the time inside its calls is counted
    def log_metrics(self, metrics, step=None):
        t = time.perf_counter()
        super().log_metrics(metrics, step)
        spent["calls"] += time.perf_counter() - t
    def log_hyperparams(self, params):
        t = time.perf_counter()
        super().log_hyperparams(params)
        spent["calls"] += time.perf_counter() - t
    def finalize(self, status="success"):
        t = time.perf_counter()
        super().finalize(status)
        spent["finalize"] += time.perf_counter() - t

class Tiny(pl.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        self.log("train_mae", torch.nn.functional.l1_loss(self.net(x), y))
        return loss
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

torch.manual_seed(0)
x = torch.randn(steps * 8, 8)
loader = DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=8)
logger = TimedMLFlowLogger(experiment_name=experiment, tracking_uri=uri)
trainer = pl.Trainer(max_epochs=1, log_every_n_steps=1, logger=logger, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1)
t = time.perf_counter()
trainer.fit(Tiny(), loader)
wall = time.perf_counter() - t
if which == "patched":
    asyncclient.unpatch_mlflow()  # MLflow's own client reads back what was stored
stored = len(MlflowClient(uri).get_metric_history(logger.run_id, "train_loss"))
print(json.dumps({"wall": wall, **spent, "stored": stored}))
"""

AUTOLOG = r"""
import json, statistics, sys, time
import numpy as np
uri, experiment, library, which, repeats = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
rng = np.random.default_rng(0)
X = rng.normal(size=(400, 10))
y = (X[:, 0] + X[:, 1] > 0).astype(int)

if library == "sklearn":
    from sklearn.linear_model import LogisticRegression
    def fit():
        LogisticRegression(max_iter=200).fit(X, y)
elif library == "xgboost":
    import xgboost as xgb
    def fit():
        d = xgb.DMatrix(X, label=y)
        xgb.train({"objective": "binary:logistic", "max_depth": 3}, d, num_boost_round=20, evals=[(d, "train")],
                  verbose_eval=False)
else:
    import lightgbm as lgb
    def fit():
        d = lgb.Dataset(X, label=y)
        lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 7}, d, num_boost_round=20, valid_sets=[d],
                  valid_names=["train"])

if which == "mlflow":
    import mlflow
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    getattr(mlflow, library).autolog(log_models=False)
elif which == "asyncclient":
    import asyncclient
    asyncclient.set_tracking_uri(uri)
    asyncclient.set_experiment(experiment)
    asyncclient.autolog(log_models=False)
fit()  # warm-up: imports and first-call costs are not per-fit overhead
times = []
for _ in range(repeats):
    t = time.perf_counter()
    fit()
    times.append(time.perf_counter() - t)
print(json.dumps({"median": statistics.median(times)}))
"""


def run(code: str, args: list, env: dict, cwd: str, timeout: float = 1200) -> dict:
    path = os.path.join(cwd, "contender.py")
    with open(path, "w") as f:
        f.write(textwrap.dedent(code))
    out = subprocess.run([sys.executable, path, *map(str, args)], capture_output=True, text=True, env=env,
                         cwd=cwd, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{args}: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def lightning(servers: dict, env: dict, workdir: str, quick: bool) -> None:
    steps = 200 if quick else 1000
    print(f"(a) Lightning, MLFlowLogger logging 2 metrics every step, {steps:,} steps: plain MLflow vs "
          "patch_mlflow()")
    for name, url in servers.items():
        results = {}
        for which in ("plain", "patched"):
            r = run(LIGHTNING, [url, f"lightning-{which}", steps, which], env, workdir)
            assert r["stored"] == steps, r
            results[which] = r
            logging = r["calls"] + r["finalize"]
            print(f"  -> {name:18} {which:8} fit {r['wall']:7.2f} s   in logger calls {r['calls']:7.3f} s   "
                  f"finalize {r['finalize']:6.3f} s   logging total {logging:7.3f} s   stored {r['stored']:,}")
        plain, patched = (results[w]["calls"] + results[w]["finalize"] for w in ("plain", "patched"))
        ratio = plain / patched
        print(f"     time in logging: {ratio:6.1f}x less when patched ({'meets' if ratio >= 10 else 'MISSES'} the 10x "
              f"target); fit wall time {results['plain']['wall'] / results['patched']['wall']:5.1f}x shorter")


def autolog(url: str, env: dict, workdir: str, quick: bool) -> None:
    repeats = 5 if quick else 15
    print(f"(b) autolog overhead per small fit (400 x 10, no active run: each fit makes its own run), median of "
          f"{repeats}, to the mlflow server")
    for library in ("sklearn", "xgboost", "lightgbm"):
        base = run(AUTOLOG, [url, "autolog-none", library, "none", repeats], env, workdir)["median"]
        theirs = run(AUTOLOG, [url, f"autolog-mlflow-{library}", library, "mlflow", repeats], env, workdir)["median"]
        ours = run(AUTOLOG, [url, f"autolog-asyncclient-{library}", library, "asyncclient", repeats], env,
                   workdir)["median"]
        o_theirs, o_ours = theirs - base, ours - base
        print(f"  {library:9} fit alone {base * 1000:7.1f} ms   overhead: MLflow autolog {o_theirs * 1000:8.1f} ms   "
              f"asyncclient autolog {o_ours * 1000:7.1f} ms   ({o_theirs / max(o_ours, 1e-4):5.1f}x less)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-integrations-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PYTHONPATH"] = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    env["ASYNCCLIENT_SPOOL_DIR"] = os.path.join(workdir, "spool")
    mlflow_dir, ours_dir = os.path.join(workdir, "mlflow"), os.path.join(workdir, "ours")
    os.makedirs(mlflow_dir)
    os.makedirs(ours_dir)
    peer, ours = MlflowServer(mlflow_dir).start(), AsyncclientServer(ours_dir).start()
    try:
        lightning({"mlflow server": peer.url, "asyncclient server": ours.url}, env, workdir, args.quick)
        autolog(peer.url, env, workdir, args.quick)
    finally:
        peer.stop()
        ours.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

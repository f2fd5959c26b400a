"""MLflow's own code made fast: Lightning's MLFlowLogger, unchanged, logging through asyncclient.

patch_mlflow() redirects writes to tracking servers, so start one first:

    asyncclient server --port 5000 &      # or: mlflow server --port 5000
    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python examples/patch_mlflow_lightning.py

(An unedited script gets the same with `python -m asyncclient.patch script.py`.)
"""

import os
import sys
import time

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import MLFlowLogger
from torch.utils.data import DataLoader, TensorDataset

import asyncclient

uri = os.environ.get("MLFLOW_TRACKING_URI", "")
if not uri.startswith(("http://", "https://")):
    sys.exit("Set MLFLOW_TRACKING_URI to a tracking server (http://...): patch_mlflow() redirects writes to servers.")


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(8, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


asyncclient.patch_mlflow()  # from here on, MLflow's logging calls return in microseconds
x = torch.randn(2000, 8)
loader = DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=8)
logger = MLFlowLogger(experiment_name="patched-lightning", tracking_uri=uri)
trainer = pl.Trainer(max_epochs=1, log_every_n_steps=1, logger=logger, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
started = time.perf_counter()
trainer.fit(Tiny(), loader)  # MLFlowLogger's finalize waits until every point is stored
print(f"run {logger.run_id}: {len(loader)} steps logged and stored in {time.perf_counter() - started:.1f} s")

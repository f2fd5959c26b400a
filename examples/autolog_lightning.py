"""PyTorch Lightning autolog: hyperparameters, every metric the module logs with its step, epoch timing."""

import lightning.pytorch as pl
import torch
from sklearn.datasets import load_diabetes
from torch.utils.data import DataLoader, TensorDataset

import asyncclient


class Regressor(pl.LightningModule):
    def __init__(self, lr: float = 0.01, hidden: int = 16):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(10, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


experiment = asyncclient.set_experiment("autolog-lightning")
asyncclient.pytorch.autolog()

X, y = load_diabetes(return_X_y=True)
data = TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y / 100, dtype=torch.float32).unsqueeze(1))
trainer = pl.Trainer(max_epochs=3, log_every_n_steps=1, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
trainer.fit(Regressor(), DataLoader(data, batch_size=32, shuffle=True))

run = asyncclient.MlflowClient().search_runs(experiment.experiment_id, order_by=["attributes.start_time DESC"],
                                            max_results=1)[0]
history = asyncclient.MlflowClient().get_metric_history(run.info.run_id, "train_loss")
print(f"run {run.info.run_id}: {len(history)} train_loss points, last {history[-1].value:.3f}")

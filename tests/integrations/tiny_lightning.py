"""A tiny Lightning training (a 4-input MLP on random data) for the integration tests."""

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class TinyRegressor(pl.LightningModule):
    def __init__(self, lr: float = 0.05, hidden: int = 8):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def train(logger, steps: int, callbacks=()) -> None:
    """Two epochs of ``steps // 2`` batches each, every step logged, two validation batches per epoch."""
    torch.manual_seed(0)
    x = torch.randn(steps * 4, 4)
    data = TensorDataset(x, x.sum(dim=1, keepdim=True))
    trainer = pl.Trainer(max_epochs=2, limit_train_batches=steps // 2, limit_val_batches=2, log_every_n_steps=1,
                         logger=logger, callbacks=list(callbacks), enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1)
    trainer.fit(TinyRegressor(), DataLoader(data, batch_size=4), DataLoader(data, batch_size=4))

"""The README's main job: log a few runs with no configuration, then find the best one (the seed's way).

Runs land in ./mlruns (a SQLite database plus artifacts), like MLflow's default local store.
"""

import random

import asyncclient as mlflow

mlflow.set_experiment("quickstart")

for lr in (0.1, 0.03, 0.01, 0.003):
    with mlflow.start_run(run_name=f"lr={lr}"):
        mlflow.log_param("lr", lr)
        mlflow.log_param("epochs", 50)
        loss = 1.0
        for epoch in range(50):
            # A made-up training curve: a good learning rate converges lower.
            loss = loss * (1 - min(lr * 8, 0.5)) + random.uniform(0, 0.01) + abs(lr - 0.01)
            mlflow.log_metric("train_loss", loss, step=epoch)
        mlflow.log_metric("val_loss", loss * 1.1)

client = mlflow.tracking.MlflowClient()
experiment_id = mlflow.get_experiment_by_name("quickstart").experiment_id
best_run = client.search_runs(experiment_id, order_by=["metrics.val_loss ASC"], max_results=1)[0]
print(f"best run: {best_run.info.run_name} ({best_run.info.run_id})")
print(f"  params:  {best_run.data.params}")
print(f"  metrics: {best_run.data.metrics}")
print(f"logged to {mlflow.get_tracking_uri()}")
print("see them again: python -c \"import asyncclient; print(asyncclient.MlflowClient().search_runs('"
      + experiment_id + "'))\"")
print("or browse them: asyncclient ui, then open http://127.0.0.1:5000 (MLflow's clients work against it too)")

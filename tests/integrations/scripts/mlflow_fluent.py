"""Plain MLflow fluent code, unedited (argv: tracking URI, experiment, steps); prints a JSON line."""

import json
import sys

import mlflow

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment(sys.argv[2])
with mlflow.start_run() as run:
    mlflow.log_params({"lr": 0.1, "batch": 32})
    mlflow.set_tag("script", "fluent")
    for step in range(int(sys.argv[3])):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
print(json.dumps({"run_id": run.info.run_id, "log_metric": mlflow.log_metric.__code__.co_filename}))

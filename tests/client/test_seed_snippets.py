"""The seed document's snippets run unchanged (but for the import) in an empty folder, into ./mlruns."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SNIPPETS = textwrap.dedent('''
    import asyncclient as mlflow

    val_loss = 0.123
    with mlflow.start_run():
        mlflow.log_param("lr", 0.001)
        # Your ml code
        ...
        mlflow.log_metric("val_loss", val_loss)

    mlflow.autolog()
    # Your training code...
    from sklearn.linear_model import LogisticRegression
    LogisticRegression(C=0.5).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])

    client = mlflow.tracking.MlflowClient()
    experiment_id = "0"
    best_run = client.search_runs(
        experiment_id, order_by=["metrics.val_loss ASC"], max_results=1
    )[0]
    print(best_run.info)
    print("BEST", best_run.data.metrics)

    experiment_name = "your_experiment_name"
    mlflow.create_experiment(experiment_name, artifact_location="s3://your-bucket")
    mlflow.set_experiment(experiment_name)
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
    print("ARTIFACTS", run.info.artifact_uri)

    autologged = client.search_runs("0", "tags.estimator_name = 'LogisticRegression'")
    print("AUTOLOG", autologged[0].data.params["C"], sorted(autologged[0].data.metrics))
''')


def test_seed_snippets_run_in_an_empty_folder_with_no_configuration(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    out = subprocess.run([sys.executable, "-c", SNIPPETS], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "BEST {'val_loss': 0.123}" in out.stdout
    assert "<RunInfo: " in out.stdout and "status='FINISHED'" in out.stdout
    assert "ARTIFACTS s3://your-bucket/" in out.stdout
    assert ("AUTOLOG 0.5 ['training_accuracy_score', 'training_f1_score', 'training_precision_score', "
            "'training_recall_score', 'training_score']") in out.stdout
    assert (tmp_path / "mlruns" / "mlflow.db").exists()

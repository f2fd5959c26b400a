"""scikit-learn autolog: a grid search on iris becomes a parent run with a child run per best candidate.

Runs land in ./mlruns (no configuration); `asyncclient ui` shows them.
"""

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import asyncclient

experiment = asyncclient.set_experiment("autolog-sklearn")
asyncclient.sklearn.autolog(max_tuning_runs=3)

X, y = load_iris(return_X_y=True)
search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
                      {"logisticregression__C": [0.01, 0.1, 1, 10]}, cv=3)
search.fit(X, y)

client = asyncclient.MlflowClient()
parent = client.search_runs(experiment.experiment_id, "tags.estimator_name = 'GridSearchCV'",
                            order_by=["attributes.start_time DESC"], max_results=1)[0]
children = client.search_runs(experiment.experiment_id, f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
print(f"search run {parent.info.run_id}: best_cv_score {parent.data.metrics['best_cv_score']:.3f}, "
      f"{len(children)} child runs")

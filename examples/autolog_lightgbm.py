"""LightGBM autolog: every iteration's validation metrics, early stopping, feature importance, the model."""

import lightgbm as lgb
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

import asyncclient

experiment = asyncclient.set_experiment("autolog-lightgbm")
asyncclient.lightgbm.autolog()

X, y = load_diabetes(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, random_state=0)
train = lgb.Dataset(X_train, label=y_train)
valid = lgb.Dataset(X_valid, label=y_valid, reference=train)
booster = lgb.train({"objective": "regression", "num_leaves": 8, "verbose": -1}, train, num_boost_round=500,
                    valid_sets=[valid], valid_names=["valid"], callbacks=[lgb.early_stopping(10, verbose=False)])

run = asyncclient.MlflowClient().search_runs(experiment.experiment_id, order_by=["attributes.start_time DESC"],
                                            max_results=1)[0]
print(f"run {run.info.run_id}: best_iteration {run.data.metrics['best_iteration']:.0f}, "
      f"valid-l2 {run.data.metrics['valid-l2']:.1f}")

"""XGBoost autolog: every boosting round's eval metrics, early stopping, feature importance, the model."""

import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import asyncclient

experiment = asyncclient.set_experiment("autolog-xgboost")
asyncclient.xgboost.autolog()

X, y = load_breast_cancer(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, random_state=0)
train, valid = xgb.DMatrix(X_train, label=y_train), xgb.DMatrix(X_valid, label=y_valid)
booster = xgb.train({"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 3}, train,
                    num_boost_round=500, evals=[(train, "train"), (valid, "valid")], early_stopping_rounds=10,
                    verbose_eval=False)

run = asyncclient.MlflowClient().search_runs(experiment.experiment_id, order_by=["attributes.start_time DESC"],
                                            max_results=1)[0]
print(f"run {run.info.run_id}: best_iteration {run.data.metrics['best_iteration']:.0f}, "
      f"valid-logloss {run.data.metrics['valid-logloss']:.4f}")

"""Model search benchmarks: asyncclient's ``SqlStore`` vs MLflow's ``SqlAlchemyStore`` stores on the same
data, same results asserted, ratios from one run (SQLite; ``--postgres URI`` adds PostgreSQL).

1. ``search_logged_models`` over 10,000 logged models (3 params, 2 tags, 2 metrics each): a metric + param
   filter ordered by a metric, 100 results (MLflow's default page).
2. ``search_registered_models`` over 10,000 registered models (2 versions, 2 tags each): a name LIKE + tag
   filter, 1000 results (MLflow's maximum page).
3. ``search_model_versions`` over their 20,000 versions: a name LIKE filter, 1000 results.

Target: each >= 5x faster than MLflow's store. Times are the best of several calls for both contenders.

    python benchmarks/bench_models.py [--quick] [--postgres postgresql://user@host:port/db | --no-postgres]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asyncclient.store import SqlStore  # noqa: E402
from asyncclient.store import schema as t  # noqa: E402

LM_FILTER = "metrics.acc > 0.5 AND params.lr = '0.01'"
LM_ORDER = [{"field_name": "metrics.acc", "ascending": False}]
RM_FILTER = "name LIKE 'model-01%' AND tags.team = 'vision'"
MV_FILTER = "name LIKE 'model-01%'"
NOW = 1_700_000_000_000


def _dataset(n: int, seed: int = 11) -> dict:
    rng = random.Random(seed)
    models = [{"model_id": f"m-{rng.getrandbits(128):032x}", "name": f"lm-{i % 50}", "created": NOW + i,
               "lr": rng.choice(["0.1", "0.01", "0.001"]), "acc": rng.random(), "loss": rng.random()}
              for i in range(n)]
    registered = [{"name": f"model-{i:05d}", "created": NOW + i, "team": rng.choice(["vision", "nlp", "tabular"])}
                  for i in range(n)]
    return {"logged": models, "registered": registered}


def _logged_rows(data: dict, run_id: str, experiment_id: int) -> tuple[list, list, list, list]:
    models, params, tags, metrics = [], [], [], []
    for m in data["logged"]:
        models.append({"model_id": m["model_id"], "experiment_id": experiment_id, "name": m["name"],
                       "artifact_location": f"file:///a/{m['model_id']}", "creation_timestamp_ms": m["created"],
                       "last_updated_timestamp_ms": m["created"], "status": 2, "lifecycle_stage": "active",
                       "model_type": "", "source_run_id": run_id})
        params += [{"model_id": m["model_id"], "param_key": k, "param_value": v}
                   for k, v in (("lr", m["lr"]), ("depth", "3"), ("seed", "7"))]
        tags += [{"model_id": m["model_id"], "tag_key": k, "tag_value": v}
                 for k, v in (("mlflow.user", "bench"), ("stage", "dev"))]
        metrics += [{"model_id": m["model_id"], "metric_name": k, "metric_timestamp_ms": m["created"], "metric_step": 0,
                     "metric_value": v, "run_id": run_id} for k, v in (("acc", m["acc"]), ("loss", m["loss"]))]
    return models, params, tags, metrics


def _registry_rows(data: dict) -> tuple[list, list, list, list]:
    models, tags, versions, version_tags = [], [], [], []
    for r in data["registered"]:
        models.append({"name": r["name"], "creation_time": r["created"], "last_updated_time": r["created"]})
        tags += [{"name": r["name"], "key": "team", "value": r["team"]}, {"name": r["name"], "key": "owner", "value": "x"}]
        for v in (1, 2):
            versions.append({"name": r["name"], "version": v, "creation_time": r["created"] + v,
                             "last_updated_time": r["created"] + v, "current_stage": "None", "source": "s3://b/m",
                             "status": "READY", "run_id": "", "run_link": "", "description": ""})
            version_tags.append({"name": r["name"], "version": v, "key": "k", "value": "v"})
    return models, tags, versions, version_tags


def load_ours(store: SqlStore, data: dict) -> None:
    """Bulk insert straight into our tables (setup only; the benchmark measures search)."""
    run_id = store.create_run("0", "bench", NOW, [], "bench").info.run_id
    models, params, tags, metrics = _logged_rows(data, run_id, 0)
    for m in metrics:
        m.pop("experiment_id", None)
    rms, rm_tags, mvs, mv_tags = _registry_rows(data)
    with store.engine.begin() as conn:
        for table, rows in ((t.logged_models, models), (t.logged_model_params, params), (t.logged_model_tags, tags),
                            (t.logged_model_metrics, metrics), (t.registered_models, rms),
                            (t.registered_model_tags, rm_tags), (t.model_versions, mvs),
                            (t.model_version_tags, mv_tags)):
            conn.execute(sa.insert(table), rows)


def load_mlflow(tracking, registry, data: dict) -> None:
    from mlflow.store.model_registry.dbmodels.models import (
        SqlModelVersion,
        SqlModelVersionTag,
        SqlRegisteredModel,
        SqlRegisteredModelTag,
    )
    from mlflow.store.tracking.dbmodels.models import (
        SqlLoggedModel,
        SqlLoggedModelMetric,
        SqlLoggedModelParam,
        SqlLoggedModelTag,
    )

    run_id = tracking.create_run("0", "bench", NOW, [], "bench").info.run_id
    models, params, tags, metrics = _logged_rows(data, run_id, 0)
    for rows in (params, tags, metrics):
        for r in rows:
            r["experiment_id"] = 0  # MLflow's child tables repeat the experiment id
    with tracking.engine.begin() as conn:
        for model, rows in ((SqlLoggedModel, models), (SqlLoggedModelParam, params), (SqlLoggedModelTag, tags),
                            (SqlLoggedModelMetric, metrics)):
            conn.execute(sa.insert(model.__table__), rows)
    rms, rm_tags, mvs, mv_tags = _registry_rows(data)
    with registry.engine.begin() as conn:
        for model, rows in ((SqlRegisteredModel, rms), (SqlRegisteredModelTag, rm_tags), (SqlModelVersion, mvs),
                            (SqlModelVersionTag, mv_tags)):
            conn.execute(sa.insert(model.__table__), rows)


def _timed(fn, repeats: int) -> tuple[float, list]:
    """Best seconds of one call over ``repeats`` (the run least disturbed by the other processes of a
    shared machine, for both contenders alike), and the keys of what it returned."""
    times, keys = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        # MLflow's store entities carry int versions (its REST layer makes them strings), ours strings.
        keys = [getattr(x, "model_id", None) or (x.name, str(getattr(x, "version", ""))) for x in result]
    return min(times), keys


def searches(tracking, registry) -> dict[str, callable]:
    return {
        "search_logged_models": lambda: tracking.search_logged_models(["0"], LM_FILTER, None, 100, LM_ORDER),
        "search_registered_models": lambda: registry.search_registered_models(RM_FILTER, 1000),
        "search_model_versions": lambda: registry.search_model_versions(MV_FILTER, 1000),
    }


def compare(label: str, ours: dict, theirs: dict, repeats: int) -> None:
    print(label)
    for name in ours:
        ours_s, ours_keys = _timed(ours[name], repeats)
        theirs_s, theirs_keys = _timed(theirs[name], repeats)
        assert ours_keys == theirs_keys and ours_keys, f"{name}: results differ from MLflow's"
        print(f"  {name:<26} {len(ours_keys):>5} results  asyncclient {ours_s * 1000:>8.1f} ms   "
              f"MLflow {theirs_s * 1000:>8.1f} ms   {theirs_s / ours_s:>6.1f}x   (target >= 5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 models, fewer repeats")
    parser.add_argument("--postgres", help="PostgreSQL server URI for the comparison on PostgreSQL (two databases "
                        "are created on it); default: ASYNCCLIENT_TEST_POSTGRES_URI or a throwaway server")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    n, repeats = (2_000, 3) if args.quick else (10_000, 15)
    data = _dataset(n)

    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as MlflowRegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as MlflowTrackingStore

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ours = SqlStore(f"sqlite:///{tmp / 'ours.db'}", f"file://{tmp}")
        load_ours(ours, data)
        mlflow_uri = f"sqlite:///{tmp / 'mlflow.db'}"
        theirs_tracking = MlflowTrackingStore(mlflow_uri, str(tmp / "art"))
        theirs_registry = MlflowRegistryStore(mlflow_uri)
        load_mlflow(theirs_tracking, theirs_registry, data)
        compare(f"SQLite, {n:,} logged models and {n:,} registered models ({2 * n:,} versions), best of {repeats}:",
                searches(ours, ours), searches(theirs_tracking, theirs_registry), repeats)
        ours.close()

        cleanup_pg = None
        if not args.postgres and not args.no_postgres:
            from bench_server import postgres_uri  # starts a throwaway server when PostgreSQL is installed

            args.postgres, cleanup_pg = postgres_uri()
        if args.postgres:
            from bench_server import create_database

            def pg(uri: str) -> str:
                return uri.replace("postgresql://", "postgresql+psycopg://", 1)

            ours_pg = SqlStore(pg(create_database(args.postgres)), "file:///tmp/pg-artifacts")
            load_ours(ours_pg, data)
            theirs_uri = pg(create_database(args.postgres))
            theirs_pg_tracking = MlflowTrackingStore(theirs_uri, str(tmp / "art-pg"))
            theirs_pg_registry = MlflowRegistryStore(theirs_uri)
            load_mlflow(theirs_pg_tracking, theirs_pg_registry, data)
            for engine in (ours_pg.engine, theirs_pg_tracking.engine):
                with engine.connect() as conn:
                    conn.execute(sa.text("ANALYZE"))
                    conn.commit()
            compare("PostgreSQL, same data:", searches(ours_pg, ours_pg),
                    searches(theirs_pg_tracking, theirs_pg_registry), repeats)
            ours_pg.close()
            theirs_pg_tracking.engine.dispose()
            theirs_pg_registry.engine.dispose()
        if cleanup_pg is not None:
            cleanup_pg()


if __name__ == "__main__":
    main()

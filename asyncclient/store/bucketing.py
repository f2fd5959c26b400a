"""Metric history bucketed in SQL for charts: each bucket keeps its first/last x and min/max/mean/last value.

No MLflow equivalent: MLflow's UI samples every n-th step and loses spikes. Here the x range is cut into
``buckets`` equal integer-width slices and the database aggregates each with ``GROUP BY``, so a 1M-point
history costs one index range scan and returns at most ``buckets`` rows; a one-step spike survives as its
bucket's max. When the range is no wider than ``buckets`` each bucket is a single x value: raw detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from asyncclient.exceptions import MlflowException
from asyncclient.store import _ingest
from asyncclient.store import schema as t
from asyncclient.store.search.compiler import metric_key_id

MAX_BUCKETS = 5000
X_COLUMNS = ("step", "time")


@dataclass
class BucketedHistory:
    """Columns of equal length, one entry per non-empty bucket, ordered by x.

    ``x_first`` / ``x_last``: the smallest and largest x (step, or timestamp in ms) in the bucket;
    ``min`` / ``max`` / ``mean``: over the bucket's finite values (None when all were NaN);
    ``last``: the value at ``x_last`` (the largest of them if several points share it); ``count``: points.
    ``x_range``: the smallest and largest x of the whole (filtered) history, None when it is empty.
    """

    x: str
    bucket_width: int = 1
    x_range: tuple[int, int] | None = None
    total: int = 0
    x_first: list[int] = field(default_factory=list)
    x_last: list[int] = field(default_factory=list)
    min: list[float | None] = field(default_factory=list)
    max: list[float | None] = field(default_factory=list)
    mean: list[float | None] = field(default_factory=list)
    last: list[float | None] = field(default_factory=list)
    count: list[int] = field(default_factory=list)


def check_request(buckets: int, x: str, lo: int | None, hi: int | None) -> None:
    if x not in X_COLUMNS:
        raise MlflowException.invalid_parameter_value(f"x must be one of {', '.join(X_COLUMNS)}; got {x!r}.")
    if not 1 <= buckets <= MAX_BUCKETS:
        raise MlflowException.invalid_parameter_value(f"buckets must be between 1 and {MAX_BUCKETS}; got {buckets}.")
    if lo is not None and hi is not None and lo > hi:
        raise MlflowException.invalid_parameter_value(f"min_x ({lo}) must not be greater than max_x ({hi}).")


def read_bucketed(conn: Connection, run_id: str, metric_key: str, buckets: int, x: str = "step",
                  lo: int | None = None, hi: int | None = None) -> BucketedHistory:
    """Bucket one run's metric over x in [lo, hi] (either bound open when None); see the module doc."""
    m = t.metrics
    xcol = m.c.step if x == "step" else m.c.timestamp
    # Both keys as scalar subqueries: the planner resolves them once, then walks the history's primary key.
    where = [m.c.run_key == _ingest.run_key_of(run_id), m.c.key_id == metric_key_id(metric_key)]
    if lo is not None:
        where.append(xcol >= lo)
    if hi is not None:
        where.append(xcol <= hi)
    out = BucketedHistory(x=x)
    first, last_x, total = conn.execute(sa.select(sa.func.min(xcol), sa.func.max(xcol), sa.func.count())
                                        .where(*where)).one()
    if not total:
        return out
    out.x_range, out.total = (int(first), int(last_x)), int(total)
    width = -(-(last_x - first + 1) // buckets)  # ceil: at most `buckets` buckets cover the range
    out.bucket_width = width
    # Integer floor division on both SQLite and PostgreSQL (operands are non-negative BIGINTs).
    bucket = ((xcol - first) // width).label("b")
    finite = sa.case((m.c.is_nan, None), else_=m.c.value)
    rows = conn.execute(
        sa.select(sa.func.min(xcol).label("x_first"), sa.func.max(xcol).label("x_last"),
                  sa.func.min(finite).label("vmin"), sa.func.max(finite).label("vmax"),
                  sa.func.avg(finite).label("vmean"), sa.func.count().label("n"))
        .where(*where).group_by(bucket).order_by(bucket)).all()
    # The value at each bucket's last x: one more filtered pass keeping only rows at some bucket's x_last
    # (an IN list of at most `buckets` integers). A join against the grouped rows instead made SQLite
    # loop over the history once per bucket.
    ends = [int(r.x_last) for r in rows]
    at_end = dict(conn.execute(sa.select(xcol, sa.func.max(finite)).where(*where, xcol.in_(ends))
                               .group_by(xcol)).all())
    for r in rows:
        out.x_first.append(int(r.x_first))
        out.x_last.append(int(r.x_last))
        out.min.append(r.vmin)
        out.max.append(r.vmax)
        out.mean.append(None if r.vmean is None else float(r.vmean))
        out.last.append(at_end.get(int(r.x_last)))
        out.count.append(int(r.n))
    return out
    out.x_range, out.total = (int(first), int(last_x)), int(total)
    width = -(-(last_x - first + 1) // buckets)  # ceil: at most `buckets` buckets cover the range
    out.bucket_width = width
    # Integer floor division on both SQLite and PostgreSQL (operands are non-negative BIGINTs).
    bucket = ((xcol - first) // width).label("b")
    finite = sa.case((m.c.is_nan, None), else_=m.c.value)
    agg = (sa.select(bucket, sa.func.min(xcol).label("x_first"), sa.func.max(xcol).label("x_last"),
                     sa.func.min(finite).label("vmin"), sa.func.max(finite).label("vmax"),
                     sa.func.avg(finite).label("vmean"), sa.func.count().label("n"))
           .where(*where).group_by(bucket).cte("agg"))
    # The value at each bucket's last x: a second pass over the same range that keeps only rows whose x is
    # some bucket's x_last (a hash/automatic-index join on at most `buckets` rows).
    at_last = (sa.select(agg.c.b, sa.func.max(finite).label("vlast"))
               .select_from(m.join(agg, xcol == agg.c.x_last))
               .where(*where).group_by(agg.c.b).subquery("at_last"))
    rows = conn.execute(
        sa.select(agg.c.x_first, agg.c.x_last, agg.c.vmin, agg.c.vmax, agg.c.vmean, agg.c.n, at_last.c.vlast)
        .select_from(agg.outerjoin(at_last, at_last.c.b == agg.c.b)).order_by(agg.c.b)).all()
    for r in rows:
        out.x_first.append(int(r.x_first))
        out.x_last.append(int(r.x_last))
        out.min.append(r.vmin)
        out.max.append(r.vmax)
        out.mean.append(None if r.vmean is None else float(r.vmean))
        out.last.append(r.vlast)
        out.count.append(int(r.n))
    return out

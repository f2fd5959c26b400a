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
    lo_x, hi_x = _estimate_range(conn, where, xcol)
    if lo_x is None:
        return BucketedHistory(x=x)
    out = _aggregate(conn, where, xcol, x, buckets, lo_x, hi_x)
    if out.x_range and (out.x_range[0] < lo_x or out.x_range[1] > hi_x):
        # Steps logged out of time order: the seek's guess was too narrow. Bucket again over the true range.
        out = _aggregate(conn, where, xcol, x, buckets, *out.x_range)
    return out


def _estimate_range(conn: Connection, where: list, xcol) -> tuple[int | None, int | None]:
    """The x of the first and last point in the history's primary-key (timestamp) order: two index seeks
    instead of a scan. Exact for time, and for steps whenever they grow with time (the usual case);
    ``read_bucketed`` checks the guess against the aggregated extremes."""
    m = t.metrics
    order = (m.c.timestamp, m.c.step)
    first = conn.execute(sa.select(xcol).where(*where).order_by(*order).limit(1)).scalar()
    if first is None:
        return None, None
    last = conn.execute(sa.select(xcol).where(*where).order_by(*(c.desc() for c in order)).limit(1)).scalar()
    return int(min(first, last)), int(max(first, last))


def _aggregate(conn: Connection, where: list, xcol, x: str, buckets: int, lo_x: int, hi_x: int) -> BucketedHistory:
    m = t.metrics
    out = BucketedHistory(x=x)
    width = -(-(hi_x - lo_x + 1) // buckets)  # ceil: at most `buckets` buckets cover the range
    out.bucket_width = width
    # Integer floor division on both SQLite and PostgreSQL (operands are non-negative BIGINTs when the
    # range guess holds; when it does not, the caller buckets again).
    bucket = ((xcol - lo_x) // width).label("b")
    finite = sa.case((m.c.is_nan, None), else_=m.c.value)
    rows = conn.execute(
        sa.select(sa.func.min(xcol).label("x_first"), sa.func.max(xcol).label("x_last"),
                  sa.func.min(finite).label("vmin"), sa.func.max(finite).label("vmax"),
                  sa.func.avg(finite).label("vmean"), sa.func.count().label("n"))
        .where(*where).group_by(bucket).order_by(bucket)).all()
    if not rows:
        return out
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
    out.x_range = (min(out.x_first), max(out.x_last))
    out.total = sum(out.count)
    return out

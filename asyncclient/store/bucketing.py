"""Metric history bucketed in SQL for charts: each bucket keeps its first/last x and min/max/mean/last value.

No MLflow equivalent: MLflow's UI samples every n-th step and loses spikes. Here the x range is cut into
at most ``buckets`` slices and the database aggregates each, returning at most ``buckets`` rows; a
one-step spike survives as its bucket's max. When the range is no wider than ``buckets`` each bucket is
a single x value: raw detail. Two ways, the same answer:
- the history cut into equal *time* slices, each aggregated by one primary-key range scan (the key
  starts with the timestamp) plus one seek for its latest point: no sort, no hash table. Exact for
  x=time; for x=step it is used when the slices' step ranges come out in order (steps grow with time, the
  usual case), each slice then being a contiguous step range. PostgreSQL runs it as LATERAL joins,
  SQLite as correlated subqueries. Per million points: ~0.26 s on SQLite, ~0.26 s on PostgreSQL;
- otherwise (steps logged out of time order, long pauses) ``GROUP BY`` over equal step slices, which
  sorts or hashes every point (~0.6 s on SQLite, ~0.9 s on PostgreSQL, this 2-core machine).
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
    ``last``: the value at ``x_last`` (one of them if several points share it); ``count``: points.
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
    sliced = _time_sliced(conn, where, xcol, x, buckets)
    if sliced is not None:
        return sliced
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
    return _fill(conn, out, where, xcol, [(r.x_first, r.x_last, r.vmin, r.vmax, r.vmean, r.n) for r in rows])


_UNKNOWN = object()


def _fill(conn: Connection, out: BucketedHistory, where: list, xcol, rows: list[tuple],
          known_last: list | None = None) -> BucketedHistory:
    """Store (x_first, x_last, min, max, mean, count) rows in ``out`` with each bucket's last value, taken
    from ``known_last`` where it is not ``_UNKNOWN``, else looked up."""
    if not rows:
        return out
    m = t.metrics
    finite = sa.case((m.c.is_nan, None), else_=m.c.value)
    last = known_last or [_UNKNOWN] * len(rows)
    ends = [int(r[1]) for r, v in zip(rows, last, strict=True) if v is _UNKNOWN]
    at_end = {}
    if ends:
        # The value at each bucket's last x: one more filtered pass keeping only rows at some bucket's
        # x_last (an IN list of at most `buckets` integers). A join against the grouped rows instead made
        # SQLite loop over the history once per bucket.
        at_end = dict(conn.execute(sa.select(xcol, sa.func.max(finite)).where(*where, xcol.in_(ends))
                                   .group_by(xcol)).all())
    for (x_first, x_last, vmin, vmax, vmean, n), v in zip(rows, last, strict=True):
        out.x_first.append(int(x_first))
        out.x_last.append(int(x_last))
        out.min.append(vmin)
        out.max.append(vmax)
        out.mean.append(None if vmean is None else float(vmean))
        out.last.append(at_end.get(int(x_last)) if v is _UNKNOWN else v)
        out.count.append(int(n))
    out.x_range = (min(out.x_first), max(out.x_last))
    out.total = sum(out.count)
    return out


def _num(text: str) -> float | None:
    return float(text) if text else None


def _time_sliced(conn: Connection, where: list, xcol, x: str, buckets: int) -> BucketedHistory | None:
    """``buckets`` equal timestamp slices, each aggregated by a primary-key range scan, plus a seek for
    the slice's latest point (its value is the slice's last value when its x is the slice's x_last).

    None when x=step and the slices' step ranges overlap (steps not logged in time order) or when time gaps
    leave most slices empty: the caller then uses GROUP BY.
    """
    ts = t.metrics.c.timestamp
    t_lo, t_hi = _estimate_range(conn, where, ts)
    if t_lo is None:
        return BucketedHistory(x=x)
    width = -(-(t_hi - t_lo + 1) // buckets)
    slices = -(-(t_hi - t_lo + 1) // width)
    read = _slices_sqlite if conn.dialect.name == "sqlite" else _slices_lateral
    rows, last = [], []
    for n, x_first, x_last, vmin, vmax, vmean, latest_x, latest_value in read(conn, where, xcol, t_lo, width, slices):
        if not n:
            continue
        if x == "step" and rows and x_first < rows[-1][1]:
            return None
        rows.append((x_first, x_last, vmin, vmax, vmean, n))
        last.append(latest_value if latest_x == x_last else _UNKNOWN)
    if x == "step" and len(rows) < min(buckets, sum(r[5] for r in rows)) // 2:
        # Time gaps (a pause, a resumed run) left most slices empty: step buckets would be too coarse.
        return None
    out = _fill(conn, BucketedHistory(x=x), where, xcol, rows, last)
    if x == "time":
        out.bucket_width = width
    elif out.x_range:  # the nominal step width of a slice
        out.bucket_width = -(-(out.x_range[1] - out.x_range[0] + 1) // buckets)
    return out


def _slice_parts(where: list, xcol, start, width: int):
    m = t.metrics
    finite = sa.case((m.c.is_nan, None), else_=m.c.value)
    in_slice = [*where, m.c.timestamp >= start, m.c.timestamp < start + width]
    latest_order = (m.c.timestamp.desc(), m.c.step.desc())
    return finite, in_slice, latest_order


def _slices_lateral(conn: Connection, where: list, xcol, t_lo: int, width: int, slices: int):
    """PostgreSQL: generate_series of slice numbers, LATERAL aggregates and a LATERAL latest-point seek."""
    series = sa.func.generate_series(0, slices - 1).table_valued("i").render_derived(name="slice")
    start = t_lo + series.c.i * width
    finite, in_slice, latest_order = _slice_parts(where, xcol, start, width)
    agg = sa.select(sa.func.count().label("n"), sa.func.min(xcol).label("x_first"),
                    sa.func.max(xcol).label("x_last"), sa.func.min(finite).label("vmin"),
                    sa.func.max(finite).label("vmax"), sa.func.avg(finite).label("vmean")
                    ).where(*in_slice).lateral("agg")
    latest = (sa.select(xcol.label("lx"), finite.label("lv")).where(*in_slice).order_by(*latest_order)
              .limit(1).lateral("latest"))
    stmt = (sa.select(agg.c.n, agg.c.x_first, agg.c.x_last, agg.c.vmin, agg.c.vmax, agg.c.vmean, latest.c.lx,
                      latest.c.lv)
            .select_from(series.join(agg, sa.true()).outerjoin(latest, sa.true())).order_by(series.c.i))
    for r in conn.execute(stmt):
        yield (int(r.n), r.x_first and int(r.x_first), r.x_last and int(r.x_last), r.vmin, r.vmax,
               None if r.vmean is None else float(r.vmean), r.lx and int(r.lx), r.lv)


def _slices_sqlite(conn: Connection, where: list, xcol, t_lo: int, width: int, slices: int):
    """SQLite: a recursive CTE of slice numbers and correlated scalar subqueries. SQLite has no LATERAL,
    so each slice's aggregates come back packed in one text value (floats with 17 significant digits,
    which round-trip a double exactly)."""
    b = sa.select(sa.literal(0, sa.Integer).label("i")).cte("slices", recursive=True)
    b = b.union_all(sa.select(b.c.i + 1).where(b.c.i < slices - 1))
    finite, in_slice, latest_order = _slice_parts(where, xcol, t_lo + b.c.i * width, width)

    def text(value):
        return sa.case((value.is_(None), ""), else_=sa.func.printf("%!.17g", value))

    packed = (sa.select(sa.func.printf("%d,%d,%d,%s,%s,%s,%d", sa.func.count(), sa.func.min(xcol),
                                       sa.func.max(xcol), text(sa.func.min(finite)), text(sa.func.max(finite)),
                                       text(sa.func.sum(finite)), sa.func.count(finite)))
              .where(*in_slice).scalar_subquery())
    latest = (sa.select(sa.func.printf("%d,%s", xcol, text(finite))).where(*in_slice).order_by(*latest_order)
              .limit(1).scalar_subquery())
    for cell, latest_cell in conn.execute(sa.select(packed, latest).select_from(b).order_by(b.c.i)):
        n, x_first, x_last, vmin, vmax, vsum, finite_n = cell.split(",")
        if n == "0":
            yield 0, None, None, None, None, None, None, None
            continue
        total = _num(vsum)
        latest_x, latest_value = latest_cell.split(",")
        yield (int(n), int(x_first), int(x_last), _num(vmin), _num(vmax),
               None if total is None else total / int(finite_n), int(latest_x), _num(latest_value))

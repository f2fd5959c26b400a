"""SQL helpers shared by the LoggedModel and registry loaders."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement


def one_of(conn: Connection, column: ColumnElement, name: str) -> ColumnElement:
    """``column IN (:name)`` with the list bound at execution.

    SQLite: an expanding IN (SQLAlchemy checks every element of a list given to ``in_()`` when building
    the statement, which cost more than the query for a page of 1000 versions). PostgreSQL:
    ``= ANY(:name)`` with one array parameter, so the statement text is the same for every page and
    psycopg neither re-parses nor casts hundreds of placeholders.
    """
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(sa.String)))
    return column.in_(sa.bindparam(name, expanding=True))

"""Alembic migrations for the tracking schema (``asyncclient db upgrade``)."""

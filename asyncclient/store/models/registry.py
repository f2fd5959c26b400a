"""The Model Registry in the SQL store (MLflow's ``mlflow/store/model_registry/sqlalchemy_store.py``).

A mixin of ``SqlStore``, so registered models live in the tracking database (MLflow's default when
``--registry-store-uri`` is unset). Versions are soft-deleted with MLflow's internal stage so that a
version number is never reused.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from asyncclient.entities import ModelVersion, PagedList, RegisteredModel
from asyncclient.exceptions import RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST, MlflowException
from asyncclient.store import _ingest
from asyncclient.store import schema as t
from asyncclient.store.models import search
from asyncclient.store.models._sql import one_of
from asyncclient.store.models.search import STAGE_DELETED_INTERNAL
from asyncclient.store.search.paging import create_page_token, parse_page_token

STAGES = ("None", "Staging", "Production", "Archived")
ACTIVE_STAGES = ("Staging", "Production")
SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD = 1000
SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD = 200_000
MODEL_VERSIONS_TAG = "mlflow.modelVersions"
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
_CHUNK = 500


def _now_ms() -> int:
    return int(time.time() * 1000)


def canonical_stage(stage: str) -> str:
    """MLflow's ``get_canonical_stage``: stages are matched case-insensitively."""
    for s in STAGES:
        if isinstance(stage, str) and stage.lower() == s.lower():
            return s
    raise MlflowException.invalid_parameter_value(
        f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(STAGES)}.")


def _version_number(version) -> int:
    try:
        return int(version)
    except (TypeError, ValueError):
        raise MlflowException.invalid_parameter_value(
            f"Parameter 'version' must be an integer, got '{version}'.") from None


def _model_missing(name: str) -> MlflowException:
    return MlflowException(f"Registered Model with name={name} not found", RESOURCE_DOES_NOT_EXIST)


def _version_missing(name: str, version) -> MlflowException:
    return MlflowException(f"Model Version (name={name}, version={version}) not found", RESOURCE_DOES_NOT_EXIST)


def _check_name(name) -> None:
    if not name or not isinstance(name, str):
        raise MlflowException.invalid_parameter_value(
            "Registered model name cannot be empty.")


def _load_versions(conn: Connection, rows: Sequence, with_aliases: bool = True) -> list[ModelVersion]:
    """``model_versions`` rows -> entities with their tags (and aliases), one query per child table.

    MLflow's ``search_model_versions`` returns versions without their aliases, hence ``with_aliases``.
    """
    if not rows:
        return []
    # Rows are unpacked by position throughout: attribute access on 1000s of rows costs more than the query.
    names = sorted({r[0] for r in rows})
    wanted = {(r[0], r[1]) for r in rows}
    tags: dict[tuple, dict] = {}
    aliases: dict[tuple, list] = defaultdict(list)
    c = t.model_version_tags.c
    for i in range(0, len(names), _CHUNK):
        chunk = names[i:i + _CHUNK]
        tag_rows = sa.select(c.name, c.version, c.key, c.value).where(one_of(conn, c.name, "names"))
        for name, version, key, value in conn.execute(tag_rows, {"names": chunk}).all():
            if (name, version) in wanted:
                tags.setdefault((name, version), {})[key] = value
        if not with_aliases:
            continue
        a = t.registered_model_aliases.c
        for name, version, alias in conn.execute(
                sa.select(a.name, a.version, a.alias).where(one_of(conn, a.name, "names")).order_by(a.alias),
                {"names": chunk}).all():
            aliases[(name, version)].append(alias)
    empty_tags: dict = {}
    empty_aliases: list = []
    out = []
    for (name, version, created, updated, description, user_id, stage, source, storage, run_id, run_link,
         status, status_message, model_id) in rows:
        key = (name, version)
        out.append(ModelVersion(name, str(version), created, updated, description, user_id, stage, source, run_id,
                                status, status_message, tags.get(key, empty_tags), run_link,
                                aliases.get(key, empty_aliases), model_id, storage))
    return out


def _latest_versions(conn: Connection, names: Sequence[str]) -> dict[str, list[ModelVersion]]:
    """Per model, the newest version in each stage (MLflow's ``latest_versions``), ordered by version."""
    mv = t.model_versions
    out: dict[str, list] = defaultdict(list)
    for i in range(0, len(names), _CHUNK):
        chunk = list(names[i:i + _CHUNK])
        newest = (sa.select(mv.c.name, mv.c.current_stage, sa.func.max(mv.c.version).label("version"))
                  .where(one_of(conn, mv.c.name, "names"), mv.c.current_stage != STAGE_DELETED_INTERNAL)
                  .group_by(mv.c.name, mv.c.current_stage).subquery())
        rows = conn.execute(sa.select(mv).join(newest, sa.and_(mv.c.name == newest.c.name,
                                                               mv.c.version == newest.c.version))
                            .order_by(mv.c.name, mv.c.version), {"names": chunk}).all()
        for v in _load_versions(conn, rows, with_aliases=False):  # MLflow's latest_versions carry no aliases
            out[v.name].append(v)
    return out


def _load_registered_models(conn: Connection, rows: Sequence) -> list[RegisteredModel]:
    """``registered_models`` rows -> entities with tags, aliases and latest versions (rows by position)."""
    names = [r[0] for r in rows]
    tags: dict[str, dict] = defaultdict(dict)
    aliases: dict[str, dict] = defaultdict(dict)
    tc, ac = t.registered_model_tags.c, t.registered_model_aliases.c
    for i in range(0, len(names), _CHUNK):
        chunk = names[i:i + _CHUNK]
        tag_rows = sa.select(tc.name, tc.key, tc.value).where(one_of(conn, tc.name, "names"))
        for name, key, value in conn.execute(tag_rows, {"names": chunk}).all():
            tags[name][key] = value
        for name, alias, version in conn.execute(
                sa.select(ac.name, ac.alias, ac.version).where(one_of(conn, ac.name, "names")).order_by(ac.alias),
                {"names": chunk}).all():
            aliases[name][alias] = str(version)
    latest = _latest_versions(conn, names)
    return [RegisteredModel(name, created, updated, description, latest[name], tags[name], aliases[name])
            for name, created, updated, description in rows]


class ModelRegistryStoreMixin:
    """Registry methods of ``SqlStore`` with the names of MLflow's registry ``SqlAlchemyStore``."""

    # ---- plumbing ----
    @staticmethod
    def _rm_row(conn: Connection, name: str):
        _check_name(name)
        row = conn.execute(sa.select(t.registered_models).where(t.registered_models.c.name == name)).first()
        if row is None:
            raise _model_missing(name)
        return row

    @staticmethod
    def _mv_row(conn: Connection, name: str, version):
        number = _version_number(version)
        mv = t.model_versions
        row = conn.execute(sa.select(mv).where(mv.c.name == name, mv.c.version == number,
                                               mv.c.current_stage != STAGE_DELETED_INTERNAL)).first()
        if row is None:
            raise _version_missing(name, version)
        return row

    @staticmethod
    def _touch(conn: Connection, name: str, now: int) -> None:
        conn.execute(sa.update(t.registered_models).where(t.registered_models.c.name == name)
                     .values(last_updated_time=now))

    # ---- registered models ----
    def create_registered_model(self, name: str, tags: dict[str, str] | None = None,
                                description: str | None = None) -> RegisteredModel:
        """A new registered model; an existing name is RESOURCE_ALREADY_EXISTS (400)."""
        _check_name(name)

        def create(conn: Connection) -> RegisteredModel:
            now = _now_ms()
            conn.execute(sa.insert(t.registered_models).values(
                name=name, creation_time=now, last_updated_time=now, description=description))
            if tags:
                conn.execute(sa.insert(t.registered_model_tags),
                             [{"name": name, "key": k, "value": v} for k, v in tags.items()])
            return _load_registered_models(conn, [self._rm_row(conn, name)])[0]
        try:
            return self._write(create)
        except IntegrityError:
            raise MlflowException(f"Registered Model (name={name}) already exists.",
                                  RESOURCE_ALREADY_EXISTS) from None

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its latest version per stage, tags and aliases."""
        return self._read(lambda conn: _load_registered_models(conn, [self._rm_row(conn, name)])[0])

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        """Set the description."""
        def update(conn: Connection) -> RegisteredModel:
            self._rm_row(conn, name)
            conn.execute(sa.update(t.registered_models).where(t.registered_models.c.name == name)
                         .values(description=description, last_updated_time=_now_ms()))
            return _load_registered_models(conn, [self._rm_row(conn, name)])[0]
        return self._write(update)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename the model and everything keyed by its name, in one transaction."""
        _check_name(new_name)

        def rename(conn: Connection) -> RegisteredModel:
            self._rm_row(conn, name)
            now = _now_ms()
            conn.execute(sa.insert(t.registered_models).from_select(
                ["name", "creation_time", "last_updated_time", "description"],
                sa.select(sa.literal(new_name), t.registered_models.c.creation_time, sa.literal(now),
                          t.registered_models.c.description).where(t.registered_models.c.name == name)))
            for table in (t.registered_model_tags, t.model_version_tags, t.registered_model_aliases):
                conn.execute(sa.update(table).where(table.c.name == name).values(name=new_name))
            conn.execute(sa.update(t.model_versions).where(t.model_versions.c.name == name)
                         .values(name=new_name, last_updated_time=now))
            conn.execute(sa.delete(t.registered_models).where(t.registered_models.c.name == name))
            return _load_registered_models(conn, [self._rm_row(conn, new_name)])[0]
        try:
            return self._write(rename)
        except IntegrityError:
            raise MlflowException(f"Registered Model (name={new_name}) already exists.",
                                  RESOURCE_ALREADY_EXISTS) from None

    def delete_registered_model(self, name: str) -> None:
        """Delete the model with all its versions, tags and aliases."""
        def delete(conn: Connection) -> None:
            self._rm_row(conn, name)
            for table in (t.model_version_tags, t.registered_model_aliases, t.model_versions,
                          t.registered_model_tags, t.registered_models):
                conn.execute(sa.delete(table).where(table.c.name == name))
        self._write(delete)

    def search_registered_models(self, filter_string: str | None = None, max_results: int = 100,
                                 order_by: list[str] | None = None, page_token: str | None = None
                                 ) -> PagedList[RegisteredModel]:
        """Filter, order and page registered models (``search_registered_models``); prompts excluded."""
        if max_results > SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD:
            raise MlflowException.invalid_parameter_value(
                "Invalid value for request parameter max_results. It must be at most "
                f"{SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD}, but got value {max_results}")
        conditions = search.registered_model_filter_conditions(filter_string)
        terms = search.registered_model_ordering(order_by)
        offset = parse_page_token(page_token)
        stmt = (sa.select(t.registered_models).where(*conditions).order_by(*terms)
                .offset(offset).limit(max_results + 1))

        def read(conn: Connection) -> PagedList[RegisteredModel]:
            rows = conn.execute(stmt).all()
            token = create_page_token(offset + max_results) if len(rows) > max_results else None
            return PagedList(_load_registered_models(conn, rows[:max_results]), token)
        return self._read(read)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        def write(conn: Connection) -> None:
            self._rm_row(conn, name)
            stmt = _ingest.insert(conn, t.registered_model_tags).values(name=name, key=key, value=value)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[t.registered_model_tags.c.name, t.registered_model_tags.c.key],
                set_={"value": stmt.excluded.value}))
        self._write(write)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        def write(conn: Connection) -> None:
            self._rm_row(conn, name)
            conn.execute(sa.delete(t.registered_model_tags).where(
                t.registered_model_tags.c.name == name, t.registered_model_tags.c.key == key))
        self._write(write)

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """The newest version per requested stage (all stages when none are given)."""
        wanted = {canonical_stage(s) for s in stages} if stages else set(STAGES)

        def read(conn: Connection) -> list[ModelVersion]:
            self._rm_row(conn, name)
            versions = [v for v in _latest_versions(conn, [name])[name] if v.current_stage in wanted]
            full = _load_versions(conn, [self._mv_row(conn, name, v.version) for v in versions])
            return full
        return self._read(read)

    # ---- model versions ----
    def create_model_version(self, name: str, source: str, run_id: str | None = None,
                             tags: dict[str, str] | None = None, run_link: str | None = None,
                             description: str | None = None, model_id: str | None = None,
                             storage_location: str | None = None) -> ModelVersion:
        """The next version of ``name`` (READY at once: the files stay where the source points).

        With ``model_id`` the version also gets the logged model's run, and the logged model records the
        registration in its ``mlflow.modelVersions`` tag, as MLflow's server does.
        """
        def create(conn: Connection) -> ModelVersion:
            self._rm_row(conn, name)
            mv = t.model_versions
            now = _now_ms()
            nonlocal run_id
            if model_id:
                lm = conn.execute(sa.select(t.logged_models).where(t.logged_models.c.model_id == model_id)).first()
                if lm is None:
                    raise MlflowException(f"Logged model with ID '{model_id}' not found.", RESOURCE_DOES_NOT_EXIST)
                run_id = run_id or lm.source_run_id
            latest = conn.execute(sa.select(sa.func.max(mv.c.version)).where(mv.c.name == name)).scalar()
            version = (latest or 0) + 1
            conn.execute(sa.insert(mv).values(
                name=name, version=version, creation_time=now, last_updated_time=now, description=description,
                current_stage="None", source=source, storage_location=storage_location, run_id=run_id or None,
                run_link=run_link, status="READY", model_id=model_id))
            if tags:
                conn.execute(sa.insert(t.model_version_tags), [
                    {"name": name, "version": version, "key": k, "value": v} for k, v in tags.items()])
            self._touch(conn, name, now)
            if model_id:
                self._record_registration(conn, model_id, name, version)
            return _load_versions(conn, [self._mv_row(conn, name, version)])[0]
        return self._write(create)

    @staticmethod
    def _record_registration(conn: Connection, model_id: str, name: str, version: int) -> None:
        import json

        tags = t.logged_model_tags
        current = conn.execute(sa.select(tags.c.tag_value).where(
            tags.c.model_id == model_id, tags.c.tag_key == MODEL_VERSIONS_TAG)).scalar()
        entries = json.loads(current) if current else []
        entries.append({"name": name, "version": version})
        stmt = _ingest.insert(conn, tags).values(model_id=model_id, tag_key=MODEL_VERSIONS_TAG,
                                                 tag_value=json.dumps(entries))
        conn.execute(stmt.on_conflict_do_update(index_elements=[tags.c.model_id, tags.c.tag_key],
                                                set_={"tag_value": stmt.excluded.tag_value}))

    def get_model_version(self, name: str, version) -> ModelVersion:
        return self._read(lambda conn: _load_versions(conn, [self._mv_row(conn, name, version)])[0])

    def update_model_version(self, name: str, version, description: str) -> ModelVersion:
        def update(conn: Connection) -> ModelVersion:
            row = self._mv_row(conn, name, version)
            now = _now_ms()
            conn.execute(sa.update(t.model_versions).where(
                t.model_versions.c.name == name, t.model_versions.c.version == row.version)
                .values(description=description, last_updated_time=now))
            return _load_versions(conn, [self._mv_row(conn, name, version)])[0]
        return self._write(update)

    def transition_model_version_stage(self, name: str, version, stage: str,
                                       archive_existing_versions: bool = False) -> ModelVersion:
        """Legacy stages: move a version; optionally archive the others in that (active) stage."""
        new_stage = canonical_stage(stage)
        if archive_existing_versions and new_stage not in ACTIVE_STAGES:
            raise MlflowException(
                "Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}")

        def transition(conn: Connection) -> ModelVersion:
            row = self._mv_row(conn, name, version)
            mv = t.model_versions
            now = _now_ms()
            if archive_existing_versions:
                conn.execute(sa.update(mv).where(mv.c.name == name, mv.c.version != row.version,
                                                 mv.c.current_stage == new_stage)
                             .values(current_stage="Archived", last_updated_time=now))
            conn.execute(sa.update(mv).where(mv.c.name == name, mv.c.version == row.version)
                         .values(current_stage=new_stage, last_updated_time=now))
            self._touch(conn, name, now)
            return _load_versions(conn, [self._mv_row(conn, name, version)])[0]
        return self._write(transition)

    def delete_model_version(self, name: str, version) -> None:
        """Soft delete (MLflow's ``Deleted_Internal`` stage): the number is never reused; tags and aliases go."""
        def delete(conn: Connection) -> None:
            row = self._mv_row(conn, name, version)
            now = _now_ms()
            mv = t.model_versions
            conn.execute(sa.update(mv).where(mv.c.name == name, mv.c.version == row.version).values(
                current_stage=STAGE_DELETED_INTERNAL, last_updated_time=now, description=None, user_id=None,
                source="REDACTED-SOURCE-PATH", run_id="REDACTED-RUN-ID", run_link="REDACTED-RUN-LINK",
                status_message=None, storage_location=None))
            for table in (t.model_version_tags, t.registered_model_aliases):
                conn.execute(sa.delete(table).where(table.c.name == name, table.c.version == row.version))
            self._touch(conn, name, now)
        self._write(delete)

    def search_model_versions(self, filter_string: str | None = None, max_results: int = 10000,
                              order_by: list[str] | None = None, page_token: str | None = None
                              ) -> PagedList[ModelVersion]:
        """Filter, order and page model versions (``search_model_versions``)."""
        if max_results > SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD:
            raise MlflowException.invalid_parameter_value(
                "Invalid value for request parameter max_results. It must be at most "
                f"{SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD}, but got value {max_results}")
        conditions = search.model_version_filter_conditions(filter_string)
        terms = search.model_version_ordering(order_by)
        offset = parse_page_token(page_token)
        stmt = (sa.select(t.model_versions).where(*conditions).order_by(*terms)
                .offset(offset).limit(max_results + 1))

        def read(conn: Connection) -> PagedList[ModelVersion]:
            rows = conn.execute(stmt).all()
            token = create_page_token(offset + max_results) if len(rows) > max_results else None
            return PagedList(_load_versions(conn, rows[:max_results], with_aliases=False), token)
        return self._read(read)

    def get_model_version_download_uri(self, name: str, version) -> str:
        """Where the version's files are: the resolved storage location, else the source."""
        row = self._read(lambda conn: self._mv_row(conn, name, version))
        return row.storage_location or row.source

    def set_model_version_tag(self, name: str, version, key: str, value: str) -> None:
        def write(conn: Connection) -> None:
            row = self._mv_row(conn, name, version)
            stmt = _ingest.insert(conn, t.model_version_tags).values(name=name, version=row.version, key=key,
                                                                     value=value)
            c = t.model_version_tags.c
            conn.execute(stmt.on_conflict_do_update(index_elements=[c.name, c.version, c.key],
                                                    set_={"value": stmt.excluded.value}))
        self._write(write)

    def delete_model_version_tag(self, name: str, version, key: str) -> None:
        def write(conn: Connection) -> None:
            row = self._mv_row(conn, name, version)
            c = t.model_version_tags.c
            conn.execute(sa.delete(t.model_version_tags).where(c.name == name, c.version == row.version,
                                                               c.key == key))
        self._write(write)

    # ---- aliases ----
    def set_registered_model_alias(self, name: str, alias: str, version) -> None:
        """Point ``alias`` at ``version`` (moving it if it pointed elsewhere)."""
        if not alias or _RESERVED_ALIAS.match(alias):
            raise MlflowException.invalid_parameter_value(
                f"'{alias}' alias name (case insensitive) is reserved.")

        def write(conn: Connection) -> None:
            self._rm_row(conn, name)
            row = self._mv_row(conn, name, version)
            stmt = _ingest.insert(conn, t.registered_model_aliases).values(name=name, alias=alias,
                                                                           version=row.version)
            c = t.registered_model_aliases.c
            conn.execute(stmt.on_conflict_do_update(index_elements=[c.name, c.alias],
                                                    set_={"version": stmt.excluded.version}))
            self._touch(conn, name, _now_ms())
        self._write(write)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        def write(conn: Connection) -> None:
            self._rm_row(conn, name)
            c = t.registered_model_aliases.c
            conn.execute(sa.delete(t.registered_model_aliases).where(c.name == name, c.alias == alias))
            self._touch(conn, name, _now_ms())
        self._write(write)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at; an unknown alias is RESOURCE_DOES_NOT_EXIST."""
        def read(conn: Connection) -> ModelVersion:
            self._rm_row(conn, name)
            c = t.registered_model_aliases.c
            version = conn.execute(sa.select(c.version).where(c.name == name, c.alias == alias)).scalar()
            if version is None:
                # MLflow answers INVALID_PARAMETER_VALUE (400) here, not RESOURCE_DOES_NOT_EXIST.
                raise MlflowException.invalid_parameter_value(f"Registered model alias {alias} not found.")
            return _load_versions(conn, [self._mv_row(conn, name, version)])[0]
        return self._read(read)

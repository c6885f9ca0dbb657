"""Catalog connection: engine, sessions and schema migrations.

One URL decides the backend: ``sqlite:///…`` for the embedded default, ``postgresql+psycopg://…``
in production. SQLite gets WAL and foreign keys switched on, because several flow threads write
at once and the catalog is the record of truth. The schema is created only through Alembic, so
a production database and a developer's SQLite file always have the same history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from backoffice.config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the file's folder is created."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """What Alembic's autogenerate compares: everything but the search index, which migration
    0002 makes by hand (an FTS5 table on SQLite, a ``tsvector`` column on PostgreSQL)."""
    if type_ == "table" and name and name.startswith("documents_fts"):
        return False
    if type_ == "index" and name == "ix_search_entries_tsv":
        return False
    return not (type_ == "column" and name == "tsv")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the catalog at ``url`` to the newest schema (idempotent)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


class Catalog:
    """The catalog of one installation: an engine plus a session factory.

    Passed around explicitly (never a global session) so that tests can run several
    installations side by side and flow tasks can open their own short transactions.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def migrate(self) -> None:
        migrate(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends normally, rolled back otherwise."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


@lru_cache(maxsize=8)
def _catalog_for(url: str) -> Catalog:
    catalog = Catalog(url)
    catalog.migrate()
    return catalog


def open_catalog(settings: Settings) -> Catalog:
    """The (migrated) catalog for ``settings``; one per URL and process."""
    return _catalog_for(settings.resolved_catalog_url)

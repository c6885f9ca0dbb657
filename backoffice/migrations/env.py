"""Alembic environment: runs migrations on the connection handed in by ``backoffice.db``."""

from alembic import context
from sqlalchemy import create_engine

from backoffice.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            _run_on(conn)
        return
    _run_on(connection)


def _include(obj, name, type_, reflected, compare_to) -> bool:
    """Leave the search index alone: it is made by hand in 0002 (FTS5 / tsvector), not modelled."""
    if type_ == "table" and name and name.startswith("documents_fts"):
        return False
    return not (type_ == "column" and name == "tsv")


def _run_on(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()

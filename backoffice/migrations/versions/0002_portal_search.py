"""portal and search: API tokens, public document ids, corrections, full-text index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

The full-text index differs per backend:

* SQLite: an FTS5 table ``documents_fts`` (rowid = document id) with the ``unicode61``
  tokenizer folding diacritics, so "Muller" finds "Müller". Next to the text as written it
  holds the text as light German stems (``stems_title``, ``stems_body``; see
  :mod:`backoffice.portal.search`), so "Rechnungen" finds "Rechnung". ``client_id`` is an
  *indexed* column: a client's search intersects the word's posting list with the client's
  inside FTS5 instead of ranking every match of a common word in the whole archive.
* PostgreSQL: a ``tsvector`` column ``search_entries.tsv`` with a GIN index, built with the
  text search configuration ``backoffice_de``: a copy of ``german`` (Snowball stemming) that
  runs ``unaccent`` first when the extension can be installed. Without ``unaccent`` the search
  module folds diacritics itself before indexing and querying.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)

    op.create_table(
        "document_handles",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_handles_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_handles")),
        sa.UniqueConstraint("public_id", name=op.f("uq_document_handles_public_id")),
    )

    op.create_table(
        "search_entries",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=200), nullable=True),
        sa.Column("sender_key", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_search_entries_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_search_entries")),
    )
    op.create_index(
        op.f("ix_search_entries_client_id"), "search_entries", ["client_id"], unique=False
    )

    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_corrections_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index(
        op.f("ix_corrections_document_id"), "corrections", ["document_id"], unique=False
    )

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_index(bind)
    else:
        op.execute(
            "CREATE VIRTUAL TABLE documents_fts USING fts5("
            "document_id UNINDEXED, client_id, title, sender, body, stems_title, stems_body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )


def _postgres_index(bind: sa.engine.Connection) -> None:
    """``tsv`` column, GIN index and the ``backoffice_de`` configuration (unaccent if possible)."""
    has_unaccent = False
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        savepoint.commit()
        has_unaccent = True
    except sa.exc.DBAPIError:
        # Not installed on this server, or no right to install it: fold in the application.
        savepoint.rollback()
    op.execute("CREATE TEXT SEARCH CONFIGURATION backoffice_de (COPY = pg_catalog.german)")
    if has_unaccent:
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION backoffice_de "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, german_stem"
        )
    op.add_column("search_entries", sa.Column("tsv", postgresql.TSVECTOR()))
    op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_entries_tsv")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS backoffice_de")
    else:
        op.execute("DROP TABLE IF EXISTS documents_fts")
    op.drop_index(op.f("ix_corrections_document_id"), table_name="corrections")
    op.drop_table("corrections")
    op.drop_index(op.f("ix_search_entries_client_id"), table_name="search_entries")
    op.drop_table("search_entries")
    op.drop_table("document_handles")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")

"""bookkeeping, bank and dunning: booking proposals and exports, bank statements, Mahnungen

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Adds the tables behind follow-ups and bookkeeping: stable personal accounts per correspondent,
booking lines with their approval and export state, the exports filed in the archive, imported
bank transactions with the payments matched to open items, and the dunning notices of the
client's receivables. The audit log gets an index by action and time (login limits, daily
digests). Intakes record their separator pages (a batch without any is cut at detected first
pages). Existing follow-ups get payment state (paid amount, Skonto, disputed); correspondents
get a postal/e-mail address for dunning letters; clients get letterhead and DATEV numbers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(length=64), nullable=False),
        sa.Column("statement_id", sa.String(length=100), nullable=True),
        sa.Column("account_iban", sa.String(length=34), nullable=True),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("counterparty_name", sa.String(length=200), nullable=True),
        sa.Column("counterparty_iban", sa.String(length=34), nullable=True),
        sa.Column("remittance", sa.Text(), nullable=True),
        sa.Column("end_to_end_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_bank_transactions_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transactions")),
        sa.UniqueConstraint("client_id", "entry_key", name=op.f("uq_bank_transactions_client_id")),
    )
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_transactions_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "booking_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("booking_count", sa.Integer(), nullable=False),
        sa.Column("extf_key", sa.String(length=500), nullable=False),
        sa.Column("master_data_key", sa.String(length=500), nullable=True),
        sa.Column("documents_key", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_booking_exports_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_exports")),
    )
    with op.batch_alter_table("booking_exports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_exports_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "personal_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("correspondent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_personal_accounts_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["correspondent_id"],
            ["correspondents.id"],
            name=op.f("fk_personal_accounts_correspondent_id_correspondents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_accounts")),
        sa.UniqueConstraint("client_id", "kind", "key", name="uq_personal_accounts_key"),
        sa.UniqueConstraint("client_id", "number", name="uq_personal_accounts_number"),
    )
    with op.batch_alter_table("personal_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_accounts_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "approved",
                "exported",
                "rejected",
                name="bookingstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("debit_credit", sa.String(length=1), nullable=False),
        sa.Column("account", sa.Integer(), nullable=False),
        sa.Column("contra_account", sa.Integer(), nullable=False),
        sa.Column("bu_key", sa.String(length=4), nullable=True),
        sa.Column("document_date", sa.Date(), nullable=False),
        sa.Column("belegfeld1", sa.String(length=36), nullable=False),
        sa.Column("belegfeld2", sa.String(length=12), nullable=True),
        sa.Column("text", sa.String(length=60), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("export_id", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_bookings_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_bookings_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["booking_exports.id"],
            name=op.f("fk_bookings_export_id_booking_exports"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["bookings.id"], name=op.f("fk_bookings_supersedes_id_bookings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_export_id"), ["export_id"], unique=False)

    op.create_table(
        "dunning_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("followup_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "approved",
                "sent",
                "print",
                "cancelled",
                name="dunningstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("principal", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("interest", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("fees", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("interest_until", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("recipient_email", sa.String(length=200), nullable=True),
        sa.Column("letter_key", sa.String(length=500), nullable=True),
        sa.Column("letter_document_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_dunning_notices_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["followup_id"], ["followups.id"], name=op.f("fk_dunning_notices_followup_id_followups")
        ),
        sa.ForeignKeyConstraint(
            ["letter_document_id"],
            ["documents.id"],
            name=op.f("fk_dunning_notices_letter_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dunning_notices")),
        sa.UniqueConstraint("followup_id", "stage", name=op.f("uq_dunning_notices_followup_id")),
    )
    with op.batch_alter_table("dunning_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dunning_notices_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dunning_notices_followup_id"), ["followup_id"], unique=False
        )

    op.create_table(
        "payment_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("followup_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["followup_id"], ["followups.id"], name=op.f("fk_payment_matches_followup_id_followups")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["bank_transactions.id"],
            name=op.f("fk_payment_matches_transaction_id_bank_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_matches")),
    )
    with op.batch_alter_table("payment_matches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_matches_followup_id"), ["followup_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_matches_transaction_id"), ["transaction_id"], unique=False
        )

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bic", sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("datev_consultant_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("datev_client_number", sa.Integer(), nullable=True))

    with op.batch_alter_table("correspondents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("street", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("zip", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("consumer", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("intakes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("separator_pages", sa.JSON(), nullable=True))

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_action_at", ["action", "at"], unique=False)

    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("skonto_percent", sa.Numeric(precision=5, scale=2), nullable=True)
        )
        batch_op.add_column(sa.Column("skonto_until", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "paid_amount", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False
            )
        )
        batch_op.add_column(sa.Column("paid_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("settled_by", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("disputed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_action_at")

    with op.batch_alter_table("intakes", schema=None) as batch_op:
        batch_op.drop_column("separator_pages")

    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_column("disputed")
        batch_op.drop_column("settled_by")
        batch_op.drop_column("paid_on")
        batch_op.drop_column("paid_amount")
        batch_op.drop_column("skonto_until")
        batch_op.drop_column("skonto_percent")

    with op.batch_alter_table("correspondents", schema=None) as batch_op:
        batch_op.drop_column("consumer")
        batch_op.drop_column("city")
        batch_op.drop_column("zip")
        batch_op.drop_column("street")
        batch_op.drop_column("email")

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("datev_client_number")
        batch_op.drop_column("datev_consultant_number")
        batch_op.drop_column("phone")
        batch_op.drop_column("bic")

    with op.batch_alter_table("payment_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_matches_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_payment_matches_followup_id"))

    op.drop_table("payment_matches")
    with op.batch_alter_table("dunning_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dunning_notices_followup_id"))
        batch_op.drop_index(batch_op.f("ix_dunning_notices_client_id"))

    op.drop_table("dunning_notices")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_export_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_document_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_client_id"))

    op.drop_table("bookings")
    with op.batch_alter_table("personal_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_accounts_client_id"))

    op.drop_table("personal_accounts")
    with op.batch_alter_table("booking_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_exports_client_id"))

    op.drop_table("booking_exports")
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_transactions_client_id"))

    op.drop_table("bank_transactions")

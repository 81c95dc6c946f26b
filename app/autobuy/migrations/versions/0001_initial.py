"""The seed's users and billing tables, plus refresh tokens and processed Stripe events.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIER = sa.Enum("free", "pro", "ultra", name="subscription_tier")
STATUS = sa.Enum("active", "canceled", "past_due", "incomplete", "trialing", "unpaid",
                 name="billing_status")
NOW = sa.text("CURRENT_TIMESTAMP")


def _row_times() -> tuple[sa.Column, sa.Column]:
    """The ``created_at`` and ``updated_at`` columns of the users and billing rows.

    New objects per call: a Column belongs to one table. The DDL is what this revision
    has always emitted (tests/app/test_migrations_ddl.py compares it).
    """
    return (sa.Column("created_at", sa.DateTime, nullable=False, server_default=NOW),
            sa.Column("updated_at", sa.DateTime, nullable=False, server_default=NOW))


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("name", sa.String(255)),
        sa.Column("google_id", sa.String(255), unique=True),
        sa.Column("subscription_tier", TIER, nullable=False, server_default="free"),
        *_row_times(),
        mysql_engine="InnoDB", mysql_charset="utf8mb4",
    )
    op.create_index("idx_email", "users", ["email"])
    op.create_index("idx_google_id", "users", ["google_id"])
    op.create_table(
        "billing",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("stripe_customer_id", sa.String(255)),
        sa.Column("stripe_subscription_id", sa.String(255)),
        sa.Column("amount", sa.DECIMAL(10, 2)),
        sa.Column("currency", sa.String(3)),
        sa.Column("status", STATUS),
        sa.Column("tier", TIER, nullable=False, server_default="free"),
        sa.Column("current_period_end", sa.DateTime),
        *_row_times(),
        mysql_engine="InnoDB", mysql_charset="utf8mb4",
    )
    op.create_index("idx_user_id", "billing", ["user_id"])
    op.create_index("idx_stripe_subscription", "billing", ["stripe_subscription_id"])
    op.create_index("idx_stripe_customer", "billing", ["stripe_customer_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=NOW),
        mysql_engine="InnoDB", mysql_charset="utf8mb4",
    )
    op.create_index("idx_refresh_family", "refresh_tokens", ["family_id"])
    op.create_index("idx_refresh_user", "refresh_tokens", ["user_id"])
    op.create_table(
        "stripe_events",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime, nullable=False, server_default=NOW),
        mysql_engine="InnoDB", mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("stripe_events")
    op.drop_table("refresh_tokens")
    op.drop_table("billing")
    op.drop_table("users")

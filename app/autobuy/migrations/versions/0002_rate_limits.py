"""Rate-limit counters shared by every worker and instance (SqlRateLimiter).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(80), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        mysql_engine="InnoDB", mysql_charset="utf8mb4",
    )
    op.create_index("idx_rate_limits_expires", "rate_limits", ["expires_at"])


def downgrade() -> None:
    op.drop_index("idx_rate_limits_expires", table_name="rate_limits")
    op.drop_table("rate_limits")

"""MySQL tables (SQLAlchemy 2) and the engine factory. Alembic migrations mirror these."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DECIMAL,
    URL,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    create_engine,
    event,
    func,
    make_url,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from autobuy.config import Settings

TIER_ENUM = Enum("free", "pro", "ultra", name="subscription_tier")
BILLING_STATUS_ENUM = Enum("active", "canceled", "past_due", "incomplete", "trialing", "unpaid",
                           name="billing_status")


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    """The seed's ``users`` table plus ``updated_at``."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    google_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    subscription_tier: Mapped[str] = mapped_column(TIER_ENUM, nullable=False, server_default="free")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, server_default=func.now())
    __table_args__ = (Index("idx_email", "email"), Index("idx_google_id", "google_id"))


class BillingRow(Base):
    """The seed's ``billing`` table (one row per user) plus tier, period end and updated_at."""

    __tablename__ = "billing"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False, unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[Decimal | None] = mapped_column(DECIMAL(10, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str | None] = mapped_column(BILLING_STATUS_ENUM)
    tier: Mapped[str] = mapped_column(TIER_ENUM, nullable=False, server_default="free")
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, server_default=func.now())
    __table_args__ = (Index("idx_user_id", "user_id"),
                      Index("idx_stripe_subscription", "stripe_subscription_id"),
                      Index("idx_stripe_customer", "stripe_customer_id"))


class RefreshTokenRow(Base):
    """Rotating refresh tokens, stored as SHA-256 hashes, grouped in families."""

    __tablename__ = "refresh_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    family_id: Mapped[str] = mapped_column(String(36), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="0")
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, server_default=func.now())
    __table_args__ = (Index("idx_refresh_family", "family_id"), Index("idx_refresh_user", "user_id"))


class StripeEventRow(Base):
    """Stripe event ids already processed (a replayed event changes nothing)."""

    __tablename__ = "stripe_events"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    processed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, server_default=func.now())


class RateLimitRow(Base):
    """Requests counted per rate-limit key (as a digest) and window (SqlRateLimiter)."""

    __tablename__ = "rate_limits"
    bucket: Mapped[str] = mapped_column(String(80), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    __table_args__ = (Index("idx_rate_limits_expires", "expires_at"),)


def database_url(settings: Settings) -> URL:
    """The SQLAlchemy URL with the password set as a separate field (masked when printed)."""
    return make_url(settings.database_url()).set(password=settings.db_password.get_secret_value())


# Migrations (ALTER TABLE on a big table) legitimately run long: they get this read/write
# timeout instead of the request-sized one of the settings.
MIGRATION_IO_TIMEOUT_SECONDS = 3600


def tls_connect_args(settings: Settings) -> dict:
    """PyMySQL's TLS options: with ``db_tls_ca`` TLS is required and the server's
    certificate and name are verified; without it PyMySQL's default (TLS when the server
    offers it, unverified) is unchanged."""
    if not settings.db_tls_ca or settings.db_socket:
        return {}
    return {"ssl_ca": settings.db_tls_ca, "ssl_verify_cert": True, "ssl_verify_identity": True}


ACCESS_DENIED = 1045  # ER_ACCESS_DENIED_ERROR: the password is not (or no longer) right


def database_password(settings: Settings) -> Any:
    """The database secret as the engine reads its password: the settings' value, and with
    ``db_secret_id`` the secret re-read from Secrets Manager when MySQL refuses it."""
    from autobuy.secret_values import SecretValue, secrets_client, secrets_manager_fetch

    fetch = (secrets_manager_fetch(settings.db_secret_id, secrets_client(settings), pending_password=True)
             if settings.db_secret_id else None)
    return SecretValue(settings.db_secret_id or "AUTOBUY_DB_PASSWORD", fetch,
                       {"password": settings.db_password.get_secret_value()}, max_age=0)


def make_engine(settings: Settings, *, migrations: bool = False, secret: Any = None) -> Engine:
    """The pooled engine, every call bounded by the settings (docs/api.md, "Timeouts").

    ``connect_timeout`` bounds the TCP connect; pymysql's ``read_timeout`` also bounds the
    server's greeting, so a frozen server fails a connect within connect + read timeout.
    A connection refused with error 1045 re-reads the database secret (``secret``, by
    default :func:`database_password`) and, when the password changed, connects again with
    the new one: a rotated password needs no restart.
    """
    io_timeout = MIGRATION_IO_TIMEOUT_SECONDS if migrations else None
    engine = create_engine(
        database_url(settings), pool_pre_ping=True, pool_recycle=1800,
        pool_size=settings.db_pool_size, max_overflow=settings.db_pool_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={"connect_timeout": settings.db_connect_timeout_seconds,
                      "read_timeout": io_timeout or settings.db_read_timeout_seconds,
                      "write_timeout": io_timeout or settings.db_write_timeout_seconds,
                      **tls_connect_args(settings)})
    secret = secret if secret is not None else database_password(settings)

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict) -> Any:
        import pymysql

        from autobuy.secret_values import PENDING_PASSWORD

        password = str(secret.get()["password"])
        cparams["password"] = password
        try:
            return dialect.connect(*cargs, **cparams)
        except pymysql.err.OperationalError as exc:
            if exc.args[:1] != (ACCESS_DENIED,) or not secret.refreshable:
                raise
            secret.refresh()
            # The current password, else the one a rotation has staged (set in MySQL
            # before the secret makes it current: docs/security.md, "Rotation").
            value = secret.get()
            candidates = [str(value.get(key) or "") for key in ("password", PENDING_PASSWORD)]
            tries = [c for c in dict.fromkeys(candidates) if c and c != password]
            if not tries:
                raise
            for candidate in tries[:-1]:
                cparams["password"] = candidate
                try:
                    return dialect.connect(*cargs, **cparams)
                except pymysql.err.OperationalError as again:
                    if again.args[:1] != (ACCESS_DENIED,):
                        raise
            cparams["password"] = tries[-1]
            return dialect.connect(*cargs, **cparams)

    return engine

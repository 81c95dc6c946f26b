"""MySQL: Alembic migrations up/down and the SQL repositories on a real MariaDB."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from autobuy.migrate import run
from autobuy.models import BillingChange, SubscriptionState
from autobuy.repositories.sql import (
    SqlBillingRepository,
    SqlRefreshTokenRepository,
    SqlUserRepository,
)
from sqlalchemy import inspect

from tests.app.support.local import at_once

pytestmark = [pytest.mark.mysql, pytest.mark.slow]
TABLES = {"users", "billing", "refresh_tokens", "stripe_events", "rate_limits", "alembic_version"}


def test_migrations_up_down_up(mysql_settings):
    from autobuy.db import make_engine

    engine = make_engine(mysql_settings, migrations=True)  # as `python -m autobuy.migrate`
    run(engine, "upgrade", "head")
    assert TABLES <= set(inspect(engine).get_table_names())
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    assert {"id", "email", "name", "google_id", "subscription_tier", "created_at"} <= columns
    run(engine, "downgrade", "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    run(engine, "upgrade", "head")
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_match_migrations(mysql_engine):
    """The SQLAlchemy models and the migrations describe the same schema (autogenerate is empty)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from autobuy.db import Base

    with mysql_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_user_upsert_by_google_id_then_email(mysql_engine):
    users = SqlUserRepository(mysql_engine)
    a = users.upsert(email="ana@example.com", name="Ana", google_id="g-1")
    b = users.upsert(email="ana@example.com", name=None, google_id="g-1")
    assert a.id == b.id and b.name == "Ana" and b.tier == "free"
    dev = users.upsert(email="bob@example.com", name=None, google_id=None)
    linked = users.upsert(email="bob@example.com", name="Bob", google_id="g-2")
    assert dev.id == linked.id and users.get(dev.id).google_id == "g-2"


def test_concurrent_first_sign_in_makes_one_user(mysql_engine):
    # Many sign-ins of a new user at once: InnoDB may pick some of them as deadlock victims
    # (gap locks on the missing row); every one must still come back with the same user.
    users = SqlUserRepository(mysql_engine)
    for n in range(12):
        ids: list[str] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(12)

        def go(n=n, ids=ids, errors=errors, barrier=barrier) -> None:
            barrier.wait()
            try:
                ids.append(users.upsert(email=f"race{n}@example.com", name=None,
                                        google_id=f"g-race-{n}").id)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=go) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(ids) == 12 and len(set(ids)) == 1


def test_refresh_tokens_mark_used_once(mysql_engine):
    users = SqlUserRepository(mysql_engine)
    tokens = SqlRefreshTokenRepository(mysql_engine)
    user = users.upsert(email="t@example.com", name=None, google_id=None)
    tokens.add(token_hash="h" * 64, user_id=user.id, family_id="fam-1",
               expires_at=datetime.now(UTC) + timedelta(days=1))
    results = at_once(lambda: tokens.mark_used("h" * 64), 6)
    assert results.count(True) == 1
    assert tokens.revoke_family("fam-1") == 1 and tokens.get("h" * 64).revoked


def test_billing_event_applied_exactly_once_under_concurrency(mysql_engine):
    users = SqlUserRepository(mysql_engine)
    billing = SqlBillingRepository(mysql_engine)
    user = users.upsert(email="b@example.com", name=None, google_id=None)
    change = BillingChange(user_id=user.id, stripe_customer_id="cus_1", subscription=SubscriptionState(
        status="active", plan_tier="ultra", stripe_subscription_id="sub_1", amount=Decimal("19.99"),
        currency="EUR"))
    results = at_once(lambda: billing.apply_event("evt_same", "customer.subscription.created",
                                                  change), 6)
    assert results.count(True) == 1
    row = billing.get(user.id)
    assert (row.tier, row.status, row.amount) == ("ultra", "active", Decimal("19.99"))
    assert users.get(user.id).tier == "ultra"
    assert billing.find_user_by_customer("cus_1") == user.id


def test_concurrent_events_of_one_user_mirror_the_tier_that_commits_last(mysql_engine):
    """Stripe delivers a user's events at once: each change's mirror (the engine's copy of
    the tier, BillingService's sync_user) is written under the user's row lock, so the
    mirror ends with the tier MySQL ends with; a failing mirror undoes its change."""
    users = SqlUserRepository(mysql_engine)
    billing = SqlBillingRepository(mysql_engine)
    user = users.upsert(email="order@example.com", name=None, google_id=None)
    mirrored, lock = [], threading.Lock()

    def mirror(u) -> None:
        time.sleep(0.05)  # a slow DynamoDB write: the window a later event would overtake in
        with lock:
            mirrored.append(u.tier)

    tiers = iter(["pro", "ultra"] * 3)
    changes = [(f"evt_{i}", next(tiers)) for i in range(6)]
    pending = iter(changes)

    def deliver() -> bool:
        with lock:
            event_id, tier = next(pending)
        return billing.apply_event(event_id, "customer.subscription.updated", BillingChange(
            user_id=user.id, stripe_customer_id="cus_o", subscription=SubscriptionState(
                status="active", plan_tier=tier, stripe_subscription_id="sub_o")), mirror=mirror)

    assert at_once(deliver, 6) == [True] * 6
    assert len(mirrored) == 6 and mirrored[-1] == users.get(user.id).tier

    def broken(_u) -> None:
        raise RuntimeError("DynamoDB unavailable")

    other = "pro" if users.get(user.id).tier == "ultra" else "ultra"
    change = BillingChange(user_id=user.id, stripe_customer_id="cus_o", subscription=SubscriptionState(
        status="active", plan_tier=other, stripe_subscription_id="sub_o"))
    with pytest.raises(RuntimeError):
        billing.apply_event("evt_retry", "customer.subscription.updated", change, mirror=broken)
    assert users.get(user.id).tier != other  # undone, and the event not recorded:
    assert billing.apply_event("evt_retry", "customer.subscription.updated", change, mirror=mirror)
    assert users.get(user.id).tier == other == mirrored[-1]


def test_shared_rate_limit_admits_exactly_the_limit_across_workers(mysql_settings, mysql_engine):
    """Two limiters on their own connection pools (two gunicorn workers, or two
    instances), eight threads each hitting one key: exactly ``limit`` pass."""
    from autobuy.db import make_engine
    from autobuy.errors import RateLimited
    from autobuy.services.ratelimit import SqlRateLimiter

    other = make_engine(mysql_settings)
    limiters = [SqlRateLimiter(mysql_engine), SqlRateLimiter(other)]
    passed, refused, lock = [], [], threading.Lock()

    def go(limiter: SqlRateLimiter) -> None:
        for _ in range(6):
            try:
                limiter.hit("check-user:u1", limit=25, window=3600)
                outcome = passed
            except RateLimited as exc:
                assert 1 <= exc.retry_after <= 3600
                outcome = refused
            with lock:
                outcome.append(1)

    threads = [threading.Thread(target=go, args=(limiters[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert (len(passed), len(refused)) == (25, 23)


def test_rate_limit_windows_roll_keys_are_digests_and_old_rows_go(mysql_engine):
    from autobuy.errors import RateLimited
    from autobuy.services.ratelimit import SqlRateLimiter
    from sqlalchemy import text

    now = [1_800_000_030.0]  # 30 s into a 60 s window
    limiter = SqlRateLimiter(mysql_engine, clock=lambda: now[0], cleanup_every=3)
    limiter.hit("signin-user:bob@example.com", limit=2, window=60)
    limiter.hit("signin-user:bob@example.com", limit=2, window=60)
    with pytest.raises(RateLimited) as refused:
        limiter.hit("signin-user:bob@example.com", limit=2, window=60)
    assert refused.value.retry_after == 30
    limiter.hit("signin-user:alice@example.com", limit=2, window=60)  # other keys count apart
    with mysql_engine.connect() as conn:
        buckets = [row[0] for row in conn.execute(text("SELECT bucket FROM rate_limits"))]
    assert len(buckets) == 2 and not any("example.com" in b for b in buckets)
    now[0] += 60  # the next window: counting starts again; the ended window's rows go
    limiter.hit("signin-user:bob@example.com", limit=2, window=60)
    limiter.hit("signin-user:bob@example.com", limit=2, window=60)
    with mysql_engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM rate_limits")).scalar_one() == 1


def test_previews_and_checks_share_one_budget_across_workers(mysql_settings, mysql_engine):
    """Two apps (two workers) on the same MySQL rate-limit table: previews on one and
    manual checks on the other spend the one hourly budget of the user's tier."""
    from pathlib import Path

    import falcon.testing
    from autobuy.app import create_app
    from autobuy.db import make_engine
    from autobuy.engine.fetch import FetchResult
    from autobuy.services.ratelimit import SqlRateLimiter

    from tests.app import helpers
    from tests.app.conftest import sign_in

    page = (Path(__file__).parent / "engine" / "corpus" / "01-jsonld-offer-de.html").read_bytes()

    class CorpusShop:
        def fetch(self, url: str) -> FetchResult:
            return FetchResult(url, "ok", 200, page, content_type="text/html")

    other = make_engine(mysql_settings)
    stores = helpers.memory_stores()
    stores.previewer = CorpusShop()
    workers = [falcon.testing.TestClient(create_app(mysql_settings, stores=stores,
                                                    limiter=SqlRateLimiter(engine)))
               for engine in (mysql_engine, other)]
    auth = {"Authorization": f"Bearer {sign_in(workers[0])['access_token']}"}
    url = "https://www.technikhaus-beispiel.de/p/laptop-15-123456"
    item = workers[1].simulate_post("/v1/items", headers=auth, json={
        "url": url, "target_price": "999", "currency": "EUR"}).json
    per_hour = mysql_settings.tier("free").manual_checks_per_hour
    codes = []
    for n in range(per_hour + 1):
        if n % 2:
            codes.append(workers[1].simulate_post(f"/v1/items/{item['id']}/check",
                                                  headers=auth).status_code)
        else:
            result = workers[0].simulate_post("/v1/items/preview", headers=auth, json={"url": url})
            codes.append(result.status_code)
            if result.status_code == 200:
                assert result.json["price"] == "1299.99"
    other.dispose()
    assert codes == [200 if n % 2 == 0 else 202 for n in range(per_hour)] + [429]

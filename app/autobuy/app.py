"""The application factory: the one place collaborators are wired together."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import falcon

from autobuy import errors
from autobuy.config import Settings
from autobuy.dependencies import Dependency, aws_config, aws_failure, guard, mysql_failure
from autobuy.middleware import Authentication, BodyLimit, Cors, RequestContext, SecurityHeaders
from autobuy.openapi import document
from autobuy.repositories.base import (
    BillingRepository,
    CheckQueue,
    ItemRepository,
    RefreshTokenRepository,
    UserRepository,
)
from autobuy.engine.orders import NoPurchaser, OrderPolicy, OrderService, PurchaseWebhook, Purchaser
from autobuy.engine.dynamo_store import DynamoEngineStore
from autobuy.engine.store import MemoryEngineStore
from autobuy.resources import auth, billing, config, health, items, orders
from autobuy.services.auth import AuthService
from autobuy.services.billing import BillingService, PaymentGateway, StripeGateway, stripe_failure
from autobuy.services.items import ItemService
from autobuy.services.orders import OrdersApi
from autobuy.services.preview import PreviewFetcher
from autobuy.services.ratelimit import Limiter, RateLimiter, SqlRateLimiter
from autobuy.services.tokens import AccessTokens, GoogleIdTokenVerifier, IdTokenVerifier


@dataclass
class Stores:
    """Every outside collaborator of the app. Tests pass fakes; wsgi passes real ones."""

    users: UserRepository
    refresh_tokens: RefreshTokenRepository
    billing: BillingRepository
    items: ItemRepository
    queue: CheckQueue
    gateway: PaymentGateway | None = None
    google: IdTokenVerifier | None = None
    # The engine's orders/alerts tables; None only for all-in-memory apps (benchmarks,
    # pyc warm-up), which then get an in-memory engine store.
    engine: DynamoEngineStore | MemoryEngineStore | None = None
    purchaser: Purchaser | None = None
    # Rate-limit counters shared by all workers (MySQL); None: in this process's memory.
    limiter: Limiter | None = None
    # The preview's page fetch; None: the engine's Fetcher (services.preview.FetchOnce).
    previewer: PreviewFetcher | None = None


def purchaser_for(settings: Settings) -> Purchaser:
    """The signed purchase webhook of the settings, or :class:`NoPurchaser`.

    Called from a request (confirm), so the timeout and retries are short enough to
    stay inside gunicorn's worker timeout; the receiver deduplicates by Idempotency-Key.
    """
    if not settings.purchase_webhook_url:
        return NoPurchaser()
    import httpx

    return PurchaseWebhook(settings.purchase_webhook_url,
                           settings.purchase_webhook_secret.get_secret_value().encode(),
                           client=httpx.Client(timeout=settings.purchase_webhook_timeout_seconds,
                                               trust_env=False),
                           retries=settings.purchase_webhook_retries)


def dependencies(settings: Settings) -> dict[str, Dependency]:
    """One bulkhead + breaker per dependency of this process (see autobuy.dependencies)."""
    bounds = {"max_in_flight": settings.dependency_max_in_flight,
              "cooldown": settings.dependency_cooldown_seconds,
              "patience": settings.dependency_patience_seconds}
    return {"mysql": Dependency("mysql", classify=mysql_failure, **bounds),
            "dynamodb": Dependency("dynamodb", classify=aws_failure, **bounds),
            "sqs": Dependency("sqs", classify=aws_failure, **bounds),
            "stripe": Dependency("stripe", classify=stripe_failure, **bounds)}


def guarded_stores(stores: Stores, deps: dict[str, Dependency]) -> Stores:
    """``stores`` with every call to MySQL, DynamoDB, SQS and Stripe behind its guard."""
    mysql, dynamodb = deps["mysql"], deps["dynamodb"]
    return replace(
        stores, users=guard(stores.users, mysql), refresh_tokens=guard(stores.refresh_tokens, mysql),
        billing=guard(stores.billing, mysql), items=guard(stores.items, dynamodb),
        queue=guard(stores.queue, deps["sqs"]),
        gateway=guard(stores.gateway, deps["stripe"]) if stores.gateway is not None else None,
        engine=guard(stores.engine, dynamodb) if stores.engine is not None else None,
        limiter=guard(stores.limiter, mysql) if stores.limiter is not None else None)


def real_stores(settings: Settings) -> Stores:
    """MySQL, DynamoDB, SQS and Stripe clients built from the settings (nothing is called yet).

    Every call is bounded (the settings' timeouts) and guarded (:func:`guarded_stores`).
    """
    import boto3

    from autobuy.db import make_engine
    from autobuy.engine.queue import SqsChecksQueue
    from autobuy.repositories.dynamo import DynamoItemRepository, NoCheckQueue
    from autobuy.repositories.sql import (
        SqlBillingRepository,
        SqlRefreshTokenRepository,
        SqlUserRepository,
    )
    from autobuy.timing import Timed

    engine = make_engine(settings)
    aws = {"region_name": settings.aws_region, "config": aws_config(settings)}
    if settings.aws_endpoint_url:
        aws["endpoint_url"] = settings.aws_endpoint_url
    session = boto3.session.Session()
    queue = (SqsChecksQueue(session.client("sqs", **aws), settings.checks_queue_url)
             if settings.checks_queue_url else NoCheckQueue())
    dynamodb = Timed(session.client("dynamodb", **aws))
    stores = Stores(users=SqlUserRepository(engine), refresh_tokens=SqlRefreshTokenRepository(engine),
                    billing=SqlBillingRepository(engine),
                    items=DynamoItemRepository(dynamodb, settings.table_prefix, settings.table_names),
                    queue=queue,
                    engine=DynamoEngineStore(dynamodb, settings.table_prefix, settings.table_names),
                    limiter=SqlRateLimiter(engine), gateway=stripe_gateway(settings))
    return guarded_stores(stores, dependencies(settings))


def stripe_gateway(settings: Settings) -> StripeGateway:
    return StripeGateway(settings.stripe_secret_key.get_secret_value(), api_url=settings.stripe_api_url,
                         timeout=settings.stripe_timeout_seconds, attempts=settings.stripe_attempts)


def signing_keys(settings: Settings) -> Any:
    """The JWT keys: AUTOBUY_JWT_SIGNING_KEY alone, or with AUTOBUY_APP_SECRET_ID the app
    secret's keyring, read now and re-read every AUTOBUY_SECRET_CACHE_SECONDS."""
    if not settings.app_secret_id:
        return settings.jwt_signing_key.get_secret_value()
    from autobuy.secret_values import (
        KeyringSource,
        SecretValue,
        secrets_client,
        secrets_manager_fetch,
    )

    fetch = secrets_manager_fetch(settings.app_secret_id, secrets_client(settings))
    return KeyringSource(SecretValue(settings.app_secret_id, fetch, {},
                                     max_age=settings.secret_cache_seconds))


def create_app(settings: Settings, *, stores: Stores | None = None,
               limiter: Limiter | None = None) -> falcon.App:
    """Build the API. ``stores`` defaults to the real databases named by ``settings``."""
    stores = stores or real_stores(settings)
    limiter = limiter or stores.limiter or RateLimiter()
    access = AccessTokens(signing_keys(settings), settings.access_token_minutes * 60)
    google = stores.google or GoogleIdTokenVerifier(settings.google_client_id, settings.google_jwks_url)
    gateway = stores.gateway or stripe_gateway(settings)

    auth_service = AuthService(users=stores.users, refresh_tokens=stores.refresh_tokens,
                               items=stores.items, access=access, google=google,
                               refresh_days=settings.refresh_token_days)
    item_service = ItemService(items=stores.items, users=stores.users, queue=stores.queue,
                               settings=settings, limiter=limiter, previewer=stores.previewer)
    billing_service = BillingService(billing=stores.billing, users=stores.users, items=stores.items,
                                     gateway=gateway, settings=settings)
    records = stores.engine if stores.engine is not None else MemoryEngineStore()
    order_service = OrderService(records, stores.purchaser or purchaser_for(settings), OrderPolicy(
        monthly_cap=settings.autobuy_monthly_cap,
        confirmation_seconds=settings.autobuy_confirm_seconds))
    orders_api = OrdersApi(order_service, records, records)

    app = falcon.App(middleware=[
        RequestContext(), SecurityHeaders(hsts=settings.env == "production"),
        Cors(settings.cors_origin), BodyLimit(settings.max_body_bytes), Authentication(access),
    ])
    app.req_options.strip_url_path_trailing_slash = True
    errors.register(app)

    app.add_route("/health", health.Health(time.monotonic()))
    app.add_route("/ready", health.Ready({"mysql": stores.users.ping, "dynamodb": stores.items.ping},
                                         settings.ready_timeout_seconds))
    app.add_route("/openapi.json", health.OpenApi(document(dev_signin=settings.dev_signin)))
    app.add_route("/v1/config", config.PublicConfig(settings))
    sign_in = (auth_service, limiter, settings)
    app.add_route("/v1/auth/google", auth.GoogleSignIn(*sign_in))
    if settings.dev_signin:
        app.add_route("/v1/auth/dev", auth.DevSignIn(*sign_in))
    app.add_route("/v1/auth/refresh", auth.Refresh(*sign_in))
    app.add_route("/v1/auth/logout", auth.Logout(*sign_in))
    app.add_route("/v1/me", items.Me(item_service, settings))
    app.add_route("/v1/items", items.Items(item_service, settings))
    app.add_route("/v1/items/preview", items.ItemPreview(item_service, settings))
    app.add_route("/v1/items/{item_id}", items.ItemOne(item_service, settings))
    app.add_route("/v1/items/{item_id}/history", items.ItemHistory(item_service, settings))
    app.add_route("/v1/items/{item_id}/check", items.ItemCheck(item_service, settings))
    app.add_route("/v1/orders", orders.Orders(orders_api))
    app.add_route("/v1/orders/{order_id}/confirm", orders.OrderConfirm(orders_api))
    app.add_route("/v1/orders/{order_id}/cancel", orders.OrderCancel(orders_api))
    app.add_route("/v1/alerts", orders.Alerts(orders_api))
    app.add_route("/v1/billing", billing.BillingState(billing_service, item_service))
    app.add_route("/v1/billing/checkout", billing.Checkout(billing_service, item_service, settings))
    app.add_route("/v1/billing/webhook", billing.Webhook(billing_service, settings))
    return app

"""Every setting comes from the environment (or a `.env` file) and is validated once, at start.

`Settings()` is built by the entry points (CLI, app factory) and passed down; nothing reads
the environment at import time.
"""

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("comptoir", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMPTOIR_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    database_url: Annotated[str | None, Field(validation_alias="DATABASE_URL")] = None
    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    pool_min: Annotated[int, Field(ge=0, le=1000)] = 10
    pool_max: Annotated[int, Field(ge=1, le=1000)] = 30
    statement_timeout_ms: Annotated[int, Field(ge=0)] = 15_000
    jwt_secret: Annotated[SecretStr | None, Field(min_length=32)] = None
    webhook_secret: Annotated[SecretStr | None, Field(min_length=16)] = None
    # Access tokens are short (15 minutes): a storefront renews them with the refresh token,
    # which rotates at each use and lives this many days (docs/api.md, "Sessions").
    token_ttl_seconds: Annotated[int, Field(ge=60, le=30 * 86400)] = 900
    refresh_token_ttl_days: Annotated[int, Field(ge=1, le=365)] = 30
    # The back office's browser session (an httpOnly cookie, docs/back-office.md): a working
    # day, after which the admin signs in again; logging out ends it at once.
    browser_session_minutes: Annotated[int, Field(ge=5, le=7 * 24 * 60)] = 480
    # The origins (scheme://host[:port]) whose pages may call the API from a browser, comma
    # separated; none by default (docs/api.md, "A storefront on another origin").
    cors_origins: str = ""
    # Mail (docs/mail.md): an SMTP server when COMPTOIR_SMTP_HOST is set, else files in
    # COMPTOIR_DATA_DIR/mail. Links in mails start with the storefront's URL.
    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: Annotated[str, Field(min_length=3, max_length=320)] = "shop@localhost"
    storefront_url: Annotated[str, Field(pattern=r"^https?://[^\s]+$")] = "http://localhost:3000"
    # How often the sender looks for mail to send, and how long a password-reset and an
    # email-verification (or change) link works.
    mail_poll_ms: Annotated[int, Field(ge=10, le=60_000)] = 1000
    reset_link_ttl_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 60
    verify_link_ttl_hours: Annotated[int, Field(ge=1, le=30 * 24)] = 48
    # on: checkout needs a verified email, and registering answers the same for a new and a
    # taken address (the owner of a taken one gets a notice); off: neither.
    email_verification: Literal["on", "off"] = "off"
    # required: checkout needs a shipping address (a shop of parcels); optional: a shop of
    # digital goods takes orders without one (docs/api.md, "Checkout").
    shipping_address: Literal["required", "optional"] = "optional"
    rate_limits: Literal["on", "off"] = "on"
    auth_rate_limit: str = "10/minute"
    # Failed logins per account, whatever the address (docs/operations.md, "Rate limits"):
    # a botnet that spreads its guesses over many addresses still meets this one.
    login_account_rate_limit: str = "20/hour"
    # The reverse proxies whose X-Forwarded-For is believed: addresses or networks, comma
    # separated. None by default: a client's X-Forwarded-For is its own say-so.
    trusted_proxies: str = ""
    redis_url: Annotated[str | None, Field(validation_alias="REDIS_URL")] = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    # Unpaid orders hold stock (docs/api.md, "Unpaid orders"): a pending order older than
    # this is cancelled and restocked (0: never), and a customer may leave at most this many
    # pending at once. An hour is how long shops usually hold stock for a payment.
    pending_order_ttl_minutes: Annotated[int, Field(ge=0, le=60 * 24 * 30)] = 60
    max_pending_orders: Annotated[int, Field(ge=1, le=1000)] = 3
    # The shop's name: a password may not be it (auth/passwords.py), nor "comptoir".
    shop_name: Annotated[str, Field(min_length=1, max_length=200)] = "Comptoir"
    # Leads and events (docs/events.md): per client address; retention in months of
    # analytics_events partitions kept besides the current one (None: keep all), and where
    # `comptoir db maintain` writes a partition before dropping it (None: no export).
    leads_rate_limit: str = "5/minute"
    events_rate_limit: str = "600/minute"
    # Events in bytes (docs/events.md, "Disk growth"): the body plus 400 bytes per event
    # (the row it becomes), per client address (256 KiB a minute) and from all clients
    # together (1 GiB a day). Requests alone let one address store gigabytes a minute.
    events_bytes_rate_limit: str = "262144/minute"
    events_bytes_daily_limit: str = "1073741824/day"
    events_retention_months: Annotated[int | None, Field(ge=1, le=1200)] = None
    events_export_dir: Path | None = None
    # Operations (docs/operations.md): how long a request may wait for a pooled connection
    # before it gets 503, when a request is logged as slow, the log format, the largest body
    # accepted, and the bearer token a metrics scraper sends to /metrics.
    pool_wait_ms: Annotated[int, Field(ge=1, le=60_000)] = 1000
    slow_request_ms: Annotated[int, Field(ge=1)] = 500
    log_format: Literal["auto", "json", "console"] = "auto"
    # 5 MiB: room for the largest legitimate body, an events batch (1,000 events of 4 KB).
    max_body_bytes: Annotated[int, Field(ge=1024)] = 5 * 1024 * 1024
    metrics_token: Annotated[SecretStr | None, Field(min_length=16)] = None
    # Row-level security (docs/rls.md): on, the app serves as the comptoir_app role, at
    # COMPTOIR_APP_DATABASE_URL or else at the database URL with that user and no password.
    # On by default: it costs within 10% of throughput on the catalog, the cart and checkout
    # (bench/README.md, "RLS"); off serves as the schema's owner, without the policies.
    rls: Literal["on", "off"] = "on"
    app_database_url: str | None = None
    # Stripe (docs/payments.md): on when both keys are set, off (checkout as before, the
    # neutral webhook only) when neither is. The API base is Stripe's unless a stand-in is
    # wanted (tests, a staging proxy); a call that takes longer than the timeout is given up
    # (the order stays payable), after the SDK's own retries with the same idempotency key.
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: Annotated[str, Field(pattern=r"^https?://[^\s/]+(:\d+)?$")] = (
        "https://api.stripe.com"
    )
    stripe_timeout_seconds: Annotated[float, Field(gt=0, le=80)] = 10.0
    stripe_max_network_retries: Annotated[int, Field(ge=0, le=5)] = 2
    # Past one machine (docs/deployment.md). `pgbouncer`: the app's URL goes through a
    # pooler in transaction mode, so no startup parameters (the timeouts are the role's own,
    # checked at start) and no statement cache, unless COMPTOIR_STATEMENT_CACHE_SIZE says
    # otherwise (PgBouncer 1.21+ with max_prepared_statements tracks the names itself).
    pooler: Literal["none", "pgbouncer"] = "none"
    statement_cache_size: Annotated[int | None, Field(ge=0, le=10_000)] = None
    # Streaming replicas for the catalog, search and analytics reads, comma separated; past
    # this much replay lag (bytes of WAL behind the primary, sampled every
    # COMPTOIR_READ_LAG_SAMPLE_MS) a replica's reads go to the primary.
    read_database_urls: str = ""
    read_max_lag_bytes: Annotated[int, Field(ge=0)] = 16 * 1024 * 1024
    read_lag_sample_ms: Annotated[int, Field(ge=50, le=60_000)] = 1000
    # Verification keys still accepted after a rotation of COMPTOIR_JWT_SECRET, comma
    # separated: tokens signed with them stay valid until they expire.
    jwt_previous_secrets: SecretStr | None = None
    # When Redis does not answer: `closed` refuses the rate-limited endpoints with 503,
    # `open` lets them through uncounted (docs/operations.md, "Rate limits").
    redis_failure: Literal["closed", "open"] = "closed"
    # argon2id's cost for the hashes the API makes (registration, password changes, the
    # rehash at a login): RFC 9106's low-memory profile by default, argon2-cffi's defaults
    # (3 passes over 64 MiB, 4 lanes; 120-180 ms a hash on a 2-core machine). A hash made
    # with other parameters still verifies, at its own cost, and is replaced at its next
    # login (docs/api.md, "Passwords"). Lower them only where no password is real: the test
    # suite does (tests/factories.py), except in its tests of hashing's timing.
    argon2_time_cost: Annotated[int, Field(ge=1)] = 3
    argon2_memory_kib: Annotated[int, Field(ge=8)] = 64 * 1024
    argon2_parallelism: Annotated[int, Field(ge=1, le=255)] = 4

    @field_validator("read_database_urls")
    @classmethod
    def _read_urls(cls, value: str) -> str:
        for item in split_list(value):
            cls._postgres_url(item)
        return value

    def read_url_list(self) -> list[str]:
        return split_list(self.read_database_urls)

    def previous_jwt_secrets(self) -> list[str]:
        if self.jwt_previous_secrets is None:
            return []
        return split_list(self.jwt_previous_secrets.get_secret_value())

    def cache_size(self) -> int:
        """asyncpg's statement cache: off behind a pooler unless said otherwise."""
        if self.statement_cache_size is not None:
            return self.statement_cache_size
        return 0 if self.pooler == "pgbouncer" else 100

    @field_validator("database_url", "app_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "must start with postgresql:// (for example postgresql://user@host/db)"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in split_list(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (such as 10.0.0.1 or"
                    " 10.0.0.0/8); list the proxies themselves, '*' is refused"
                ) from None
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for item in split_list(value):
            if not re.fullmatch(r"https?://[^/\s:]+(:\d{1,5})?", item):
                raise ValueError(
                    f"{item!r} is not an origin: scheme, host and optional port, such as"
                    " https://shop.example.com (no path, no trailing slash, '*' is refused)"
                )
        return value

    def cors_origin_list(self) -> list[str]:
        return split_list(self.cors_origins)

    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(i, strict=False) for i in split_list(self.trusted_proxies)
        )

    @field_validator(
        "auth_rate_limit",
        "login_account_rate_limit",
        "leads_rate_limit",
        "events_rate_limit",
        "events_bytes_rate_limit",
        "events_bytes_daily_limit",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must look like 10/minute or 100/hour") from None
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _stripe_pair(cls, value: SecretStr | None, info: object) -> SecretStr | None:
        data = getattr(info, "data", {})
        if (value is None) != (data.get("stripe_secret_key") is None):
            raise ValueError(
                "set both COMPTOIR_STRIPE_SECRET_KEY and COMPTOIR_STRIPE_WEBHOOK_SECRET, or"
                " neither (Stripe off)"
            )
        return value

    @field_validator("pool_max")
    @classmethod
    def _pool_bounds(cls, value: int, info: object) -> int:
        data = getattr(info, "data", {})
        if "pool_min" in data and value < data["pool_min"]:
            raise ValueError("must be at least COMPTOIR_POOL_MIN")
        return value


def split_list(value: str) -> list[str]:
    """A comma-separated setting's items."""
    return [item.strip() for item in value.split(",") if item.strip()]


class SettingsError(Exception):
    """A bad setting, rendered as one line naming the variable."""


def env_name(location: str) -> str:
    """The variable behind an error location (a field name, or an alias such as DATABASE_URL)."""
    info = Settings.model_fields.get(location)
    if info is None:
        return location
    alias = info.validation_alias
    return alias if isinstance(alias, str) else f"COMPTOIR_{location.upper()}"


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [
            f"{env_name(str(err['loc'][0]))}: {err['msg']}" if err["loc"] else err["msg"]
            for err in exc.errors()
        ]
        raise SettingsError("; ".join(problems)) from None

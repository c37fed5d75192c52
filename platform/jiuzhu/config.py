"""Settings read from the environment (``JIUZHU_*``), with small parse helpers.

Every setting has one name, one parser and one documented default, so that the README's
configuration table and this module cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ConfigError(RuntimeError):
    """A setting is missing or malformed; raised at start-up with a message naming it."""


def parse_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_choice(*choices: str):
    def parse(value: str) -> str:
        v = value.strip().lower()
        if v not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return v

    return parse


def parse_secret(value: str) -> str:
    if len(value) < 16:
        raise ValueError("at least 16 characters")
    return value


@dataclass(frozen=True)
class Setting:
    env: str
    key: str
    parse: Any = str
    default: Any = None
    required: bool = False
    help: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting("JIUZHU_DATABASE_URL", "SQLALCHEMY_DATABASE_URI", required=True,
            help="Database URL the application connects with. PostgreSQL (postgresql+psycopg://…) in "
                 "production, as the non-owner application role; sqlite:///… for the demo."),
    Setting("JIUZHU_DATABASE_ADMIN_URL", "JIUZHU_DATABASE_ADMIN_URL",
            help="Database URL of the schema owner, used by `flask db upgrade`. Defaults to JIUZHU_DATABASE_URL."),
    Setting("JIUZHU_DB_APP_ROLE", "JIUZHU_DB_APP_ROLE", default="jiuzhu_app",
            help="PostgreSQL role the migrations create (NOBYPASSRLS, not the owner) for the application."),
    Setting("JIUZHU_DB_APP_PASSWORD", "JIUZHU_DB_APP_PASSWORD",
            help="If set, the migrations give the application role this password."),
    Setting("JIUZHU_REDIS_URL", "JIUZHU_REDIS_URL", default="redis://127.0.0.1:6379/0",
            help="Redis for RQ queues and API rate limits."),
    Setting("JIUZHU_INSTANCE", "JIUZHU_INSTANCE",
            help="This instance's name (lower-case letters, digits, '-', '_'): the namespace of its RQ queue "
                 "(jiuzhu.<name>) and Redis keys (jiuzhu:<name>:…). Unset: derived from the database's address, "
                 "so that instances on different databases never share a queue."),
    Setting("JIUZHU_REMINDER_SWEEP_SECONDS", "JIUZHU_REMINDER_SWEEP_SECONDS", parse=int, default=300,
            help="How often `rq cron` sweeps the reminder outbox."),
    Setting("JIUZHU_SECRET_KEY", "SECRET_KEY", required=True,
            help="Signs sessions and CSRF tokens. Long and random."),
    Setting("JIUZHU_PLUGINS", "JIUZHU_PLUGINS", parse=parse_list,
            help="Comma-separated allowlist of jurisdiction plugin keys; empty or unset loads every installed plugin."),
    Setting("JIUZHU_SECURE_COOKIES", "JIUZHU_SECURE_COOKIES", parse=parse_bool, default=True,
            help="Send session cookies over HTTPS only. Turn off only for the local demo."),
    Setting("JIUZHU_LOGIN_MAX_FAILURES", "JIUZHU_LOGIN_MAX_FAILURES", parse=int, default=5,
            help="Failed logins for one account within the window that lock it."),
    Setting("JIUZHU_LOGIN_MAX_FAILURES_PER_SOURCE", "JIUZHU_LOGIN_MAX_FAILURES_PER_SOURCE", parse=int, default=20,
            help="Failed logins from one address within the window that lock the address."),
    Setting("JIUZHU_LOGIN_LOCK_MINUTES", "JIUZHU_LOGIN_LOCK_MINUTES", parse=int, default=15,
            help="Length of the failure window and of the lock, in minutes."),
    Setting("JIUZHU_PASSWORD_HASHING", "JIUZHU_PASSWORD_HASHING", default="standard",
            help="`standard` (argon2id, RFC 9106 low-memory profile) or `fast` (argon2id with minimal cost, for tests)."),
    Setting("JIUZHU_API_RATE_PER_MINUTE", "JIUZHU_API_RATE_PER_MINUTE", parse=int, default=120,
            help="Requests one API token may make per minute (fixed window, counted in Redis)."),
    Setting("JIUZHU_API_IDEMPOTENCY_DAYS", "JIUZHU_API_IDEMPOTENCY_DAYS", parse=int, default=30,
            help="Days a stored answer to an Idempotency-Key is kept (a retry after that is a new request)."),
    Setting("JIUZHU_ACCESS_LOG_RETENTION_DAYS", "JIUZHU_ACCESS_LOG_RETENTION_DAYS", parse=int, default=1095,
            help="Days the access log of personal information is kept (at least 183; counties cannot purge it)."),
    Setting("JIUZHU_DEFAULT_LOCALE", "BABEL_DEFAULT_LOCALE", default="zh_Hans_CN",
            help="Default UI language."),
    Setting("JIUZHU_DB_CONNECT_TIMEOUT", "JIUZHU_DB_CONNECT_TIMEOUT", parse=int, default=5,
            help="Seconds to wait for a PostgreSQL connection before answering 503 (an unreachable host never hangs a request)."),
    Setting("JIUZHU_DB_PREPARE_THRESHOLD", "JIUZHU_DB_PREPARE_THRESHOLD", parse=int, default=5,
            help="Executions of a statement on a connection after which psycopg prepares it on the server (planned "
                 "once, not at every request); 0 never prepares (PgBouncer in transaction pooling before 1.21)."),
    Setting("JIUZHU_LOG_FORMAT", "JIUZHU_LOG_FORMAT", parse=parse_choice("json", "text"), default="json",
            help="`json` (one JSON object a line: request id, tenant, user id, endpoint, status, duration) or `text` (the demo)."),
    Setting("JIUZHU_LOG_LEVEL", "JIUZHU_LOG_LEVEL", parse=parse_choice("debug", "info", "warning", "error"),
            default="info", help="Lowest level logged."),
    Setting("JIUZHU_METRICS_TOKEN", "JIUZHU_METRICS_TOKEN", parse=parse_secret,
            help="Bearer secret (16+ characters) that Prometheus sends to read /metrics; unset, /metrics answers 404."),
    Setting("JIUZHU_TRUSTED_PROXIES", "JIUZHU_TRUSTED_PROXIES", parse=int, default=0,
            help="Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted (1 behind nginx); 0 trusts none."),
    Setting("JIUZHU_KEYS_FILE", "JIUZHU_KEYS_FILE",
            help="Key file (JSON, mode 600) holding the field-encryption, blind-index and audit keys with their "
                 "ids; `python -m jiuzhu.crypto generate FILE` makes one. This or JIUZHU_KEYS is required."),
    Setting("JIUZHU_KEYS", "JIUZHU_KEYS",
            help="The same key document as JSON in the environment (e.g. injected by a secrets manager), "
                 "instead of JIUZHU_KEYS_FILE."),
    Setting("JIUZHU_AUDIT_ANCHOR_DIR", "JIUZHU_AUDIT_ANCHOR_DIR",
            help="Directory outside the database (another machine's mount, write-once storage) where each "
                 "county's audit chain head is written daily as a signed anchor file; `flask audit verify` "
                 "checks the chain against them."),
)


def load_config(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict:
    """Build the Flask config from the environment; ``overrides`` (already parsed) win."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    config: dict[str, Any] = {}
    for s in SETTINGS:
        if s.key in overrides:
            config[s.key] = overrides.pop(s.key)
            continue
        raw = environ.get(s.env)
        if raw is None or raw == "":
            if s.required:
                raise ConfigError(f"{s.env} is not set. {s.help}")
            config[s.key] = s.default
            continue
        try:
            config[s.key] = s.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{s.env}={raw!r} is not valid: {exc}") from exc
    config.update(overrides)
    if int(config.get("JIUZHU_ACCESS_LOG_RETENTION_DAYS") or 0) < 183:
        raise ConfigError("JIUZHU_ACCESS_LOG_RETENTION_DAYS must be at least 183: the access log of personal "
                          "information is kept six months or more.")
    secure = config["JIUZHU_SECURE_COOKIES"]
    config.setdefault("SESSION_COOKIE_SECURE", secure)
    config.setdefault("REMEMBER_COOKIE_SECURE", secure)
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("PERMANENT_SESSION_LIFETIME", 8 * 3600)
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(config))
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tokens live as long as the session
    # no request body over 16 MiB is read at all (413); each upload has its own smaller limit
    config.setdefault("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
    return config


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options: a dead pooled connection is replaced before use (the app recovers
    by itself when PostgreSQL is back), connecting gives up after JIUZHU_DB_CONNECT_TIMEOUT, a
    statement run JIUZHU_DB_PREPARE_THRESHOLD times on a connection is prepared there (see
    ``jiuzhu.plans``), and statement parameters (names, ID numbers) never appear in an error
    message or a log line."""
    options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    url = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if url.startswith("postgresql"):
        threshold = int(config.get("JIUZHU_DB_PREPARE_THRESHOLD", 5))
        options["connect_args"] = {"connect_timeout": int(config.get("JIUZHU_DB_CONNECT_TIMEOUT") or 5),
                                   # psycopg: None never prepares (0 would prepare every statement at once)
                                   "prepare_threshold": threshold if threshold > 0 else None}
    return options

"""Configuration, read from the environment only (see .env.example for every variable)."""

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def _default_db() -> str:
    return f"sqlite:///{ROOT / 'instance' / 'financialtracker.db'}"


def _instance_secret() -> str | None:
    path = ROOT / "instance" / "secret_key"
    return (path.read_text().strip() or None) if path.is_file() else None


# keys that were ever written in this repository or its examples: never accepted
KNOWN_KEYS = {"dev-only-change-me", "change-me-to-a-long-random-string"}


class Config:
    # no default: a key everybody knows signs nobody's session. `make run` writes a random one
    # into instance/secret_key; tests set their own; production sets SECRET_KEY
    SECRET_KEY = os.environ.get("SECRET_KEY") or _instance_secret()
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", _default_db())
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    # a Redis that does not answer must not hold a page for long: pages fail open without it
    REDIS_CONNECT_TIMEOUT = float(os.environ.get("REDIS_CONNECT_TIMEOUT", "1"))
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    # files (exports, later uploads) live outside static/, served only through authorised views
    STORAGE_DIR = os.environ.get("STORAGE_DIR", str(ROOT / "instance" / "storage"))
    EXPORT_LIFETIME_DAYS = 7
    # a killed export build is tried again after these many seconds (then shown as failed)
    EXPORT_RETRY_INTERVALS = [
        int(x) for x in os.environ.get("EXPORT_RETRY_INTERVALS", "10,60").split(",") if x
    ]
    # uploads: the largest file accepted (MB) unless a checklist entry sets its own limit
    UPLOAD_MAX_MB = int(os.environ.get("UPLOAD_MAX_MB", "20"))
    MAX_CONTENT_LENGTH = (UPLOAD_MAX_MB * 5 + 1) * 1024 * 1024  # a batch of a few files

    # domain.md §6, in basis points (3000 = 30 %): the defaults snapshotted on a dossier when the
    # client validates the audit; an empty value is a missing rate (no invoice, admins alerted)
    FEE_CLIENT_DEFAULT_BP = os.environ.get("FEE_CLIENT_DEFAULT_BP", "3000")
    FEE_PLATFORM_BP = os.environ.get("FEE_PLATFORM_BP", "3000")
    FEE_REFERRER_SHARE_BP = os.environ.get("FEE_REFERRER_SHARE_BP", "1000")
    EXPERT_ACCEPTANCE_HOURS = int(os.environ.get("EXPERT_ACCEPTANCE_HOURS", "48"))
    # Web Push (VAPID): `flask push keygen` prints both; without them push is not offered
    VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")  # base64url raw key
    VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "")  # base64url, for the browser
    VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:support@financialtracker.fr")

    # Stripe (A9). Without a secret key online payment is "not configured" and bank transfer
    # stays available. STRIPE_API_BASE points at a local Stripe-compatible server in tests and
    # `make run` (localstripe); STRIPE_JS_URL is where the browser loads Stripe.js from
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
    STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
    # a webhook whose signature is older than this is refused (Stripe's own default)
    STRIPE_WEBHOOK_TOLERANCE = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE", "300"))
    # dunning (A9): a failed renewal is tried again after these many days from the failure,
    # three tries over 14 days; after the last one the client drops to Starter
    DUNNING_RETRY_DAYS = [
        int(x) for x in os.environ.get("DUNNING_RETRY_DAYS", "3,7,14").split(",") if x
    ]

    # CMI 3D Pay Hosting (A9), for clients paying in dirhams: the merchant id and store key CMI
    # gives (the key never leaves the server), its gateway page, and the rate invoices in euros
    # are charged at (dirhams for one euro)
    CMI_CLIENT_ID = os.environ.get("CMI_CLIENT_ID", "")
    CMI_STORE_KEY = os.environ.get("CMI_STORE_KEY", "")
    CMI_GATEWAY_URL = os.environ.get(
        "CMI_GATEWAY_URL", "https://testpayment.cmi.co.ma/fim/est3Dgate"
    )
    CMI_MAD_PER_EUR = os.environ.get("CMI_MAD_PER_EUR", "10.80")

    # the platform's own bank account: shown on every invoice for transfers (with a structured
    # RF reference) and debited by the referrers' payout batches (pain.001)
    PLATFORM_IBAN = os.environ.get("PLATFORM_IBAN", "")
    PLATFORM_BIC = os.environ.get("PLATFORM_BIC", "")

    # name -> default job timeout in seconds
    RQ_QUEUES = {"high": 60, "default": 180, "exports": 900}
    # False runs jobs inline (no worker): only for one-off scripts, never in tests or production
    RQ_ASYNC = _bool("RQ_ASYNC", True)
    # workers yield the CPU to the web processes when they share a machine: a page or an
    # action answers first, the announcements and emails it queued follow a moment later
    WORKER_NICE = int(os.environ.get("WORKER_NICE", "10"))

    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "threading")
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "financialtracker-socketio")

    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "8025"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "10"))
    # replies to ticket emails: their Reply-To is ticket-<n>-<signature>@MAIL_INBOUND_DOMAIN,
    # whose MX hands them to `flask support mail-in` (listening on MAIL_INBOUND_PORT)
    MAIL_INBOUND_DOMAIN = os.environ.get("MAIL_INBOUND_DOMAIN", "reply.localhost")
    MAIL_INBOUND_PORT = int(os.environ.get("MAIL_INBOUND_PORT", "2526"))
    # seconds between retries of a failed send (RQ Retry intervals; needs a worker with scheduler)
    EMAIL_RETRY_INTERVALS = [
        int(s) for s in os.environ.get("EMAIL_RETRY_INTERVALS", "10,60,300").split(",") if s
    ]
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "FinancialTracker <no-reply@financialtracker.fr>"
    )

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = ("fr", "en")

    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", REDIS_URL)
    CACHE_SECONDS = 5  # KPIs may be a few seconds old, never minutes

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", REDIS_URL)
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Redis is a helper, not the source of truth: while it is down, limits are counted in the
    # process's memory (per process, so looser) and a storage error never fails a request
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    # failed logins slow down instead of locking (app/services/login_throttle.py): after the
    # free attempts per account (or per trusted browser) and per IP address, each failure
    # doubles the wait from LOGIN_DELAY_BASE seconds up to LOGIN_DELAY_MAX
    LOGIN_FREE_ATTEMPTS = int(os.environ.get("LOGIN_FREE_ATTEMPTS", "5"))
    LOGIN_FREE_ATTEMPTS_IP = int(os.environ.get("LOGIN_FREE_ATTEMPTS_IP", "20"))
    LOGIN_DELAY_BASE = int(os.environ.get("LOGIN_DELAY_BASE", "15"))
    LOGIN_DELAY_MAX = int(os.environ.get("LOGIN_DELAY_MAX", "900"))
    RATELIMIT_SIGNUP = os.environ.get("RATELIMIT_SIGNUP", "5 per minute;30 per hour")
    RATELIMIT_RESET = os.environ.get("RATELIMIT_RESET", "5 per minute;20 per hour")
    # the public simulation API, per IP: partner sites embed it, scrapers must not hammer it
    # the request form, the contact page and the simulator's "call me": people, not robots
    RATELIMIT_REQUEST_FORM = os.environ.get("RATELIMIT_REQUEST_FORM", "5 per minute;20 per hour")
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "60 per minute;1000 per day")
    RATELIMIT_MESSAGES = os.environ.get("RATELIMIT_MESSAGES", "30 per minute;300 per hour")

    # pages and static files compressed for cheap phones on poor networks (nginx does it in front
    # of the web process too; this covers `make run` and direct access)
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 1024

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    # werkzeug method string; tests lower the scrypt cost through the environment
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    PASSWORD_RESET_MAX_AGE = 3600
    EMAIL_VERIFY_MAX_AGE = 7 * 86400

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    LOG_JSON = _bool("LOG_JSON", True)
    # a request slower than this is logged as a warning, with its SQL and collector time
    SLOW_REQUEST_MS = float(os.environ.get("SLOW_REQUEST_MS", "200"))
    # trust X-Forwarded-For from this many proxies (nginx in front = 1)
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
    FORCE_HTTPS = _bool("FORCE_HTTPS")

    # operations (A12; README "Operations"). Logs also go to LOG_FILE when set, rotated at
    # LOG_MAX_MB and every midnight, LOG_BACKUPS files kept
    LOG_FILE = os.environ.get("LOG_FILE", "")
    LOG_MAX_MB = float(os.environ.get("LOG_MAX_MB", "50"))
    LOG_BACKUPS = int(os.environ.get("LOG_BACKUPS", "14"))
    # errors go to a Sentry-protocol tracker when a DSN is set (personal data scrubbed)
    SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
    SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "production")
    # /metrics: with a token, only `Authorization: Bearer <token>`; without, only these networks
    METRICS_ENABLED = _bool("METRICS_ENABLED", True)
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    METRICS_NETWORKS = os.environ.get("METRICS_NETWORKS", "127.0.0.1/32,::1/128")
    # health: a queue whose oldest job waited longer, a disk fuller, a scheduler quieter than
    # these is degraded; a realtime process of its own is asked at REALTIME_HEALTH_URL
    HEALTH_QUEUE_AGE_S = int(os.environ.get("HEALTH_QUEUE_AGE_S", "300"))
    HEALTH_DISK_PERCENT = float(os.environ.get("HEALTH_DISK_PERCENT", "90"))
    HEALTH_SCHEDULER_SILENT_S = int(os.environ.get("HEALTH_SCHEDULER_SILENT_S", "180"))
    HEALTH_TIMEOUT_S = float(os.environ.get("HEALTH_TIMEOUT_S", "3"))
    REALTIME_HEALTH_URL = os.environ.get("REALTIME_HEALTH_URL", "")
    # the monitor process (`python -m app.worker monitor`): rules evaluated every tick, the
    # pulse stored every PULSE_SECONDS, the components checked every HEALTH_SECONDS
    MONITOR_TICK_S = float(os.environ.get("MONITOR_TICK_S", "1"))
    PULSE_SECONDS = int(os.environ.get("PULSE_SECONDS", "10"))
    HEALTH_SECONDS = int(os.environ.get("HEALTH_SECONDS", "30"))
    # alert channels: a Slack incoming webhook; an SMS provider's HTTP API (POST JSON
    # {"from", "to", "text"} with a bearer token) and the numbers it texts
    SLACK_WEBHOOK_URL = os.environ.get("SLACK_WEBHOOK_URL", "")
    SMS_API_URL = os.environ.get("SMS_API_URL", "")
    SMS_API_TOKEN = os.environ.get("SMS_API_TOKEN", "")
    SMS_SENDER = os.environ.get("SMS_SENDER", "FinTracker")
    # backups (`flask ops backup`, and daily by the cron): one folder each, the newest kept
    BACKUP_DIR = os.environ.get("BACKUP_DIR", str(ROOT / "instance" / "backups"))
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))
    ALERT_SMS_TO = [x.strip() for x in os.environ.get("ALERT_SMS_TO", "").split(",") if x.strip()]

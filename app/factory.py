"""The application factory: wires extensions, blueprints, real time and jobs together.

It lives beside the package's `__init__`, not in it: every module imports `app`, and the
factory imports every blueprint, so importing it from `__init__` would be a cycle."""

import secrets

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import cli, errors, i18n, realtime
from app.config import KNOWN_KEYS, ROOT, Config
from app.core import cachefailopen, jobs, logs, metrics, tracking
from app.core.validators import MAX_ID
from app.extensions import cache, compress, cors, csrf, db, limiter, login, mail, migrate
from app.models import database
from app.web import hx, security, templating
from blueprints import register_blueprints


class DatabaseInt(IntegerConverter):
    """`<int:…>` matches only ids the database can hold: a longer number is a 404, never a
    query the database refuses."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _require_secret_key(app: Flask) -> None:
    key = app.config.get("SECRET_KEY")
    if app.testing and not key:
        app.config["SECRET_KEY"] = secrets.token_hex(32)  # a test app of its own
        return
    if not key or key in KNOWN_KEYS or len(key) < 32:
        raise RuntimeError(
            "SECRET_KEY is missing, too short or a published example: set SECRET_KEY to at "
            "least 32 random characters (`make run` writes one into instance/secret_key)."
        )


def create_app(config: type[Config] = Config, **overrides) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config)
    app.config.update(overrides)
    _require_secret_key(app)
    app.url_map.converters["int"] = DatabaseInt
    if app.config["PROXY_FIX_HOPS"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["PROXY_FIX_HOPS"], x_proto=1, x_host=1
        )

    logs.init_app(app)
    metrics.init_app(app)
    tracking.init_app(app)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    cache.configure(
        "dogpile.cache.redis",
        expiration_time=app.config["CACHE_SECONDS"],
        arguments={
            "url": app.config["CACHE_REDIS_URL"],
            # an expired entry stays readable this long, served while one caller renews it
            "redis_expiration_time": max(app.config["CACHE_SECONDS"] * 12, 600),
            "distributed_lock": True,
            "thread_local_lock": False,
            "lock_timeout": 60,  # a process that dies while renewing does not block forever
            "connection_kwargs": {"socket_connect_timeout": app.config["REDIS_CONNECT_TIMEOUT"]},
        },
        replace_existing_backend=True,  # tests build several apps in one process
        wrap=[cachefailopen.FailOpen],  # Redis down: every read is a miss, computed afresh
    )
    compress.init_app(app)
    cors.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    hx.init_app(app)
    errors.init_app(app)
    jobs.init_app(app)
    realtime.init_app(app)

    cli.init_app(app)
    register_blueprints(app)
    return app

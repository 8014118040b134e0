"""Fixtures on the real stack: PostgreSQL or SQLite (DATABASE_URL), Redis (REDIS_URL), an aiosmtpd
sink, RQ workers in burst mode, a gunicorn server for realtime and browser tests."""

import email
import email.policy
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ROOT = Path(__file__).resolve().parent.parent
SMTP_PORT = free_port()
LIVE_PORT = free_port()
STRIPE_PORT = free_port()
CMI_PORT = free_port()
# set before the app's config is imported; the live server subprocess inherits them
os.environ.update(
    {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(SMTP_PORT),
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # fast hashing in tests only
        "EMAIL_RETRY_INTERVALS": "0,0,0",
        "EXPORT_RETRY_INTERVALS": "0,0",
        "PUBLIC_URL": f"http://127.0.0.1:{LIVE_PORT}",
        "LOG_JSON": "0",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "SOCKETIO_CHANNEL": f"ft-test-{os.getpid()}",
        # Stripe is localstripe (the `localstripe` fixture starts it); its webhooks reach the
        # live server, signed with this secret
        "STRIPE_SECRET_KEY": "sk_test_suite",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_suite",
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "STRIPE_API_BASE": f"http://127.0.0.1:{STRIPE_PORT}",
        "STRIPE_JS_URL": f"http://127.0.0.1:{STRIPE_PORT}/js.stripe.com/v3/",
        # CMI is the local gateway of devtools/ (the `cmi_gateway` fixture starts it)
        "CMI_CLIENT_ID": "600000001",
        "CMI_STORE_KEY": "Store|Key\\"
        + secrets.token_hex(8),  # | and \ as CMI's escaping meets them
        "CMI_GATEWAY_URL": f"http://127.0.0.1:{CMI_PORT}/fim/est3Dgate",
        "PLATFORM_IBAN": "FR7630006000011234567890189",
        "PLATFORM_BIC": "AGRIFRPP",
        # every process of the suite (this one, the live server, workers) counts its metrics
        # in one fresh directory, as gunicorn's workers do in production
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="ft-metrics-"),
        "BACKUP_DIR": tempfile.mkdtemp(prefix="ft-backups-"),
        # one key for the suite and the servers it starts (the app refuses to run without)
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
    }
)
if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
    raise RuntimeError("run the suite with `make test` (it starts Redis and PostgreSQL)")

from aiosmtpd.controller import Controller  # noqa: E402
from flask_babel import force_locale  # noqa: E402
from redis import Redis  # noqa: E402

from app.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402


class SmtpSink:
    """Collects messages; `fail_next` makes the next N DATA commands fail temporarily."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.fail_next = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail_next > 0:
            self.fail_next -= 1
            return "451 4.3.0 Temporary failure, try again"
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    def body(self, message, subtype="plain") -> str:
        return message.get_body(preferencelist=(subtype,)).get_content()


@pytest.fixture(scope="session")
def smtp():
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield sink
    controller.stop()


def _reset_schema(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        else:
            db.drop_all()
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(directory=str(ROOT / "migrations"))


@pytest.fixture(scope="session")
def app(smtp):
    import tempfile

    # shared with the live server (a subprocess reading the environment) and the test workers
    os.environ["STORAGE_DIR"] = tempfile.mkdtemp(prefix="ft-storage-")
    application = create_app(
        TESTING=True,
        STORAGE_DIR=os.environ["STORAGE_DIR"],
        # pinned: assertions read French pages and Paris dates whatever the machine says
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_DEFAULT_TIMEZONE="Europe/Paris",
    )
    _reset_schema(application)
    return application


@pytest.fixture(scope="session")
def redis_conn(app) -> Redis:
    return app.extensions["redis"]


@pytest.fixture(autouse=True)
def clean_state(request, smtp):
    """Every test starts with empty tables, an empty Redis database and an empty mailbox."""
    if "app" not in request.fixturenames and "live_server" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        engine = db.engine
        tables = [t.name for t in db.metadata.sorted_tables]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            else:
                for name in reversed(tables):
                    conn.exec_driver_sql(f"DELETE FROM {name}")
        from app.services import catalogue, plans, sla

        catalogue.seed()  # the catalogue is reference data every test may rely on
        sla.install_defaults()  # and so are the default calendar and SLA policy
        plans.install_defaults()  # and the plans, Starter first
    application.extensions["redis"].flushdb()
    smtp.messages.clear()
    smtp.fail_next = 0
    yield
    if "localstripe" in request.fixturenames:
        # localstripe sends each webhook one second after the event, from its own loop: let the
        # last ones land now, not in the next test's empty tables
        time.sleep(1.5)


@pytest.fixture
def run_jobs(app):
    """A real RQ worker (in-process, burst): runs everything queued, retries included."""
    from app.worker import InProcessWorker  # the workers' own class, minus the fork of exports

    def run(queues=("high", "default", "exports")) -> None:
        with app.app_context():
            queue_objs = [app.extensions["rq"][q] for q in queues]
            InProcessWorker(queue_objs, connection=app.extensions["redis"]).work(
                burst=True, with_scheduler=True
            )

    return run


def _start_gunicorn(port: int, log_path: str | None):
    """gunicorn with the gevent worker, serving pages and /socket.io/ (the `make run` shape)."""
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = open(log_path or os.devnull, "w")
    proc = subprocess.Popen(
        [
            gunicorn,
            "--no-control-socket",
            "-k",
            "gevent",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:realtime",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=0.5)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("live server exited") from None
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("live server did not start")
    return proc, url


@pytest.fixture(scope="session")
def live_server(app):
    proc, url = _start_gunicorn(LIVE_PORT, os.environ.get("LIVE_SERVER_LOG"))
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def localstripe(live_server):
    """A stateful Stripe-compatible server (real API objects, real signed webhooks) whose
    webhooks go to the live server's endpoint, as Stripe's would."""
    exe = str(Path(sys.executable).parent / "localstripe")
    log = open(os.environ.get("LOCALSTRIPE_LOG") or os.devnull, "w")
    proc = subprocess.Popen(
        [exe, "--port", str(STRIPE_PORT), "--from-scratch"], stdout=log, stderr=subprocess.STDOUT
    )
    base = os.environ["STRIPE_API_BASE"]
    data = urllib.parse.urlencode(
        {"url": f"{live_server}/webhooks/stripe", "secret": os.environ["STRIPE_WEBHOOK_SECRET"]}
    ).encode()
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/_config/webhooks/suite", data=data, timeout=0.5)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("localstripe exited") from None
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("localstripe did not start")
    yield base
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def cmi_gateway(live_server):
    """The local CMI 3D Pay Hosting gateway, calling the live server's callback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.cmi_gateway", "--port", str(CMI_PORT)]
        + ["--store-key", os.environ["CMI_STORE_KEY"]],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{CMI_PORT}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/_calls", timeout=0.5)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("the CMI gateway exited") from None
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def second_realtime(live_server):
    """Another realtime process on the same Redis message queue (as with two `realtime` lines)."""
    proc, url = _start_gunicorn(free_port(), None)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """One request context for the whole test, in French, and its database session: the
    fixture for tests that call services and build rows with `tests.factories.models`
    (`gen_dossier(ctx, …)`). Not for tests that also go through the test client: a request
    made inside it would share this context, and its session, instead of opening its own."""
    with app.test_request_context(), force_locale("fr"):
        yield db.session
        db.session.rollback()

"""Logs and errors (A12): JSON lines with the request and the user, in a file rotated by size;
errors sent to a Sentry-protocol endpoint (a real local HTTP server receiving the envelope)
without the personal data of the request."""

import gzip
import json
import logging
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import sentry_sdk

from app.factory import create_app
from app.models import Role
from tests.factories import login, make_user


def _restore_logging(app):
    from app.core.logs import configure_logging

    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_JSON"])


def test_json_lines_carry_the_request_and_the_user_and_rotate(app, tmp_path):
    path = tmp_path / "logs" / "web.log"
    logged = create_app(TESTING=True, LOG_FILE=str(path), LOG_MAX_MB=0.01, LOG_BACKUPS=3)
    try:
        make_user(app, Role.CLIENT, email="logged@example.fr")
        client = logged.test_client()
        login(client, "logged@example.fr")
        logging.getLogger("financialtracker.access").setLevel(logging.INFO)
        client.get("/help", headers={"X-Request-ID": "req-42"})
        lines = [json.loads(x) for x in path.read_text().splitlines()]
        [line] = [x for x in lines if x.get("request_id") == "req-42"]
        assert line["path"] == "/help" and line["status"] == 200 and line["level"] == "INFO"
        assert isinstance(line["user_id"], int)
        for _ in range(200):  # well over 10 KB: rotated, at most 3 old files kept
            logging.getLogger("test").warning("x" * 200)
        files = sorted(p.name for p in path.parent.iterdir() if p.name.startswith("web.log"))
        rotated = [f for f in files if f != "web.log"]
        assert 1 <= len(rotated) <= 3
        assert path.stat().st_size < 20 * 1024
    finally:
        _restore_logging(app)


class Envelopes:
    """A Sentry-protocol endpoint: keeps each envelope's items."""

    def __init__(self):
        self.items: list[dict] = []
        self.raw: list[bytes] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"] or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    body = brotli.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                sink.raw.append(body)
                lines = body.split(b"\n")
                sink.items += [json.loads(x) for x in lines[2::2] if x.strip()]
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_an_error_reaches_the_tracker_without_personal_data(app):
    sink = Envelopes()
    tracked = create_app(
        TESTING=True,
        PROPAGATE_EXCEPTIONS=False,
        SENTRY_DSN=f"http://publickey@127.0.0.1:{sink.port}/42",
    )

    @tracked.get("/boom-for-the-tracker")
    def boom():
        raise RuntimeError("could not bill jeanne.martin@example.fr at 06 12 34 56 78")

    try:
        make_user(app, Role.CLIENT, email="tracked@example.fr")
        client = tracked.test_client()
        login(client, "tracked@example.fr")
        resp = client.get("/boom-for-the-tracker?email=tracked@example.fr")
        assert resp.status_code == 500
        sentry_sdk.flush(timeout=5)
        events = [i for i in sink.items if i.get("exception")]
        assert events, sink.raw
        event = events[0]
        assert event["exception"]["values"][-1]["type"] == "RuntimeError"
        assert event["user"]["id"].isdigit()
        everything = b"".join(sink.raw).decode()
        for secret in ("jeanne.martin@example.fr", "06 12 34 56 78", "tracked@example.fr"):
            assert secret not in everything
        assert "[email]" in everything and "[phone]" in everything
        assert "session=" not in everything.lower()  # no cookie
    finally:
        sentry_sdk.init()  # no DSN: the rest of the suite sends nothing
        sink.server.shutdown()
        _restore_logging(app)

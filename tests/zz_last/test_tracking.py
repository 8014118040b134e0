"""Run last (tests/zz_last): sentry-sdk patches process-wide libraries once initialised, and
a later test of the Redis outage saw its jobs go missing from the outbox after it. Errors sent
to a Sentry-protocol endpoint (a real local HTTP server receiving the envelope) without the
personal data of the request."""

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import sentry_sdk

from app.factory import create_app
from app.models import Role
from tests.factories import login, make_user
from tests.ops.test_logs import _restore_logging


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

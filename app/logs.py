"""JSON logs with a request id (taken from X-Request-ID when a proxy sets one)."""

import logging
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(g, "request_id", None) if has_request_context() else None
        return True


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    if as_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "ts", "levelname": "level"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_JSON"])
    access = logging.getLogger("financialtracker.access")

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(resp):
        resp.headers["X-Request-ID"] = g.get("request_id", "")
        if request.path.startswith("/static/"):
            return resp
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        access.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": resp.status_code,
                "ms": round(elapsed, 2),
            },
        )
        return resp

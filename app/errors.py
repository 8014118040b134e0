"""Error pages: a full page for navigation, a fragment for htmx swaps, JSON for /api."""

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.core.errors import DomainError
from app.web import hx

log = logging.getLogger(__name__)


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Bad request"),
            _("The request could not be understood. Please try again."),
        ),
        401: (_("Please log in"), _("You need to be logged in to do this.")),
        403: (_("Access denied"), _("Your account does not give access to this page.")),
        404: (
            _("Page not found"),
            _("This page does not exist or is not available to you."),
        ),
        405: (
            _("Action not allowed"),
            _("This address does not accept this kind of request."),
        ),
        409: (
            _("Changed in the meantime"),
            _("Someone changed this at the same time. Reload the page to see the current state."),
        ),
        413: (
            _("Files too large"),
            _(
                "What you sent is too large. Send fewer files at a time, each of %(n)d MB at most.",
                n=current_app.config["UPLOAD_MAX_MB"],
            ),
        ),
        422: (_("Invalid data"), _("Some of the information given is not valid.")),
        429: (
            _("Too many attempts"),
            _("You have made too many attempts. Please wait a moment and try again."),
        ),
        500: (
            _("Something went wrong"),
            _("An unexpected error happened on our side. It has been logged; please retry."),
        ),
    }


def render_error(status: int, message: str | None = None):
    title, default_text = _titles().get(status, _titles()[500])
    text = message or default_text
    if request.path.startswith("/api/"):
        return jsonify({"error": title, "message": text}), status
    ctx = {"status": status, "title": title, "text": text}
    template = "errors/_error.html" if hx.wants_fragment() else "errors/page.html"
    return render_template(template, **ctx), status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return render_error(exc.status, exc.message or None)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if isinstance(exc, CSRFError):
            return render_error(
                400,
                _("Your session expired or the form was sent twice. Reload the page and retry."),
            )
        resp = render_error(exc.code)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            body, status = resp
            return body, status, {"Allow": ", ".join(exc.valid_methods)}
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error")
        return render_error(InternalServerError.code)

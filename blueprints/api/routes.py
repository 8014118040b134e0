"""The public JSON API: stateless estimates for partner sites and referrers (no CSRF, no
session, nothing stored a user owns), rate-limited per IP, described in /api/v1/openapi.json."""

from flask import current_app, jsonify
from flask_babel import gettext as _

from app.core.errors import ValidationFailed
from app.extensions import csrf, limiter
from app.services import catalogue
from app.services.simulator import simulations
from app.web.forms import json_body
from blueprints.api import bp
from blueprints.api.openapi import spec

csrf.exempt(bp)
# a simulation's answers fit in a few kilobytes; a partner sending more is mistaken
API_MAX_BYTES = 64 * 1024


@bp.post("/simulations")
@limiter.limit(lambda: current_app.config["RATELIMIT_API"])
def create_simulation():
    body = json_body(API_MAX_BYTES)
    if not isinstance(body, dict) or "answers" not in body:
        return jsonify(
            {"errors": {"answers": _("Send a JSON object with an “answers” object in it.")}}
        ), 422
    try:
        result = simulations.quick_estimate(body["answers"])
    except ValidationFailed as exc:
        errors = exc.fields or {"answers": exc.message}
        return jsonify({"errors": errors}), 422
    return jsonify(
        {
            "products": [r.as_dict() for r in result["products"]],
            "total_estimated_amount": float(result["total"]),
        }
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec(catalogue.questions()))


@bp.errorhandler(429)
def _too_many(exc):
    return jsonify(
        {"errors": {"rate_limit": _("Too many requests. Please wait a moment and try again.")}}
    ), 429


@bp.errorhandler(400)
def _unreadable(exc):
    return jsonify(
        {"errors": {"body": _("The request body is not a JSON document we can read.")}}
    ), 400


@bp.errorhandler(413)
def _too_large(exc):
    message = _("The request is too large: %(kb)d KB at most.", kb=API_MAX_BYTES // 1024)
    return jsonify({"errors": {"body": message}}), 413

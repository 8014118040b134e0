"""The public JSON API: stateless estimates for partner sites and apporteurs (no CSRF, no
session, nothing stored a user owns), rate-limited per IP, described in /api/v1/openapi.json."""

from flask import current_app, jsonify, request
from flask_babel import gettext as _

from app.extensions import csrf, limiter
from app.services import catalogue, simulations
from app.services.errors import ValidationFailed
from blueprints.api import bp
from blueprints.api.openapi import spec

csrf.exempt(bp)


@bp.post("/simulations")
@limiter.limit(lambda: current_app.config["RATELIMIT_API"])
def create_simulation():
    body = request.get_json(silent=True)
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

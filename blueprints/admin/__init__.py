from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from blueprints.admin import alerts, catalogue, payments, plans, routes, sla_settings  # noqa: F401

from flask import Blueprint

bp = Blueprint("analytics", __name__, url_prefix="/analytics")

from blueprints.analytics import routes  # noqa: F401

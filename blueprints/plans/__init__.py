from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/plans")

from blueprints.plans import routes  # noqa: F401

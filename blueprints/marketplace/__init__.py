from flask import Blueprint

bp = Blueprint("marketplace", __name__, url_prefix="/experts")

from blueprints.marketplace import routes  # noqa: F401

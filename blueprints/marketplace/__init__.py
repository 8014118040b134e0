from flask import Blueprint

bp = Blueprint("marketplace", __name__, url_prefix="/experts")

from blueprints.marketplace import cards, routes  # noqa: F401

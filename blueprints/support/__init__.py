from flask import Blueprint

bp = Blueprint("support", __name__, url_prefix="/support")

from blueprints.support import routes  # noqa: F401

from flask import Blueprint

bp = Blueprint("billing", __name__, url_prefix="/billing")

from blueprints.billing import routes  # noqa: F401

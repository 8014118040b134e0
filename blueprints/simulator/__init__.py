from flask import Blueprint

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

from blueprints.simulator import routes  # noqa: F401

from flask import Blueprint

bp = Blueprint("intake", __name__)

from blueprints.intake import routes  # noqa: F401

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from blueprints.account import routes  # noqa: F401

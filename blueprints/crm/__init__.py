from flask import Blueprint

bp = Blueprint("crm", __name__, url_prefix="/crm")

from blueprints.crm import routes  # noqa: F401

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from blueprints.admin import (  # noqa: F401
    alerts,
    catalogue,
    payments,
    plans,
    request_form,
    routes,
    sla_settings,
    staff,
)

from flask import Blueprint

from app.extensions import csrf

# providers post here: they sign their bodies, they cannot carry our CSRF token
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)

from blueprints.webhooks import routes  # noqa: F401

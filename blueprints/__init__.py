"""Feature blueprints, registered explicitly."""

from flask import Flask

from blueprints.account import bp as account_bp
from blueprints.admin import bp as admin_bp
from blueprints.analytics import bp as analytics_bp
from blueprints.api import bp as api_bp
from blueprints.auth import bp as auth_bp
from blueprints.billing import bp as billing_bp
from blueprints.crm import bp as crm_bp
from blueprints.dossiers import bp as dossiers_bp
from blueprints.intake import bp as intake_bp
from blueprints.main import bp as main_bp
from blueprints.marketplace import bp as marketplace_bp
from blueprints.messages import bp as messages_bp
from blueprints.notifications import bp as notifications_bp
from blueprints.ops import bp as ops_bp
from blueprints.plans import bp as plans_bp
from blueprints.simulator import bp as simulator_bp
from blueprints.support import bp as support_bp
from blueprints.webhooks import bp as webhooks_bp


def register_blueprints(app: Flask) -> None:
    for bp in (
        main_bp,
        auth_bp,
        account_bp,
        notifications_bp,
        admin_bp,
        marketplace_bp,
        messages_bp,
        simulator_bp,
        api_bp,
        dossiers_bp,
        plans_bp,
        billing_bp,
        webhooks_bp,
        intake_bp,
        crm_bp,
        support_bp,
        analytics_bp,
        ops_bp,
    ):
        app.register_blueprint(bp)

"""The public plans page: every offered plan side by side, priced live for the visitor's own
numbers (htmx on each change, a "Recompute" button without JavaScript: the same GET)."""

from flask import render_template, request
from flask_login import current_user

from app.models import Role
from app.services import plans
from app.services.plans import pricing
from app.web import hx
from blueprints.plans import bp


@bp.get("")
def index():
    params, errors = pricing.read_params(request.args)
    cycle = pricing.read_cycle(request.args.get("cycle"))
    current = None
    if current_user.is_authenticated and current_user.role == Role.CLIENT:
        current = plans.plan_code_of(current_user.id)
    context = {
        "quotes": plans.quotes(params, cycle),
        "params": params,
        "typed": {code: request.args.get(code, "") for code in pricing.PARAMETERS},
        "errors": errors,
        "cycle": cycle.value,
        "parameters": pricing.PARAMETERS,
        "current": current,
    }
    if hx.wants_fragment(target="plan-prices"):
        return render_template("plans/_prices.html", **context)
    return render_template("plans/index.html", **context)

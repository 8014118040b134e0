"""The public expert directory and expert pages; for a client, choosing an expert for a
dossier from the same list."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.errors import Conflict, ValidationFailed
from app.core.validators import parse_id
from app.models import SECTORS
from app.services import dossiers, marketplace, sla
from app.services.marketplace import reviews
from app.web import hx
from blueprints.marketplace import bp


def _dossier_to_fill():
    """The client's dossier the list is choosing for (`?dossier=`), when it can take one."""
    dossier_id = request.args.get("dossier", type=parse_id)
    if not dossier_id or not current_user.is_authenticated:
        return None
    return dossiers.choosing_expert_for(dossier_id, current_user)


@bp.get("/")
def index():
    dossier = _dossier_to_fill()
    client_sector = None
    if current_user.is_authenticated and current_user.client_profile is not None:
        client_sector = current_user.client_profile.sector
    filters = marketplace.Filters.from_args(request.args, client_sector=client_sector)
    if dossier is not None:
        filters.product_id = dossier.product_id  # only holders of the dossier's product
    page = marketplace.search(filters)
    ctx = {
        "f": filters,
        "page": page,
        "dossier": dossier,
        "products": marketplace.products(),
        "sectors": SECTORS,
        # measured punctuality from the clocks, for the experts on this page
        "figures": sla.figures.for_experts(r.user_id for r in page.rows),
    }
    if hx.wants_fragment(target="expert-results"):
        return render_template("marketplace/_results.html", **ctx)
    return render_template("marketplace/index.html", **ctx)


@bp.get("/<int:user_id>")
def show(user_id: int):
    expert, visible = marketplace.profile(user_id)
    return render_template(
        "marketplace/profile.html",
        expert=expert,
        reviews=visible,
        can_answer=_answers(user_id),
        fig=sla.figures.for_experts([user_id]).get(user_id),
    )


def _answers(user_id: int) -> bool:
    return current_user.is_authenticated and current_user.id == user_id


@bp.post("/reviews/<int:review_id>/answer")
@login_required
def answer(review_id: int):
    try:
        review = reviews.answer(review_id, current_user, request.form.get("answer", ""))
    except ValidationFailed as exc:
        expert, visible = marketplace.profile(current_user.id)
        return render_template(
            "marketplace/profile.html",
            expert=expert,
            reviews=visible,
            can_answer=True,
            errors={review_id: exc.message},
        ), 422
    except Conflict as exc:
        flash(exc.message, "warning")
        return redirect(url_for("marketplace.show", user_id=current_user.id), 303)
    flash(_("Your answer is published."), "success")
    return hx.redirect_to(
        url_for("marketplace.show", user_id=review.expert_id) + f"#review-{review.id}"
    )

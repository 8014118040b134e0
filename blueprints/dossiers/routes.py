"""Dossier pages. For now: the detailed TICPE estimate (the workflow pages come with issue 4)."""

from flask import render_template, request, url_for
from flask_login import current_user, login_required

from app import hx
from app.services import detailed_estimates
from blueprints.dossiers import bp
from blueprints.dossiers.forms import TicpeForm


@bp.route("/<int:dossier_id>/ticpe", methods=["GET", "POST"])
@login_required
def ticpe_estimate(dossier_id: int):
    dossier = detailed_estimates.get_ticpe_dossier(dossier_id, current_user)
    if request.method == "POST":
        form = TicpeForm()
        if form.validate():
            detailed_estimates.run(dossier, form.inputs(), current_user)
            # post/redirect/get: the page shows the latest run with the answers it was given
            return hx.redirect_to(url_for("dossiers.ticpe_estimate", dossier_id=dossier.id))
        return render_template("dossiers/ticpe.html", dossier=dossier, form=form, run=None), 422
    form = TicpeForm(formdata=None, data=detailed_estimates.prefill(dossier))
    run = detailed_estimates.latest(dossier)
    return render_template("dossiers/ticpe.html", dossier=dossier, form=form, run=run)

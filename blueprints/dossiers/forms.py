from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.simulator import ticpe
from app.web.forms import LocalizedIntegerField

LEVEL_CHOICES = [
    ("all", _l("Always")),
    ("partial", _l("Sometimes")),
    ("none", _l("Never")),
]


def _checkboxes(label, choices):
    return SelectMultipleField(
        label,
        choices=choices,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class TicpeForm(FlaskForm):
    """The detailed TICPE questionnaire (domain.md §2); the engine's labels are French data."""

    activity = SelectField(
        _l("Main activity"),
        choices=[(code, spec[0]) for code, spec in ticpe.ACTIVITIES.items()],
        validators=[InputRequired()],
    )
    vehicles = LocalizedIntegerField(
        _l("Number of professional vehicles or machines"),
        validators=[
            InputRequired(_l("Give the number of vehicles (0 if none).")),
            NumberRange(0, 100_000),
        ],
    )
    vehicle_types = _checkboxes(
        _l("Vehicle types"), [(code, spec[0]) for code, spec in ticpe.VEHICLES.items()]
    )
    fuels = _checkboxes(_l("Fuels used"), [(code, spec[0]) for code, spec in ticpe.FUELS.items()])
    litres_per_year = LocalizedIntegerField(
        _l("Litres of fuel per year"), validators=[Optional(), NumberRange(0, 50_000_000)]
    )
    km_per_vehicle = LocalizedIntegerField(
        _l("Kilometres per vehicle per year"), validators=[Optional(), NumberRange(0, 1_000_000)]
    )
    professional_use = SelectField(
        _l("Share of professional use"),
        choices=[(code, spec[0]) for code, spec in ticpe.USAGE.items()],
        default="unknown",
    )
    turnover = LocalizedIntegerField(
        _l("Annual turnover (€)"), validators=[Optional(), NumberRange(0, 100_000_000_000)]
    )
    fuel_invoices = RadioField(
        _l("Do you keep every fuel invoice?"), choices=LEVEL_CHOICES, default="none"
    )
    fuel_cards = RadioField(
        _l("Do you pay fuel with professional fuel cards?"), choices=LEVEL_CHOICES, default="none"
    )
    plate_on_invoices = RadioField(
        _l("Do invoices carry your company name and the plate number?"),
        choices=LEVEL_CHOICES,
        default="none",
    )
    registered_to_company = RadioField(
        _l("Are the vehicles registered to the company?"),
        choices=[("all", _l("All of them")), ("partial", _l("Most")), ("none", _l("Few or none"))],
        default="none",
    )
    claims_already = RadioField(
        _l("Do you already claim the TICPE refund?"),
        choices=[
            ("regularly", _l("Regularly")),
            ("occasionally", _l("Occasionally")),
            ("never", _l("Never")),
        ],
        default="never",
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.vehicles.data and not self.vehicle_types.data:
            self.vehicle_types.errors.append(_l("Tick the types of your vehicles."))
            ok = False
        return ok

    def inputs(self) -> ticpe.TicpeInputs:
        return ticpe.TicpeInputs(
            activity=self.activity.data,
            vehicles=self.vehicles.data or 0,
            vehicle_types=tuple(self.vehicle_types.data or ()),
            fuels=tuple(self.fuels.data or ()),
            litres_per_year=self.litres_per_year.data,
            km_per_vehicle=self.km_per_vehicle.data,
            professional_use=self.professional_use.data,
            turnover=self.turnover.data,
            fuel_invoices=self.fuel_invoices.data,
            fuel_cards=self.fuel_cards.data,
            plate_on_invoices=self.plate_on_invoices.data,
            registered_to_company=self.registered_to_company.data,
            claims_already=self.claims_already.data,
        )

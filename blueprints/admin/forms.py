import json
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.numbers import to_cents
from app.models import SECTORS
from app.web.forms import LocalizedDecimalField, LocalizedIntegerField


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason given to the applicant"),
        validators=[
            InputRequired(message=_l("Give the applicant a reason for the rejection.")),
            Length(max=2000),
        ],
    )


class ApproveForm(FlaskForm):
    pass


class LinesField(TextAreaField):
    """One item per line; blank lines dropped. `.data` is a list of strings."""

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = valuelist[0] if valuelist else ""
        self.data = [line.strip() for line in text.splitlines() if line.strip()]

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "\n".join(self.data or [])


class JsonRuleField(TextAreaField):
    """A rule or condition as JSON (the grammar of app/services/rules.py); empty = none."""

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = json.loads(text)
            except ValueError as exc:
                raise ValueError(
                    _l("This is not valid JSON (line %(line)d).", line=exc.lineno)
                ) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else json.dumps(self.data, ensure_ascii=False, indent=2)


class ProductForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    category = StringField(_l("Category"), validators=[InputRequired(), Length(max=80)])
    active = BooleanField(_l("Active: offered by the simulator"))
    description = TextAreaField(_l("Description"), validators=[Length(max=4000)])
    display_note = TextAreaField(_l("Note shown with the estimate"), validators=[Length(max=1000)])
    benefits = LinesField(_l("Benefits (one per line)"))
    sectors = SelectMultipleField(
        _l("Target sectors (none ticked = every sector)"),
        choices=[(s, s) for s in SECTORS],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service names an unknown sector in its message
    )
    duration_min_months = LocalizedIntegerField(
        _l("Shortest typical duration (months)"), validators=[Optional(), NumberRange(0, 240)]
    )
    duration_max_months = LocalizedIntegerField(
        _l("Longest typical duration (months)"), validators=[Optional(), NumberRange(0, 240)]
    )
    formula_version = SelectField(_l("Formula version"), coerce=int)
    documents = LinesField(_l("Documents asked for eligibility (one per line)"))
    rule = JsonRuleField(_l("Eligibility rule (JSON)"))

    COLUMNS = (  # fields that are Product columns as they are
        "name",
        "category",
        "active",
        "description",
        "display_note",
        "benefits",
        "sectors",
        "duration_min_months",
        "duration_max_months",
        "formula_version",
    )

    @classmethod
    def for_product(cls, product, formula_constants: dict, formdata=None):
        """The form with one number field per constant of the product's formula."""

        class Bound(cls):
            pass

        for name, (_default, label) in formula_constants.items():
            setattr(
                Bound,
                f"constant_{name}",
                LocalizedDecimalField(
                    label, validators=[InputRequired(), NumberRange(min=0, max=10_000_000)]
                ),
            )
        # no obj=product: its `rule` and `documents` attributes are not what these fields hold
        data = {n: getattr(product, n) for n in cls.COLUMNS}
        data.update(
            rule=product.rule.condition if product.rule else None,
            documents=product.documents.get("eligibility", []),
            **{f"constant_{n}": v for n, v in product.constants.items()},
        )
        return Bound(formdata=formdata, data=data)

    def constant_fields(self):
        return [f for f in self if f.name.startswith("constant_")]

    def constants(self) -> dict:
        return {f.name.removeprefix("constant_"): f.data for f in self.constant_fields()}


class QuestionForm(FlaskForm):
    text = TextAreaField(_l("Question"), validators=[InputRequired(), Length(max=500)])
    help = TextAreaField(_l("Help shown under the question"), validators=[Length(max=1000)])
    options = LinesField(_l("Options (one per line)"))
    required = BooleanField(_l("An answer is required"))
    condition = JsonRuleField(_l("Shown only when (JSON condition; empty = always)"))


class AlertActionForm(FlaskForm):
    """Acknowledge: nothing to fill in but the CSRF token."""


class AlertNoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class AlertAssignForm(FlaskForm):
    assignee_id = SelectField(_l("Assign to"), choices=[], validate_choice=False)


class PlanForm(FlaskForm):
    """A plan as admins edit it: euros and percentages as typed in France; `values()` gives the
    service its cents and basis points. One included count and unit price per pricing
    parameter (`app/services/plans/pricing.py`)."""

    code = StringField(_l("Code (fixed once created)"), validators=[Optional(), Length(max=32)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=80)])
    tagline = StringField(_l("Tagline"), validators=[Length(max=200)])
    features = LinesField(_l("What it includes (one per line)"))
    description = TextAreaField(_l("Description"), validators=[Length(max=4000)])
    on_request = BooleanField(_l("Priced on request (not bought online)"))
    position = LocalizedIntegerField(
        _l("Order on the page"), validators=[Optional(), NumberRange(0, 1000)]
    )
    base = LocalizedDecimalField(
        _l("Price per month before VAT (€)"), validators=[Optional(), NumberRange(0, 100_000)]
    )
    yearly_discount = LocalizedDecimalField(
        _l("Discount for a year paid at once (%)"), validators=[Optional(), NumberRange(0, 50)]
    )
    success_fee = LocalizedDecimalField(
        _l("Success fee (percentage of the amounts obtained)"),
        validators=[
            InputRequired(
                message=_l("Give the success fee: a plan without one would invoice 0 €.")
            ),
            NumberRange(1, 50),
        ],
    )

    @classmethod
    def build(cls, parameters: dict, plan=None, formdata=None):
        class Bound(cls):
            pass

        for code, spec in parameters.items():
            setattr(
                Bound,
                f"{code}_included",
                LocalizedIntegerField(
                    _l("%(what)s included", what=spec["label"]),
                    validators=[Optional(), NumberRange(0, 1_000_000)],
                ),
            )
            setattr(
                Bound,
                f"{code}_unit",
                LocalizedDecimalField(
                    _l("Price of each more (€ per month)"),
                    validators=[Optional(), NumberRange(0, 10_000)],
                ),
            )
        data = {}
        if plan is not None:
            data = {
                "code": plan.code,
                "name": plan.name,
                "tagline": plan.tagline,
                "features": plan.features,
                "description": plan.description,
                "on_request": plan.on_request,
                "position": plan.position,
                "base": plan.base_cents / 100,
                "yearly_discount": plan.yearly_discount_bp / 100,
                "success_fee": plan.success_fee_bp / 100,
            }
            for code in parameters:
                price = (plan.prices or {}).get(code) or {}
                data[f"{code}_included"] = price.get("included")
                unit = price.get("unit_cents")
                data[f"{code}_unit"] = None if unit is None else unit / 100
        form = Bound(formdata=formdata, data=data)
        form.parameters = parameters
        return form

    def parameter_fields(self):
        return [
            (spec["label"], getattr(self, f"{code}_included"), getattr(self, f"{code}_unit"))
            for code, spec in self.parameters.items()
        ]

    def values(self) -> dict:
        """The service's units: cents and basis points (None stays None: the service says)."""

        def hundredths(value):
            return None if value is None else to_cents(Decimal(str(value)))

        values = {
            "code": self.code.data,
            "name": self.name.data,
            "tagline": self.tagline.data,
            "features": self.features.data,
            "description": self.description.data,
            "on_request": self.on_request.data,
            "position": self.position.data or 0,
            "base_cents": hundredths(self.base.data),
            "yearly_discount_bp": hundredths(self.yearly_discount.data),
            "success_fee_bp": hundredths(self.success_fee.data),
        }
        for code in self.parameters:
            values[f"{code}_included"] = getattr(self, f"{code}_included").data
            values[f"{code}_unit_cents"] = hundredths(getattr(self, f"{code}_unit").data)
        return values


class TransferForm(FlaskForm):
    """A bank transfer seen on the platform's account, matched to an invoice."""

    reference = StringField(
        _l("Reference on the transfer (RF…) or invoice number"),
        validators=[InputRequired(), Length(max=40)],
    )
    party = SelectField(
        _l("Paid by"),
        choices=[
            ("", "—"),
            ("client", _l("the client (expert's fee)")),
            ("expert", _l("the expert (platform fee)")),
        ],
        validate_choice=False,
    )
    amount = LocalizedDecimalField(_l("Amount received (€)"), validators=[InputRequired()])
    bank_reference = StringField(
        _l("Bank's own reference (optional)"), validators=[Length(max=200)]
    )

    def cents(self) -> int:
        return to_cents(Decimal(str(self.amount.data or 0)))


class RefundForm(FlaskForm):
    amount = LocalizedDecimalField(_l("Amount to refund (€)"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=255)])

    def cents(self) -> int:
        return to_cents(Decimal(str(self.amount.data or 0)))


class StaffForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[InputRequired(), Length(max=80)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(), Length(max=80)])
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    role = SelectField(
        _l("Role"),
        choices=[
            ("sales", _l("Sales: the CRM and the support tickets")),
            ("support", _l("Support: the support tickets")),
            ("admin", _l("Administrator: everything")),
        ],
    )


class StaffEditForm(FlaskForm):
    role = StaffForm.role
    active = BooleanField(_l("The account is active"))


class RequestFieldForm(FlaskForm):
    """One question of the request form (app.services.crm.requestform)."""

    key = StringField(
        _l("Code"),
        validators=[InputRequired(), Length(max=32)],
        description=_l("Lower-case letters, digits and _; it names the answer in exports."),
    )
    label = StringField(_l("Question"), validators=[InputRequired(), Length(max=200)])
    help = StringField(_l("Help text (optional)"), validators=[Optional(), Length(max=300)])
    kind = SelectField(_l("Kind of answer"), choices=[])
    required = BooleanField(_l("An answer is required (when the field is shown)"))
    options = TextAreaField(
        _l("Options, one per line"),
        validators=[Optional(), Length(max=5000)],
        description=_l("For a choice: one option per line, as “value | label” or just the label."),
    )
    show_field = SelectField(_l("Show only when the answer to"), choices=[], validate_choice=False)
    show_value = StringField(_l("is (or includes)"), validators=[Optional(), Length(max=100)])
    pricing = SelectField(_l("Sets the price parameter"), choices=[], validate_choice=False)
    min = LocalizedIntegerField(_l("Smallest number allowed"), validators=[Optional()])
    max = LocalizedIntegerField(_l("Largest number allowed"), validators=[Optional()])

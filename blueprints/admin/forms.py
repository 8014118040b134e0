import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

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

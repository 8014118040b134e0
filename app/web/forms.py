"""Form pieces shared by blueprints: French-friendly numbers, service errors onto fields."""

from datetime import date, timedelta

from babel.numbers import format_decimal
from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, StopValidation

from app.core import clock
from app.core.errors import ValidationFailed
from app.core.numbers import parse_number, parse_whole
from app.core.validators import MAX_ID, password_problem, sector_problem, siren_problem
from app.models import PARIS, SECTORS, CompanyType


def read_period(args, days: int = 30) -> tuple[date, date]:
    """A report's period from `?from=…&to=…` (ISO days, Paris), the last `days` by default;
    swapped when given backwards."""

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None

    end = day("to") or clock.today(PARIS)
    start = day("from") or end - timedelta(days=days - 1)
    return (start, end) if start <= end else (end, start)


def sector_choices():
    return [("", _l("Choose a sector"))] + [(s, s) for s in SECTORS]


def company_type_choices():
    labels = {
        CompanyType.INDEPENDANT: _l("Independent"),
        CompanyType.SALARIE: _l("Employee"),
        CompanyType.PARTENAIRE: _l("Partner"),
        CompanyType.AGENCE: _l("Agency"),
        CompanyType.CALL_CENTER: _l("Call centre"),
    }
    return [("", _l("Choose a type"))] + [(t.value, labels[t]) for t in CompanyType]


def valid_siren(form, field) -> None:
    if field.data and (problem := siren_problem(field.data)):
        raise StopValidation(problem)


def valid_sector(form, field) -> None:
    if field.data and (problem := sector_problem(field.data)):
        raise StopValidation(problem)


def strong_password(form, field) -> None:
    email = getattr(getattr(form, "email", None), "data", None) or ""
    if field.data and (problem := password_problem(field.data, email)):
        raise StopValidation(problem)


class LocalizedIntegerField(IntegerField):
    """A whole number as typed in France (`12 000`, `12.000`, …: `app.core.numbers`)."""

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        try:
            value = parse_whole(text)
        except ValueError:
            raise ValueError(_("Enter a whole number, for example 12 000.")) from None
        if abs(value) > MAX_ID:  # the database's integer: beyond it is a typing slip
            raise ValueError(_("This number is too large: check it."))
        self.data = value


class LocalizedDecimalField(StringField):
    """A decimal as typed in France (`0,065`, `1 500,50`); `.data` is a float or None."""

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        try:
            self.data = float(parse_number(text))
        except ValueError:
            raise ValueError(_("Enter a number, for example 0,065 or 1 500,50.")) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else format_decimal(self.data, "#,##0.#####", locale="fr")


def apply_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Put a service's field errors on the form; the rest go to the summary at the top."""
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
    if not exc.fields and exc.message:
        form.form_errors.append(exc.message)


def input_attrs(field, hint=None, autocomplete=None, type=None, inputmode=None, extra=None) -> dict:
    """The accessibility attributes of an input, for `macros/forms.html`.

    Kept in Python because building them with Jinja `set`/`update` statements cost a tenth of a
    millisecond per field, which is most of a form page's render time.
    """
    attrs = dict(extra) if extra else {}
    described = []
    if hint:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    if type:
        attrs["type"] = type
    if inputmode:
        attrs["inputmode"] = inputmode
    return attrs


NON_NEGATIVE = _l("Enter a number zero or above.")


def json_body(max_bytes: int):
    """The request's JSON document, read only if it is at most `max_bytes` (413 otherwise), or
    None when it is not JSON or nests too deeply to be a real answer (400)."""
    request.max_content_length = max_bytes  # larger: RequestEntityTooLarge before reading
    try:
        return request.get_json(silent=True)
    except RecursionError:  # thousands of nested brackets: no form of ours looks like it
        abort(400)


class ContactFields(FlaskForm):
    """Who is asking: the block every request, contact message and recommendation has."""

    company = StringField(_l("Company"), validators=[InputRequired(), Length(max=160)])
    contact_name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=160)])
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    siren = StringField(_l("SIREN (optional)"), validators=[Optional(), valid_siren])
    message = TextAreaField(_l("Anything else we should know?"), validators=[Length(max=3000)])
    # the honeypot: hidden from people (and from screen readers), filled by form robots
    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    def contact(self) -> dict:
        return {
            "company": self.company.data or "",
            "contact_name": self.contact_name.data or "",
            "phone": self.phone.data or "",
            "siren": self.siren.data or None,
            "message": self.message.data or "",
        }

    def is_robot(self) -> bool:
        return bool((self.website.data or "").strip())


class CallMeForm(ContactFields):
    """A simulator visitor asks to be called about their results."""

    company = StringField(_l("Company"), validators=[Optional(), Length(max=160)])

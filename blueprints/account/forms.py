from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional

from app.web.forms import (
    NON_NEGATIVE,
    LocalizedIntegerField,
    company_type_choices,
    sector_choices,
    valid_sector,
    valid_siren,
)

TIMEZONES = (
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "America/Miquelon",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Zurich",
    "Europe/London",
    "UTC",
)


class _UserFields(FlaskForm):
    first_name = StringField(_l("First name"), validators=[InputRequired(), Length(max=80)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(), Length(max=80)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    locale = SelectField(_l("Language"), choices=[("fr", "Français"), ("en", "English")])
    timezone = SelectField(_l("Time zone"), choices=[(tz, tz) for tz in TIMEZONES])

    FIELDS: tuple[str, ...] = ("first_name", "last_name", "phone", "locale", "timezone")

    def to_service_kwargs(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


class ClientProfileForm(_UserFields):
    company_name = StringField(_l("Company name"), validators=[InputRequired(), Length(max=160)])
    siren = StringField(
        _l("SIREN number"), validators=[InputRequired(), Length(max=14), valid_siren]
    )
    sector = SelectField(
        _l("Business sector"),
        choices=sector_choices,
        validate_choice=False,
        validators=[InputRequired(), valid_sector],
    )
    employees = LocalizedIntegerField(
        _l("Number of employees"),
        validators=[Optional(), NumberRange(min=0, message=NON_NEGATIVE)],
    )
    turnover = LocalizedIntegerField(
        _l("Annual turnover (€)"),
        validators=[Optional(), NumberRange(min=0, message=NON_NEGATIVE)],
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=10)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])

    FIELDS = _UserFields.FIELDS + (
        "company_name",
        "siren",
        "sector",
        "employees",
        "turnover",
        "address",
        "postal_code",
        "city",
    )


class ExpertProfileForm(_UserFields):
    firm_name = StringField(_l("Firm (cabinet)"), validators=[Optional(), Length(max=160)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    languages = StringField(_l("Languages spoken"), validators=[Optional(), Length(max=120)])
    years_experience = LocalizedIntegerField(
        _l("Years of experience"),
        validators=[
            Optional(),
            NumberRange(min=0, max=70, message=_l("Between 0 and 70.")),
        ],
    )
    bio = TextAreaField(_l("About you"), validators=[Optional(), Length(max=4000)])

    FIELDS = _UserFields.FIELDS + (
        "firm_name",
        "city",
        "languages",
        "years_experience",
        "bio",
    )


class ReferrerProfileForm(_UserFields):
    company_type = SelectField(
        _l("You are"), choices=company_type_choices, validators=[InputRequired()]
    )
    company_name = StringField(_l("Company name"), validators=[Optional(), Length(max=160)])
    sector = SelectField(
        _l("Business sector"),
        choices=sector_choices,
        validate_choice=False,
        validators=[Optional(), valid_sector],
    )
    siren = StringField(_l("SIREN number"), validators=[Optional(), Length(max=14), valid_siren])
    motivation_letter = TextAreaField(
        _l("Why do you want to join?"), validators=[Optional(), Length(max=4000)]
    )
    target_monthly = LocalizedIntegerField(
        _l("Prospects you aim to bring per month"),
        validators=[Optional(), NumberRange(min=0, max=10000, message=NON_NEGATIVE)],
    )

    FIELDS = _UserFields.FIELDS + (
        "company_type",
        "company_name",
        "sector",
        "siren",
        "motivation_letter",
        "target_monthly",
    )


class AdminProfileForm(_UserFields):
    pass


PROFILE_FORMS = {
    "client": ClientProfileForm,
    "expert": ExpertProfileForm,
    "apporteur": ReferrerProfileForm,
    "admin": AdminProfileForm,
}


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=128)]
    )
    new_password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("Confirm the new password"),
        validators=[
            InputRequired(),
            EqualTo("new_password", message=_l("The passwords differ.")),
        ],
    )


class ErasureForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[InputRequired()])
    reason = TextAreaField(
        _l("Why are you leaving? (optional, it helps us)"), validators=[Length(max=1000)]
    )

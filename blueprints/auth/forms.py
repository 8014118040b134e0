from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from app.web.forms import (
    NON_NEGATIVE,
    LocalizedIntegerField,
    company_type_choices,
    sector_choices,
    strong_password,
    valid_sector,
    valid_siren,
)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=128)])
    remember = BooleanField(_l("Remember me on this device"))


class _AccountFields(FlaskForm):
    first_name = StringField(_l("First name"), validators=[InputRequired(), Length(max=80)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(), Length(max=80)])
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    password = PasswordField(
        _l("Password"), validators=[InputRequired(), Length(max=128), strong_password]
    )
    confirm = PasswordField(
        _l("Confirm the password"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The passwords differ.")),
        ],
    )
    accept = BooleanField(
        _l("I accept the terms of use and the privacy policy"),
        validators=[InputRequired(message=_l("You must accept the terms to continue."))],
    )

    ACCOUNT_FIELDS = ("first_name", "last_name", "email", "phone", "password")

    def account_kwargs(self) -> dict:
        return {name: getattr(self, name).data for name in self.ACCOUNT_FIELDS}


class ClientSignupForm(_AccountFields):
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

    PROFILE_FIELDS = (
        "company_name",
        "siren",
        "sector",
        "employees",
        "turnover",
        "address",
        "postal_code",
        "city",
    )

    def to_service_kwargs(self) -> dict:
        return self.account_kwargs() | {n: getattr(self, n).data for n in self.PROFILE_FIELDS}


class ExpertApplicationForm(_AccountFields):
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

    PROFILE_FIELDS = ("firm_name", "city", "languages", "years_experience", "bio")

    def to_service_kwargs(self) -> dict:
        return self.account_kwargs() | {n: getattr(self, n).data for n in self.PROFILE_FIELDS}


class ReferrerApplicationForm(_AccountFields):
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
    sponsor_code = StringField(_l("Sponsor code"), validators=[Optional(), Length(max=9)])
    target_monthly = LocalizedIntegerField(
        _l("Prospects you aim to bring per month"),
        validators=[Optional(), NumberRange(min=0, max=10000, message=NON_NEGATIVE)],
    )

    cv = FileField(_l("Your CV (PDF, 5 MB at most, optional)"))

    PROFILE_FIELDS = (
        "company_type",
        "company_name",
        "sector",
        "siren",
        "motivation_letter",
        "sponsor_code",
        "target_monthly",
        "cv",
    )

    def to_service_kwargs(self) -> dict:
        return self.account_kwargs() | {n: getattr(self, n).data for n in self.PROFILE_FIELDS}


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[InputRequired(), Length(max=128), strong_password]
    )
    confirm = PasswordField(
        _l("Confirm the new password"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The passwords differ.")),
        ],
    )

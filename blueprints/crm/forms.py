from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import Email, InputRequired, Length, Optional

from app.services.crm.activities import KIND_LABELS
from app.web.forms import valid_siren


class ActivityForm(FlaskForm):
    kind = SelectField(
        _l("Kind"), choices=[(k.value, label) for k, label in KIND_LABELS.items()], default="call"
    )
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    body = TextAreaField(_l("Details"), validators=[Optional(), Length(max=5000)])
    due_on = DateField(_l("Due on (tasks)"), validators=[Optional()])
    due_at = TimeField(_l("At (optional)"), validators=[Optional()])
    owner = SelectField(_l("For"), choices=[], validate_choice=False)


class LeadForm(FlaskForm):
    """A lead typed in by a seller (a phone call, a trade fair)."""

    company = StringField(_l("Company"), validators=[InputRequired(), Length(max=160)])
    contact_name = StringField(_l("Contact"), validators=[InputRequired(), Length(max=160)])
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    siren = StringField(_l("SIREN (optional)"), validators=[Optional(), valid_siren])
    message = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=3000)])

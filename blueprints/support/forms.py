from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.services.support.tickets import CATEGORY_LABELS, PRIORITY_LABELS


class TicketForm(FlaskForm):
    category = SelectField(
        _l("What is it about?"), choices=[(k.value, v) for k, v in CATEGORY_LABELS.items()]
    )
    priority = SelectField(
        _l("How urgent is it?"),
        choices=[(k.value, v) for k, v in PRIORITY_LABELS.items()],
        default="medium",
    )
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    body = TextAreaField(_l("Your message"), validators=[InputRequired(), Length(max=10_000)])
    files = MultipleFileField(_l("Files (PDF, JPEG or PNG, up to 3)"))
    dossier = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[InputRequired(), Length(max=10_000)])
    files = MultipleFileField(_l("Files (PDF, JPEG or PNG, up to 3)"))
    internal = BooleanField(_l("Internal note (the requester never sees it)"))
    status = SelectField(_l("And set the ticket to"), choices=[], validate_choice=False)

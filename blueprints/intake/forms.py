from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from app.web.forms import ContactFields


class RequestForm(ContactFields):
    pass


class ContactForm(ContactFields):
    message = TextAreaField(_l("Your message"), validators=[InputRequired(), Length(max=3000)])


class ProspectForm(ContactFields):
    """A referrer recommends a company they know."""

    message = TextAreaField(_l("What should our team know?"), validators=[Length(max=3000)])

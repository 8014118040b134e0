from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length


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

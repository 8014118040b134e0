from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.ops.alerts import CHANNELS, SEVERITIES
from app.services.ops.pulse import METRICS
from app.web.forms import LocalizedDecimalField, LocalizedIntegerField


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    metric = SelectField(_l("Metric"), choices=[(k, v[0]) for k, v in METRICS.items()])
    comparison = SelectField(
        _l("Condition"), choices=[("above", _l("above")), ("below", _l("below"))]
    )
    threshold = LocalizedDecimalField(_l("Threshold"), validators=[InputRequired()])
    duration_s = LocalizedIntegerField(
        _l("For at least (seconds)"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=86400)],
    )
    severity = SelectField(
        _l("Severity"), choices=[(k.value, v) for k, v in SEVERITIES.items()], default="warning"
    )
    channels = SelectMultipleField(
        _l("Tell"),
        choices=list(CHANNELS.items()),
        default=["inapp"],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    enabled = BooleanField(_l("Active"), default=True)

    def data_for_service(self) -> dict:
        return {
            "name": self.name.data,
            "metric": self.metric.data,
            "comparison": self.comparison.data,
            "threshold": self.threshold.data,
            "duration_s": self.duration_s.data,
            "severity": self.severity.data,
            "channels": self.channels.data,
            "enabled": self.enabled.data,
        }

"""Reading an analytics page's filters from its URL: a wrong value is said and left out, never
a 400 (the filters are links people share and edit by hand)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.core.validators import parse_id
from app.services.analytics.figures import Filters
from app.web.forms import read_period

REGION = re.compile(r"^(\d{2}|2A|2B|97\d)$")
MAX_DAYS = 3 * 366  # the facts answer any range; three years keeps a page under its budget


def read_filters(args, days: int = 30) -> tuple[Filters, list[str]]:
    start, end = read_period(args, days=days)
    problems = []
    if (end - start).days + 1 > MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
        problems.append(
            _("A period is at most three years: it now starts on %(day)s.", day=start.isoformat())
        )
    ids = {}
    for name, label in (("product", _("product")), ("expert", _("expert")), ("firm", _("firm"))):
        raw = (args.get(name) or "").strip()
        if raw:
            ids[name] = parse_id(raw)
            if ids[name] is None:
                problems.append(
                    _(
                        "“%(value)s” is not a %(what)s number: that filter is left out.",
                        value=raw[:20],
                        what=label,
                    )
                )
    region = (args.get("region") or "").strip().upper() or None
    if region and not REGION.match(region):
        problems.append(
            _(
                "“%(value)s” is not a département (two digits, 2A, 2B or 97x):"
                " that filter is left out.",
                value=region[:10],
            )
        )
        region = None
    return (
        Filters(start, end, ids.get("product"), ids.get("expert"), ids.get("firm"), region),
        problems,
    )


WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
ZONES = ("Europe/Paris", "Africa/Casablanca", "Europe/Brussels", "Europe/London", "UTC")


class ReportForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    view = SelectField(_l("View"), choices=[], validate_choice=False)
    frequency = RadioField(
        _l("How often"),
        choices=[
            ("daily", _l("Every day")),
            ("weekly", _l("Every week")),
            ("monthly", _l("Every month")),
        ],
        default="weekly",
    )
    weekday = SelectField(
        _l("Day of the week (weekly)"),
        choices=[(str(i), d) for i, d in enumerate(WEEKDAYS)],
        default="0",
    )
    month_day = IntegerField(_l("Day of the month (monthly)"), default=1, validators=[Optional()])
    hour = SelectField(
        _l("Hour"), choices=[(str(h), f"{h:02d}:00") for h in range(24)], default="7"
    )
    tz = SelectField(_l("Time zone"), choices=[(z, z) for z in ZONES], default="Europe/Paris")
    recipients = TextAreaField(
        _l("Recipients (one email address per line)"),
        validators=[InputRequired(), Length(max=2000)],
    )
    format = RadioField(_l("Format"), choices=[("xlsx", "Excel"), ("pdf", "PDF")], default="xlsx")
    product = HiddenField()
    expert = HiddenField()
    firm = HiddenField()
    region = HiddenField()

    def data_for_service(self) -> dict:
        """Only the declared fields, typed as the service wants them."""
        return {
            "name": (self.name.data or "").strip(),
            "view": self.view.data,
            "frequency": self.frequency.data,
            "weekday": int(self.weekday.data) if (self.weekday.data or "").isdigit() else None,
            "month_day": self.month_day.data,
            "hour": int(self.hour.data) if (self.hour.data or "").isdigit() else -1,
            "tz": self.tz.data,
            "recipients": [
                r.strip() for r in re.split(r"[\s,;]+", self.recipients.data or "") if r.strip()
            ],
            "format": self.format.data,
            "filters": {
                "product": parse_id(self.product.data),
                "expert": parse_id(self.expert.data),
                "firm": parse_id(self.firm.data),
                "region": (self.region.data or "").upper()
                if REGION.match((self.region.data or "").upper())
                else None,
            },
        }

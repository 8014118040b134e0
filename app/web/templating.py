"""Everything a template may call besides its context, registered in one place.

Templates format; they do not compute. An amount arrives in cents and leaves through `money`,
a rate in basis points through `percent`, a status through `status_label`; who may do what on
a page is a boolean the view computed with the policy module. Feature blueprints add context
of their own (`app_context_processor`), never filters.
"""

from flask import Flask
from flask_babel import format_currency, format_decimal, format_percent
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from app import i18n, security
from app.services import catalogue, marketplace, workflow
from app.web import charts, forms, text


def dirhams(cents) -> str:
    """An amount in dirham centimes (CMI payments), in the reader's locale ("48 600,00 MAD")."""
    return format_currency((cents or 0) / 100, "MAD")


def money(cents) -> str:
    """An amount stored in cents, in euros in the reader's locale ("12 000 €", "1 500,50 €")."""
    return i18n.euros(None if cents is None else cents / 100)


def percent(basis_points) -> str:
    """A rate stored in basis points, as a reader writes it ("12", "12,5"): 1250 -> 12.5."""
    return i18n.number_input((basis_points or 0) / 100)


def figure(value, kind: str = "int") -> str:
    """A report's figure as its column says: a count, euros (cents), a share, minutes, days or
    a rating; nothing to show is a dash (a share of nothing is not 0 %)."""
    if value is None:
        return "—"
    if kind == "text":
        return str(value)
    if kind == "money":
        return money(round(value))
    if kind == "pct":
        return format_percent(value, format="#,##0.0 %")
    if kind == "minutes":
        hours, minutes = divmod(round(value), 60)
        return (
            _("%(h)s h %(m)s min", h=hours, m=f"{minutes:02d}")
            if hours
            else _("%(m)s min", m=minutes)
        )
    if kind == "days":
        return _("%(n)s d", n=format_decimal(value, format="#,##0.#"))
    if kind == "rating":
        return _("%(n)s / 5", n=format_decimal(value, format="0.0"))
    return format_decimal(value, format="#,##0")


def chart_point(row, column: int, kind: str) -> tuple:
    """A table row as a bar of `svg_bars`: its label, the charted value, the value as printed."""
    return (row[0], row[column] or 0, figure(row[column], kind))


def cents_input(cents) -> str:
    """An amount in cents as the reader would type it back into a field ("1 500,5"); what
    they typed (a string kept after an error) is shown as typed."""
    if cents is None or cents == "":
        return ""
    if isinstance(cents, str):
        return cents
    return i18n.number_input(cents / 100)


def kilobytes(size_bytes) -> str:
    """A file's size as the lists show it ("245 KB", "1 024 Ko")."""
    return _("%(n)s KB", n=i18n.number_input(round((size_bytes or 0) / 1024)))


def csrf_field() -> Markup:
    """The hidden CSRF input every hand-written form carries (WTForms forms render their own)."""
    return Markup(f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">')


def live(url: str, *signals: str, poll: bool = False, first: str = "", swap="outerHTML") -> Markup:
    """The attributes of a fragment that refreshes itself: it fetches `url` when one of the
    live `signals` reaches the page (app/realtime), and on the fallback poll when `poll` (a
    phone whose socket is down); `first` adds triggers of its own ("load delay:300ms",
    "every 1s"). The header tells the server and app.js it is a refresh nobody asked for: it
    neither eats a flash nor overwrites what the user is typing."""
    triggers = [first] if first else []
    triggers += [f"{signal} from:body" for signal in signals]
    if poll:
        triggers.append("poll from:body")
    return Markup(
        f'hx-get="{escape(url)}" hx-trigger="{escape(", ".join(triggers))}" '
        f'hx-swap="{escape(swap)}" hx-headers=\'{{"X-Live-Refresh": "1"}}\''
    )


def product_name(product_id: int) -> str:
    return next((p.name for p in catalogue.products() if p.id == product_id), "")


FILTERS = {
    "field_label": i18n.field_label,
    "party_label": i18n.party_label,
    "status_label": i18n.status_label,
    "status_tone": i18n.status_tone,
    "role_label": i18n.role_label,
    "euros": i18n.euros,
    "money": money,
    "dirhams": dirhams,
    "percent": percent,
    "figure": figure,
    "chart_point": chart_point,
    "number_input": i18n.number_input,
    "cents_input": cents_input,
    "kilobytes": kilobytes,
    "datetimeformat": i18n.datetimeformat,
    "dateformat": i18n.dateformat,
    "linkify": text.linkify,
    "event_label": workflow.event_label,
    "product_name": product_name,
}

GLOBALS = {
    "csrf_field": csrf_field,
    "live": live,
    "input_attrs": forms.input_attrs,
    "svg_bar": charts.svg_bar,
    "svg_bars": charts.svg_bars,
    "svg_sparkline": charts.svg_sparkline,
    "svg_strip": charts.svg_strip,
    "level_names": marketplace.LEVEL_NAMES,
    "can_use_analytics": security.can_use_analytics,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(GLOBALS)

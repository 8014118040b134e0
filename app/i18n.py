"""Locale and time zone: the user's choice, else the session's, else French / Europe/Paris."""

import functools

from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    get_locale,
    get_timezone,
    get_translations,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from app.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a job, the monitor, a command: the platform's language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):  # stateless: the client says its language
        return (
            request.accept_languages.best_match(languages)
            or current_app.config["BABEL_DEFAULT_LOCALE"]
        )
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.timezone
    return None


FIELD_LABELS = {
    "company_name": _l("company name"),
    "siren": _l("SIREN number"),
    "sector": _l("sector"),
    "employees": _l("number of employees"),
    "turnover": _l("annual turnover"),
    "address": _l("address"),
    "postal_code": _l("postal code"),
    "city": _l("city"),
    "firm_name": _l("firm"),
    "languages": _l("languages"),
    "years_experience": _l("years of experience"),
    "bio": _l("presentation"),
    "company_type": _l("type of activity"),
    "motivation_letter": _l("motivation"),
}


STATUS_LABELS = {
    "pending": _l("Pending review"),
    "pending_approval": _l("Pending review"),
    "candidature": _l("Application received"),
    "approved": _l("Approved"),
    "active": _l("Active"),
    "inactive": _l("Inactive"),
    "suspended": _l("Suspended"),
    "rejected": _l("Rejected"),
    "queued": _l("Queued"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "pending_upload": _l("Documents to send"),
    "pending_admin_validation": _l("Eligibility under review"),
    "admin_validated": _l("Eligible: choose an expert"),
    "admin_rejected": _l("Eligibility refused"),
    "expert_pending_acceptance": _l("Waiting for the expert"),
    "expert_assigned": _l("Expert assigned"),
    "documents_requested": _l("Documents requested"),
    "documents_sent": _l("Documents sent"),
    "documents_validated": _l("Documents validated"),
    "documents_refused": _l("Documents to correct"),
    "audit_in_progress": _l("Audit in progress"),
    "audit_completed": _l("Audit to approve"),
    "audit_rejected_by_client": _l("Audit refused"),
    "audit_validated": _l("Audit approved"),
    "submitted_to_administration": _l("Submitted to the administration"),
    "administration_decided": _l("Administration decided"),
    "refund_confirmed": _l("Refund received"),
    "fee_payment_pending": _l("Fee payment to confirm"),
    "completed": _l("Completed"),
    "quote_requested": _l("Quote requested"),
    "quote_proposed": _l("Quote to review"),
    "quote_rejected": _l("Quote refused"),
    "quote_accepted": _l("Quote accepted"),
    "on_hold": _l("On hold"),
    "cancelled": _l("Cancelled"),
    "archived": _l("Archived"),
    "validated": _l("Validated"),
    "accepted": _l("Accepted"),
    "partial": _l("Partially accepted"),
    "refused": _l("Refused"),
    "gone": _l("Browser gone"),
}

PARTY_LABELS = {
    "client": _l("the client"),
    "expert": _l("the expert"),
    "admin": _l("FinancialTracker"),
    "administration": _l("the administration"),
    "nobody": _l("nobody"),
}

ROLE_LABELS = {
    "client": _l("Client"),
    "expert": _l("Expert"),
    "apporteur": _l("Referrer"),
    "admin": _l("Administrator"),
    "sales": _l("Sales"),
    "support": _l("Support"),
}


def status_label(value) -> str:
    key = getattr(value, "value", value)
    return str(STATUS_LABELS.get(key, key))


# how a status looks on a badge: done well, ended badly, or still under way
STATUS_TONES = {
    **dict.fromkeys(
        ("completed", "admin_validated", "documents_validated", "audit_validated"), "approved"
    ),
    **dict.fromkeys(
        ("admin_rejected", "documents_refused", "audit_rejected_by_client", "cancelled"),
        "rejected",
    ),
}


def status_tone(value) -> str:
    return STATUS_TONES.get(getattr(value, "value", value), "pending")


def role_label(value) -> str:
    key = getattr(value, "value", value)
    return str(ROLE_LABELS.get(key, key))


def party_label(value) -> str:
    key = getattr(value, "value", value)
    return str(PARTY_LABELS.get(key, key))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def _template_translations():
    """The request's catalogue, resolved once per locale and request.

    Flask-Babel resolves context, domain and locale on every `_()` (about 25 µs, a page calls it
    dozens of times). The cache is keyed on the locale object so `force_locale` (emails rendered
    in the recipient's language) still switches catalogue.
    """
    locale = get_locale()
    cached = g.get("_template_translations")
    if cached is None or cached[0] is not locale:
        cached = g._template_translations = (locale, get_translations())
    return cached[1]


def _template_gettext(string: str) -> str:
    return _template_translations().ugettext(string)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    return _template_translations().ungettext(singular, plural, n)


@pass_context
def _template_underscore(context, string: str, **variables) -> str:
    """`_()` in templates: what Jinja's newstyle gettext does (escape-aware, always a format
    string), without its two indirections (the `_` alias, then a context call per string).
    A page of twenty result cards says `_()` over a hundred times, so the catalogue comes from
    the render's context (put there once by `_locale` below) rather than from resolving the
    locale again for every string; a macro imported without context falls back to that."""
    translations = context.get("_translations")
    if translations is None:
        translations = _template_translations()
    rv = translations.ugettext(string)
    if context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


def euros(value) -> str:
    """An amount in euros in the reader's locale, cents only when there are some (and then
    both digits: "58,80 €", never "58,8 €")."""
    return _euros_in(value or 0, str(get_locale()))


@functools.lru_cache(maxsize=8192)
def _euros_in(value, locale: str) -> str:
    # Babel takes about 80 µs per amount; a billing page or a report repeats the same few
    pattern = get_locale().currency_formats["standard"].pattern.split(";")[0]
    if float(value).is_integer():
        pattern = pattern.replace(".00", "")
    return format_currency(value, "EUR", format=pattern, currency_digits=False)


def number_input(value) -> str:
    """A number as a French reader would type it back into a field ("12 000", "1 500,5")."""
    if isinstance(value, str):
        return value  # what the user typed, kept as typed after an error
    return _number_in(value, str(get_locale()))


@functools.lru_cache(maxsize=4096)
def _number_in(value, locale: str) -> str:
    # Babel re-reads the pattern and the locale's symbols on every call (about 35 µs); a page
    # of twenty experts shows twenty ratings out of a few hundred possible values
    return format_decimal(value, format="#,##0.##", locale=locale)


def datetimeformat(value=None, format=None) -> str:
    """Flask-Babel's `datetimeformat` filter, remembered per (instant, format, locale, zone):
    Babel takes about 30 µs per date, and a dossier's timeline or a thread shows dozens of
    dates that are the same at every visit and every live refresh."""
    if value is None:  # "now": never the same twice
        return format_datetime(value, format)
    return _datetime_in(value, format, str(get_locale()), str(get_timezone()))


@functools.lru_cache(maxsize=8192)
def _datetime_in(value, format, _locale: str, _zone: str) -> str:
    # the locale and zone are part of the key; Babel reads them from the request, as always
    return format_datetime(value, format)


def dateformat(value=None, format=None) -> str:
    """Flask-Babel's `dateformat` filter, remembered like `datetimeformat`."""
    if value is None:
        return format_date(value, format)
    return _date_in(value, format, str(get_locale()), str(get_timezone()))


@functools.lru_cache(maxsize=8192)
def _date_in(value, format, _locale: str, _zone: str) -> str:
    return format_date(value, format)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)
    app.jinja_env.globals["_"] = _template_underscore

    @app.context_processor
    def _locale():
        return {
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            # resolved at render time, so an email rendered under `force_locale` gets its own
            "_translations": _template_translations(),
        }

"""What a user changes of their own account and their role's profile."""

from typing import Any

from flask import current_app
from flask_babel import gettext as _

from app.core.errors import ValidationFailed
from app.core.validators import (
    normalize_siren,
    sector_problem,
    siren_problem,
)
from app.extensions import db
from app.models import (
    Role,
    User,
)

USER_FIELDS = ("first_name", "last_name", "phone", "locale", "timezone")
PROFILE_FIELDS = {
    Role.CLIENT: (
        "company_name",
        "siren",
        "sector",
        "employees",
        "turnover",
        "address",
        "postal_code",
        "city",
    ),
    Role.EXPERT: ("firm_name", "city", "languages", "years_experience", "bio"),
    Role.REFERRER: (
        "company_name",
        "company_type",
        "sector",
        "siren",
        "motivation_letter",
        "target_monthly",
    ),
}


def update_profile(user: User, **values: Any) -> User:
    """Update the user's own fields and their role profile; unknown keys are ignored."""
    errors = {}
    if "siren" in values and (values["siren"] or user.role == Role.CLIENT):
        if problem := siren_problem(values["siren"]):
            errors["siren"] = problem
        values["siren"] = normalize_siren(values["siren"])
    if "sector" in values and (values["sector"] or user.role == Role.CLIENT):
        if problem := sector_problem(values["sector"]):
            errors["sector"] = problem
    if values.get("locale") not in (None, *current_app.config["LANGUAGES"]):
        errors["locale"] = _("Choose a language from the list.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), **errors)
    for field in USER_FIELDS:
        if field in values:
            setattr(user, field, values[field] if values[field] != "" else None)
    profile = user.profile
    for field in PROFILE_FIELDS.get(user.role, ()):
        if field in values and profile is not None:
            setattr(profile, field, values[field] if values[field] != "" else None)
    db.session.commit()
    return user

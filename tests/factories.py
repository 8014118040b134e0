"""Test data builders and client helpers (CSRF, login, htmx headers)."""

import re

from app.extensions import db
from app.models import (
    ApprovalStatus,
    ClientProfile,
    CompanyType,
    ExpertProfile,
    ReferrerProfile,
    ReferrerStatus,
    Role,
    User,
    utcnow,
)
from app.services.accounts import hash_password

PASSWORD = "correct-horse-42"
VALID_SIREN = "732829320"  # Luhn-valid
HX = {"HX-Request": "true"}


def make_user(app, role=Role.CLIENT, email=None, verified=True, password=PASSWORD, **profile):
    """Insert a user with its role profile; returns its id."""
    with app.app_context():
        n = db.session.scalar(db.select(db.func.count(User.id))) + 1
        user = User(
            email=email or f"{role.value}{n}@example.fr",
            password_hash=hash_password(password),
            role=role,
            first_name=profile.pop("first_name", f"Prénom{n}"),
            last_name=profile.pop("last_name", f"Nom{n}"),
            locale=profile.pop("locale", "fr"),
            email_verified_at=utcnow() if verified else None,
            created_at=profile.pop("created_at", utcnow()),
        )
        if role == Role.CLIENT:
            user.client_profile = ClientProfile(
                company_name=profile.get("company_name", "Transports Test SAS"),
                siren=VALID_SIREN,
                sector=profile.get("sector", "Transport et Logistique"),
                employees=profile.get("employees", 12),
                referrer_id=profile.get("referrer_id"),
            )
        elif role == Role.EXPERT:
            user.expert_profile = ExpertProfile(
                firm_name="Cabinet Test",
                approval_status=profile.get("approval_status", ApprovalStatus.PENDING),
            )
        elif role == Role.REFERRER:
            user.referrer_profile = ReferrerProfile(
                company_type=CompanyType.INDEPENDANT,
                status=profile.get("status", ReferrerStatus.PENDING_APPROVAL),
                affiliation_code=profile.get("affiliation_code"),
            )
        db.session.add(user)
        db.session.commit()
        return user.id


def get_user(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def csrf_token(client) -> str:
    page = client.get("/help").get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


def post(client, url, data=None, htmx=False, csrf=True, **kwargs):
    data = dict(data or {})
    if csrf:
        data.setdefault("csrf_token", csrf_token(client))
    headers = dict(HX) if htmx else {}
    headers.update(kwargs.pop("headers", {}))
    return client.post(url, data=data, headers=headers, **kwargs)


def login(client, email, password=PASSWORD):
    resp = post(client, "/login", {"email": email, "password": password})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return resp


def user_email(app, user_id) -> str:
    return get_user(app, user_id).email

"""What tests build their world with.

- `tests.factories.models`: one `gen_*` builder per model, used inside the `ctx` fixture's
  session (`gen_dossier(ctx, client=gen_client(ctx))`);
- `make_user(app, …)`: the same account committed from outside any context, returning its id
  (for tests that then act over HTTP);
- `tests.factories.http`: a browser's helpers (CSRF token, `post`, `login`, htmx headers).
"""

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
from tests.factories.http import HX, csrf_token, login, post
from tests.factories.models import PASSWORD, VALID_SIREN

__all__ = [
    "HX",
    "PASSWORD",
    "VALID_SIREN",
    "csrf_token",
    "get_user",
    "login",
    "make_user",
    "post",
    "user_email",
]


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


def user_email(app, user_id) -> str:
    return get_user(app, user_id).email

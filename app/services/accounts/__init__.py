"""Accounts: sign-up and applications, email verification, login, password reset, profile."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from app.core import audit, storage
from app.core.errors import NotFound, ValidationFailed
from app.core.validators import (
    normalize_email,
    normalize_siren,
    password_problem,
    sector_problem,
    siren_problem,
)
from app.extensions import db
from app.models import (
    ApprovalStatus,
    ClientProfile,
    CompanyType,
    Email,
    ExpertProfile,
    PasswordResetToken,
    Priority,
    ReferrerProfile,
    ReferrerStatus,
    Role,
    User,
    utcnow,
)
from app.realtime import notify
from app.services import notifications
from app.services.accounts import login_throttle, referrals, sessions, users
from app.services.dossiers import documents
from app.services.notifications import emails

# a hash to compare against when the email is unknown, so both paths take the same time
_DUMMY_HASH = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _check_password(email: str, password: str) -> None:
    if problem := password_problem(password, email):
        raise ValidationFailed(_("Please correct the highlighted fields."), password=problem)


def _existing_user(email: str, password: str) -> User | None:
    """Sign-up with an address that already has an account answers exactly like a new one
    (no enumeration): nothing is created, and the owner is told by email (once an hour at most,
    so the form cannot be used to flood their mailbox)."""
    user = db.session.scalar(db.select(User).where(User.email == normalize_email(email)))
    if user is None:
        return None
    hash_password(password)  # the same work as a real sign-up, so timing tells nothing either
    recent = db.session.scalar(
        db.select(Email.id).where(
            Email.user_id == user.id,
            Email.template == "signup_existing",
            Email.created_at > utcnow() - timedelta(hours=1),
        )
    )
    if recent is None and user.active:
        emails.queue_email(
            user,
            "signup_existing",
            login_link=emails.external_url("auth.login"),
            reset_link=emails.external_url("auth.forgot_password"),
        )
    db.session.commit()
    return user


def _new_user(
    role: Role,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str | None,
    locale: str,
) -> User:
    user = User(
        email=normalize_email(email),
        password_hash=hash_password(password),
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=(phone or "").strip() or None,
        locale=locale if locale in current_app.config["LANGUAGES"] else "fr",
    )
    db.session.add(user)
    return user


def register_client(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    company_name: str,
    siren: str,
    sector: str,
    phone: str | None = None,
    employees: int | None = None,
    turnover: int | None = None,
    address: str | None = None,
    postal_code: str | None = None,
    city: str | None = None,
    locale: str = "fr",
    referral_code: str | None = None,
) -> User | None:
    """Create a client account and its company; sends the verification email. A valid
    referral code (from a referrer's link) makes the referrer theirs. An address that already
    has an account gets None and its owner an email (see `_existing_user`).

    :raises ValidationFailed: weak password, invalid SIREN or sector.
    """
    errors = {}
    if problem := siren_problem(siren):
        errors["siren"] = problem
    if problem := sector_problem(sector):
        errors["sector"] = problem
    if problem := password_problem(password, email):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), **errors)
    if _existing_user(email, password):
        return None
    user = _new_user(Role.CLIENT, email, password, first_name, last_name, phone, locale)
    user.client_profile = ClientProfile(
        company_name=company_name.strip(),
        siren=normalize_siren(siren),
        sector=sector,
        employees=employees,
        turnover=turnover,
        address=address or None,
        postal_code=postal_code or None,
        city=city or None,
    )
    if referrer := referrals.referrer_by_code(referral_code):
        user.client_profile.referrer_id = referrer.id
    db.session.flush()
    send_verification(user)
    db.session.commit()
    return user


def apply_expert(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    firm_name: str | None = None,
    city: str | None = None,
    languages: str | None = None,
    years_experience: int | None = None,
    bio: str | None = None,
    locale: str = "fr",
) -> User | None:
    """Expert application: pending until an admin decides; admins are notified. An address
    that already has an account gets None (see `_existing_user`)."""
    _check_password(email, password)
    if _existing_user(email, password):
        return None
    user = _new_user(Role.EXPERT, email, password, first_name, last_name, phone, locale)
    user.expert_profile = ExpertProfile(
        firm_name=firm_name or None,
        city=city or None,
        languages=languages or None,
        years_experience=years_experience,
        bio=bio or None,
        approval_status=ApprovalStatus.PENDING,
    )
    db.session.flush()
    _announce_application(user, _l("New expert application"))
    db.session.commit()
    return user


CV_MAX_BYTES = 5 * 2**20


def open_cv(admin: User, user_id: int, ip: str | None = None) -> ReferrerProfile:
    """A referrer's CV for an admin; every read is audited. :raises NotFound: no such CV."""

    if not admin.is_admin:
        raise NotFound()
    user = db.session.get(User, user_id)
    profile = user.referrer_profile if user is not None else None
    if profile is None or not profile.cv_key:
        raise NotFound()
    audit.record(admin, "apporteur.read_cv", "user", user.id, ip)
    db.session.commit()
    return profile


def apply_referrer(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    company_type: str,
    phone: str | None = None,
    company_name: str | None = None,
    sector: str | None = None,
    siren: str | None = None,
    motivation_letter: str | None = None,
    sponsor_code: str | None = None,
    target_monthly: int | None = None,
    cv=None,
    locale: str = "fr",
) -> User | None:
    """Apporteur application (docs/domain.md §9): pending until an admin decides. `cv` is an
    optional uploaded PDF (checked by content, 5 MB at most)."""
    errors = {}
    cv_head = None
    if cv is not None and cv.filename:
        checked = documents.sniff(cv, {"application/pdf": "pdf"})
        if isinstance(checked, str):
            errors["cv"] = checked
        else:
            cv_head = checked[1]
    if siren and (problem := siren_problem(siren)):
        errors["siren"] = problem
    if sector and (problem := sector_problem(sector)):
        errors["sector"] = problem
    if company_type not in {t.value for t in CompanyType}:
        errors["company_type"] = _("Choose a type from the list.")
    if problem := password_problem(password, email):
        errors["password"] = problem
    sponsor = None
    if sponsor_code:
        sponsor = db.session.scalar(
            db.select(ReferrerProfile).where(
                ReferrerProfile.affiliation_code == sponsor_code.strip().upper(),
                ReferrerProfile.status == ReferrerStatus.ACTIVE,
            )
        )
        if sponsor is None:
            errors["sponsor_code"] = _("This sponsor code does not match any active referrer.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), **errors)
    if _existing_user(email, password):
        return None  # and their CV is not kept
    cv_key = cv_name = None
    if cv_head is not None:
        try:
            cv_key, _size = storage.save_stream("cvs", cv_head, cv.stream, "pdf", CV_MAX_BYTES)
        except storage.TooLarge:
            message = _("The file is larger than %(n)d MB.", n=CV_MAX_BYTES // 2**20)
            raise ValidationFailed(message, cv=message) from None
        cv_name = documents.display_name(cv.filename)
    user = _new_user(Role.REFERRER, email, password, first_name, last_name, phone, locale)
    user.referrer_profile = ReferrerProfile(
        cv_key=cv_key,
        cv_name=cv_name,
        company_name=company_name or None,
        company_type=CompanyType(company_type),
        sector=sector or None,
        siren=normalize_siren(siren) or None,
        motivation_letter=motivation_letter or None,
        sponsor_code=sponsor.affiliation_code if sponsor else None,
        sponsor_id=sponsor.id if sponsor else None,
        target_monthly=target_monthly,
        status=ReferrerStatus.PENDING_APPROVAL,
    )
    db.session.flush()
    _announce_application(user, _l("New referrer application"))
    db.session.commit()
    return user


def _announce_application(user: User, title) -> None:
    send_verification(user)
    emails.queue_email(user, "application_received")
    notifications.notify_admins(
        "application_received",
        title,
        body=f"{user.full_name} <{user.email}>",
        link=url_for("admin.approvals"),
        priority=Priority.HIGH,
        object_ref=f"user:{user.id}",
    )
    notify.to_admins("approvals:changed", user_id=user.id)
    link = emails.external_url("admin.approvals")
    for admin in users.active_admins():
        emails.queue_notification_email(
            admin,
            "application_received",
            "application_to_review",
            applicant=user.full_name,
            applicant_email=user.email,
            kind=title,  # lazy: rendered in each admin's language
            link=link,
        )


# -- email verification --------------------------------------------------------------------------


def verification_token(user: User) -> str:
    return _serializer("email-verify").dumps({"u": user.id, "e": user.email})


def send_verification(user: User) -> None:
    link = emails.external_url("auth.verify_email", token=verification_token(user))
    emails.queue_email(user, "verify_email", link=link)


def resend_verification(user: User) -> None:
    send_verification(user)
    db.session.commit()


def verify_email(token: str) -> tuple[User, bool]:
    """The user the link confirms, and whether this is its first use (which logs them in).

    :raises ValidationFailed: expired, tampered, or for an address changed since."""
    try:
        data = _serializer("email-verify").loads(
            token, max_age=current_app.config["EMAIL_VERIFY_MAX_AGE"]
        )
    except SignatureExpired:
        raise ValidationFailed(
            _("This confirmation link has expired. Ask for a new one.")
        ) from None
    except BadSignature:
        raise ValidationFailed(_("This confirmation link is not valid.")) from None
    user = db.session.get(User, data.get("u"))
    if user is None or user.email != data.get("e"):
        raise ValidationFailed(_("This confirmation link is not valid."))
    if user.email_verified_at is not None:
        return user, False
    user.email_verified_at = utcnow()
    db.session.commit()
    return user, True


# -- login ---------------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    global _DUMMY_HASH
    user = db.session.scalar(db.select(User).where(User.email == normalize_email(email)))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password-0")
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


# -- password reset ------------------------------------------------------------------------------


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def request_password_reset(email: str) -> None:
    """Email a single-use link valid one hour. Silent for unknown addresses (no enumeration)."""
    user = db.session.scalar(db.select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        return
    nonce = secrets.token_urlsafe(24)
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    row = PasswordResetToken(
        user_id=user.id,
        nonce_hash=_nonce_hash(nonce),
        expires_at=utcnow() + timedelta(seconds=max_age),
    )
    db.session.add(row)
    db.session.flush()
    token = _serializer("password-reset").dumps({"t": row.id, "n": nonce})
    link = emails.external_url("auth.reset_password", token=token)
    emails.queue_email(user, "password_reset", link=link, minutes=max_age // 60)
    db.session.commit()


def _reset_row(token: str) -> PasswordResetToken:
    invalid = _("This reset link is not valid. Ask for a new one.")
    try:
        data = _serializer("password-reset").loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except SignatureExpired:
        raise ValidationFailed(_("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise ValidationFailed(invalid) from None
    row = db.session.get(PasswordResetToken, data.get("t"))
    if row is None or not secrets.compare_digest(row.nonce_hash, _nonce_hash(str(data.get("n")))):
        raise ValidationFailed(invalid)
    if row.used_at is not None:
        raise ValidationFailed(_("This reset link has already been used. Ask for a new one."))
    if row.expires_at <= utcnow():
        raise ValidationFailed(_("This reset link has expired. Ask for a new one."))
    return row


def check_reset_token(token: str) -> None:
    _reset_row(token)


def reset_password(token: str, new_password: str) -> User:
    row = _reset_row(token)
    user = db.session.get(User, row.user_id)
    if problem := password_problem(new_password, user.email):
        raise ValidationFailed(problem, password=problem)
    now = utcnow()
    user.password_hash = hash_password(new_password)
    # every outstanding link dies with this one
    db.session.execute(
        db.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    if user.email_verified_at is None:  # the link came through their mailbox
        user.email_verified_at = now
    login_throttle.clear_account(user.email)  # the mailbox's owner logs in at once
    db.session.commit()
    sessions.end_all(user)  # whoever held a session (the reason for a reset, often) is out
    return user


def purge_expired_reset_tokens() -> int:
    result = db.session.execute(
        db.delete(PasswordResetToken).where(
            db.or_(
                PasswordResetToken.expires_at < utcnow(),
                PasswordResetToken.used_at.is_not(None),
            )
        )
    )
    db.session.commit()
    return result.rowcount


# -- profile -------------------------------------------------------------------------------------


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password):
        message = _("The current password is not correct.")
        raise ValidationFailed(message, current_password=message)
    if problem := password_problem(new_password, user.email):
        raise ValidationFailed(problem, new_password=problem)
    user.password_hash = hash_password(new_password)
    db.session.commit()
    sessions.end_all(user, keep_current=True)  # every other device is logged out


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

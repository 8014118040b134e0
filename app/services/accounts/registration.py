"""Sign-up and applications: a client account, an expert's or a referrer's application
(pending until an admin decides), and the referrer CV only admins open."""

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit, metrics, storage
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
    Priority,
    ReferrerProfile,
    ReferrerStatus,
    Role,
    User,
    utcnow,
)
from app.realtime import notify
from app.services import notifications
from app.services.accounts import referrals
from app.services.accounts.passwords import hash_password
from app.services.accounts.verification import send_verification
from app.services.dossiers import documents
from app.services.notifications import emails


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
    metrics.business("signup")
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
    for admin in notifications.active_admins():
        emails.queue_notification_email(
            admin,
            "application_received",
            "application_to_review",
            applicant=user.full_name,
            applicant_email=user.email,
            kind=title,  # lazy: rendered in each admin's language
            link=link,
        )

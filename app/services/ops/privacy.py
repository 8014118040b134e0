"""Personal data rights (A12, RGPD): a user downloads everything the platform holds about them,
and asks to be forgotten; an admin confirms, then the account is anonymised.

The export follows the schema, not a list kept by hand: every table with a column pointing at
the user contributes its rows (secrets and internal file keys left out, the files themselves
added), plus the conversations they take part in and their dossiers' timelines. A new table
that points at users is in the next export without anyone remembering it.

Erasure keeps what the law requires: invoices, credit notes, payments, commissions and payouts
(ten years, Code de commerce L123-22) and the audit log, all pointing at the same, now
anonymous, account. Everything else that names or describes the person goes: the account's
identity, their profiles' free text, messages they wrote, documents they uploaded, their
notifications, sessions, simulations and the emails sent to them.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash

from app.core import audit, storage
from app.core.errors import NotFound, ValidationFailed
from app.core.jobs import enqueue
from app.extensions import db
from app.models import (
    ClientProfile,
    DataExport,
    DataExportStatus,
    Document,
    Dossier,
    DossierStatus,
    Email,
    ErasureRequest,
    ErasureStatus,
    ExpertProfile,
    Invoice,
    Lead,
    Message,
    Notification,
    ReferrerProfile,
    Review,
    Simulation,
    ThreadParticipant,
    TicketMessage,
    User,
    utcnow,
)
from app.realtime import notify
from app.services import notifications
from app.services.accounts import sessions

log = logging.getLogger(__name__)

EXPORT_DAYS = 7
# never in an export: credentials and internal handles (files come as files)
SECRET_COLUMNS = {"password_hash", "key_hash", "token", "p256dh", "auth", "endpoint"}
FINISHED = {
    DossierStatus.COMPLETED,
    DossierStatus.CANCELLED,
    DossierStatus.ARCHIVED,
    DossierStatus.ADMIN_REJECTED,
    DossierStatus.QUOTE_REJECTED,
}
ERASED = "[effacé]"


# -- export ----------------------------------------------------------------------------------


def request_export(user: User, ip: str | None = None) -> DataExport:
    """Queue a new export unless one is already being built."""
    waiting = db.session.scalar(
        db.select(DataExport).where(
            DataExport.user_id == user.id,
            DataExport.status.in_((DataExportStatus.QUEUED, DataExportStatus.BUILDING)),
        )
    )
    if waiting is not None:
        return waiting
    export = DataExport(user_id=user.id)
    db.session.add(export)
    db.session.flush()
    audit.record(user, "privacy.export_requested", "data_export", export.id, ip)
    db.session.commit()
    enqueue("exports", "app.services.ops.jobs.build_data_export", export.id)
    return export


def exports_of(user: User) -> list[DataExport]:
    return db.session.scalars(
        db.select(DataExport)
        .where(DataExport.user_id == user.id)
        .order_by(DataExport.id.desc())
        .limit(5)
    ).all()


def get_export(user: User, export_id: int) -> DataExport:
    """The user's own ready export; anyone else's, or an expired one, is not found."""
    export = db.session.get(DataExport, export_id)
    if (
        export is None
        or export.user_id != user.id
        or export.status != DataExportStatus.READY
        or (export.expires_at is not None and export.expires_at < utcnow())
    ):
        raise NotFound()
    return export


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):  # enums
        return value.value
    if isinstance(value, bytes):
        return None
    return value


def _rows(table, where) -> list[dict]:
    columns = [
        c for c in table.columns if c.name not in SECRET_COLUMNS and not c.name.endswith("_key")
    ]
    result = db.session.execute(db.select(*columns).where(where).order_by(*table.primary_key))
    return [{c.name: _plain(v) for c, v in zip(columns, row, strict=True)} for row in result]


def collect(user_id: int) -> dict[str, list[dict]]:
    """Every row that points at the user, by table; their threads' messages; their dossiers'
    timelines."""
    users = db.metadata.tables["users"]
    data: dict[str, list[dict]] = {"users": _rows(users, users.c.id == user_id)}
    for table in db.metadata.sorted_tables:
        if table.name in ("users", "audit_logs"):
            continue
        pointing = [
            c for c in table.columns if any(fk.column.table is users for fk in c.foreign_keys)
        ]
        if pointing:
            rows = _rows(table, db.or_(*(c == user_id for c in pointing)))
            if rows:
                data[table.name] = rows
    threads = db.select(ThreadParticipant.thread_id).where(ThreadParticipant.user_id == user_id)
    messages = db.metadata.tables["messages"]
    data["messages"] = _rows(messages, messages.c.thread_id.in_(threads))
    events = db.metadata.tables["dossier_events"]
    dossiers = db.select(Dossier.id).where(Dossier.client_id == user_id)
    timeline = _rows(events, events.c.dossier_id.in_(dossiers))
    if timeline:
        data["dossier_events"] = timeline
    return data


def _files(user_id: int):
    """(name in the ZIP, storage key) of the user's files."""
    for doc in db.session.scalars(
        db.select(Document).where(
            db.or_(Document.client_id == user_id, Document.uploaded_by_id == user_id),
            Document.storage_key != "",
        )
    ):
        yield f"files/documents/{doc.id}-{doc.original_name}", doc.storage_key
    for invoice in db.session.scalars(
        db.select(Invoice).where(
            db.or_(Invoice.client_id == user_id, Invoice.expert_id == user_id),
            Invoice.pdf_key.is_not(None),
        )
    ):
        yield f"files/invoices/{invoice.number}.pdf", invoice.pdf_key
    profile = db.session.scalar(
        db.select(ReferrerProfile).where(ReferrerProfile.user_id == user_id)
    )
    if profile is not None and profile.cv_key:
        yield f"files/cv/{profile.cv_name or 'cv'}", profile.cv_key


README = """Vos données chez FinancialTracker / Your data at FinancialTracker

data/<table>.json : chaque ligne qui vous concerne, par table (one file per table).
files/ : vos documents, vos factures et votre CV (your documents, invoices and CV).
Les dates sont en UTC (ISO 8601). Contact : support@financialtracker.fr
"""


def build(export_id: int) -> bool:
    """The job: the ZIP of the export's user. Idempotent (a ready export is left alone)."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.status == DataExportStatus.READY:
        return False
    export.status = DataExportStatus.BUILDING
    db.session.commit()
    try:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("LISEZMOI.txt", README)
            for table, rows in collect(export.user_id).items():
                zf.writestr(f"data/{table}.json", json.dumps(rows, ensure_ascii=False, indent=1))
            for name, key in _files(export.user_id):
                try:
                    zf.writestr(name, storage.read(key))
                except FileNotFoundError:
                    log.warning("export %s: %s is missing from storage", export.id, key)
        export.storage_key = storage.save("privacy", buffer.getvalue(), "zip")
        export.size_bytes = buffer.tell()
        export.status, export.ready_at = DataExportStatus.READY, utcnow()
        export.expires_at = utcnow() + timedelta(days=EXPORT_DAYS)
        user = db.session.get(User, export.user_id)
        notifications.create(
            user,
            "account_data_export",
            _l("Your data is ready to download"),
            _l("The file stays available for %(days)s days.", days=EXPORT_DAYS),
            link="/account/privacy",
            object_ref=f"data_export:{export.id}",
        )
    except Exception as exc:
        db.session.rollback()
        export = db.session.get(DataExport, export_id)
        export.status, export.error = DataExportStatus.FAILED, f"{type(exc).__name__}"[:300]
        db.session.commit()
        notify.to_user(export.user_id, "privacy:changed")
        raise
    notify.to_user(export.user_id, "privacy:changed")
    db.session.commit()
    return True


def purge_expired() -> int:
    gone = 0
    for export in db.session.scalars(db.select(DataExport).where(DataExport.expires_at < utcnow())):
        storage.delete(export.storage_key)
        db.session.delete(export)
        gone += 1
    db.session.commit()
    return gone


# -- erasure ---------------------------------------------------------------------------------


def pending_erasure(user: User) -> ErasureRequest | None:
    return db.session.scalar(
        db.select(ErasureRequest).where(
            ErasureRequest.user_id == user.id, ErasureRequest.status == ErasureStatus.PENDING
        )
    )


def request_erasure(user: User, password: str, reason: str, ip: str | None = None):
    """The user asks (their password again: someone at an unlocked screen may not)."""
    if not check_password_hash(user.password_hash, password or ""):
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            password=_("This is not your password."),
        )
    existing = pending_erasure(user)
    if existing is not None:
        return existing
    request = ErasureRequest(user_id=user.id, reason=(reason or "").strip()[:1000])
    db.session.add(request)
    db.session.flush()
    audit.record(user, "privacy.erasure_requested", "erasure_request", request.id, ip)
    notifications.notify_admins(
        "account_erasure_requested",
        _l("A user asks for their account to be deleted"),
        user.full_name,
        link="/ops/privacy",
        object_ref=f"erasure_request:{request.id}",
    )
    db.session.commit()
    return request


def cancel_erasure(user: User, ip: str | None = None) -> None:
    request = pending_erasure(user)
    if request is not None:
        request.status, request.decided_at = ErasureStatus.CANCELLED, utcnow()
        audit.record(user, "privacy.erasure_cancelled", "erasure_request", request.id, ip)
        db.session.commit()


def pending_requests() -> list[ErasureRequest]:
    return db.session.scalars(
        db.select(ErasureRequest)
        .where(ErasureRequest.status == ErasureStatus.PENDING)
        .order_by(ErasureRequest.requested_at)
    ).all()


def decided_requests(limit: int = 30) -> list[ErasureRequest]:
    return db.session.scalars(
        db.select(ErasureRequest)
        .where(ErasureRequest.status != ErasureStatus.PENDING)
        .order_by(ErasureRequest.decided_at.desc())
        .limit(limit)
    ).all()


def open_dossiers(user_id: int) -> int:
    return db.session.scalar(
        db.select(db.func.count(Dossier.id)).where(
            db.or_(Dossier.client_id == user_id, Dossier.expert_id == user_id),
            Dossier.status.not_in(FINISHED),
        )
    )


def _get_pending(request_id: int) -> ErasureRequest:
    request = db.session.get(ErasureRequest, request_id)
    if request is None or request.status != ErasureStatus.PENDING:
        raise NotFound()
    return request


def refuse(admin: User, request_id: int, note: str, ip: str | None = None) -> ErasureRequest:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            note=_("Say why, for the user: the law asks for a reason."),
        )
    request = _get_pending(request_id)
    request.status, request.decided_at, request.decided_by_id = (
        ErasureStatus.REFUSED,
        utcnow(),
        admin.id,
    )
    request.decision_note = note[:1000]
    audit.record(admin, "privacy.erasure_refused", "erasure_request", request.id, ip)
    notifications.create(
        request.user,
        "account_erasure_refused",
        _l("Your account could not be deleted yet"),
        request.decision_note,
        link="/account/privacy",
        object_ref=f"erasure_request:{request.id}",
    )
    db.session.commit()
    return request


def confirm(admin: User, request_id: int, ip: str | None = None) -> ErasureRequest:
    """Anonymise the account now. Refused while the user has dossiers in progress: those are
    contracts under way, to be finished or cancelled first."""
    request = _get_pending(request_id)
    if (n := open_dossiers(request.user_id)) > 0:
        raise ValidationFailed(
            _(
                "This user still has %(n)s dossier(s) in progress: finish or cancel them, or "
                "refuse the request with the reason.",
                n=n,
            )
        )
    summary = anonymise(request.user_id)
    request.status, request.decided_at, request.decided_by_id = (
        ErasureStatus.DONE,
        utcnow(),
        admin.id,
    )
    request.summary = summary
    audit.record(
        admin, "privacy.erasure_confirmed", "erasure_request", request.id, ip, summary=summary
    )
    db.session.commit()
    sessions.end_all(db.session.get(User, request.user_id))
    return request


def anonymise(user_id: int) -> dict[str, int]:
    """In the caller's transaction: what identifies the person goes, the legal records stay."""
    done: dict[str, int] = {}

    def count(name: str, n: int | None) -> None:
        if n:
            done[name] = done.get(name, 0) + n

    user = db.session.get(User, user_id)
    old_email = user.email
    user.email = f"supprime-{user.id}-{secrets.token_hex(4)}@anonyme.invalid"
    user.first_name, user.last_name, user.phone = "Utilisateur", "supprimé", None
    user.password_hash = "!erased"  # no password matches it
    user.active = False
    count("users", 1)
    profile = db.session.scalar(db.select(ClientProfile).where(ClientProfile.user_id == user_id))
    if profile is not None:
        profile.company_name = "Entreprise supprimée"
        profile.address = profile.postal_code = profile.city = None
        profile.employees = profile.turnover = None
        count("client_profiles", 1)
    expert = db.session.scalar(db.select(ExpertProfile).where(ExpertProfile.user_id == user_id))
    if expert is not None:
        expert.bio, expert.certifications = None, None
        expert.available = False
        count("expert_profiles", 1)
    referrer = db.session.scalar(
        db.select(ReferrerProfile).where(ReferrerProfile.user_id == user_id)
    )
    if referrer is not None:
        storage.delete(referrer.cv_key)
        referrer.cv_key = referrer.cv_name = None
        referrer.motivation_letter = ""
        referrer.iban = referrer.iban_holder = None  # paid payouts keep their own copy
        count("referrer_profiles", 1)
    redact = (
        (Message, Message.sender_id, {"body": ERASED}),
        (TicketMessage, TicketMessage.author_id, {"body": ERASED}),
        (Review, Review.client_id, {"text": ERASED}),
    )
    for model, column, values in redact:
        count(
            model.__tablename__,
            db.session.execute(db.update(model).where(column == user_id).values(**values)).rowcount,
        )
    for lead in db.session.scalars(db.select(Lead).where(Lead.client_id == user_id)):
        lead.email, lead.contact_name, lead.phone, lead.message = "", ERASED, "", ""
        count("leads", 1)
    for doc in db.session.scalars(
        db.select(Document).where(
            db.or_(Document.client_id == user_id, Document.uploaded_by_id == user_id)
        )
    ):
        storage.delete(doc.storage_key or None)
        doc.storage_key, doc.original_name = "", ERASED
        count("documents", 1)
    # their own data exports hold a copy of everything: the files go with the rows
    for key in db.session.scalars(
        db.select(DataExport.storage_key).where(DataExport.user_id == user_id)
    ):
        storage.delete(key)
    for model, column in (
        (Notification, Notification.user_id),
        (Simulation, Simulation.user_id),
        (DataExport, DataExport.user_id),
    ):
        count(
            model.__tablename__,
            db.session.execute(db.delete(model).where(column == user_id)).rowcount,
        )
    count(
        "emails",
        db.session.execute(
            db.delete(Email).where(db.or_(Email.user_id == user_id, Email.recipient == old_email))
        ).rowcount,
    )
    for name in (
        "notification_preferences",
        "notification_settings",
        "push_subscriptions",
        "password_reset_tokens",
    ):
        table = db.metadata.tables[name]
        count(name, db.session.execute(table.delete().where(table.c.user_id == user_id)).rowcount)
    return done

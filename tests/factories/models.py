"""One builder per model, CTFd's `gen_*` style: `gen_dossier(session, client=c)` adds a row with
sensible defaults, flushes it (so it has its id) and returns it; the test commits when it wants
the rows seen by a request or a worker. Every default can be overridden by keyword."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from app.models import (
    ApprovalStatus,
    ClientProfile,
    CompanyType,
    Document,
    DocumentStatus,
    DocumentStep,
    Dossier,
    DossierEvent,
    DossierStatus,
    ExpertiseLevel,
    ExpertProduct,
    ExpertProfile,
    Firm,
    FirmInvitation,
    FirmMember,
    FirmRole,
    Invoice,
    Message,
    MessageKind,
    Notification,
    Product,
    ReferrerProfile,
    ReferrerStatus,
    Review,
    Role,
    Simulation,
    Thread,
    ThreadKind,
    ThreadParticipant,
    User,
    utcnow,
)
from app.services.accounts import hash_password

PASSWORD = "correct-horse-42"
VALID_SIREN = "732829320"  # Luhn-valid
_n = itertools.count(1)


def _add(session, row):
    session.add(row)
    session.flush()
    return row


def gen_user(session, role=Role.CLIENT, email=None, password=PASSWORD, verified=True, **fields):
    """An account with its role's profile (a client's company, an expert's pending
    application, a referrer's pending application)."""
    n = next(_n)
    user = User(
        email=email or f"{role.value}{n}@example.fr",
        password_hash=hash_password(password),
        role=role,
        first_name=fields.pop("first_name", f"Prénom{n}"),
        last_name=fields.pop("last_name", f"Nom{n}"),
        locale=fields.pop("locale", "fr"),
        email_verified_at=utcnow() if verified else None,
        **fields,
    )
    if role == Role.CLIENT:
        user.client_profile = ClientProfile(
            company_name="Transports Test SAS",
            siren=VALID_SIREN,
            sector="Transport et Logistique",
            employees=12,
        )
    elif role == Role.EXPERT:
        user.expert_profile = ExpertProfile(
            firm_name="Cabinet Test", approval_status=ApprovalStatus.PENDING
        )
    elif role == Role.REFERRER:
        user.referrer_profile = ReferrerProfile(
            company_type=CompanyType.INDEPENDANT, status=ReferrerStatus.PENDING_APPROVAL
        )
    return _add(session, user)


def gen_client(session, **fields):
    return gen_user(session, Role.CLIENT, **fields)


def gen_expert(session, approved=True, products=("TICPE",), **fields):
    """An expert (approved by default) who holds `products` at expert level."""
    user = gen_user(session, Role.EXPERT, **fields)
    if approved:
        user.expert_profile.approval_status = ApprovalStatus.APPROVED
    for code in products:
        gen_expert_product(session, user, gen_product(session, code))
    return user


def gen_admin(session, **fields):
    return gen_user(session, Role.ADMIN, **fields)


def gen_referrer(session, active=True, **fields):
    user = gen_user(session, Role.REFERRER, **fields)
    if active:
        user.referrer_profile.status = ReferrerStatus.ACTIVE
        user.referrer_profile.affiliation_code = f"AFF{next(_n):06d}"
    return user


def gen_product(session, code="TICPE"):
    """A catalogue product: the seeded catalogue is reference data, so this finds it."""
    return session.scalar(select(Product).where(Product.code == code))


def gen_expert_product(session, expert: User, product: Product, level=ExpertiseLevel.EXPERT):
    return _add(
        session,
        ExpertProduct(expert_id=expert.expert_profile.id, product_id=product.id, level=level),
    )


def gen_simulation(session, user=None, **fields):
    fields.setdefault("token", f"sim{next(_n):029d}")
    return _add(session, Simulation(user_id=user.id if user else None, **fields))


def gen_dossier(
    session,
    client=None,
    product="TICPE",
    status=DossierStatus.PENDING_UPLOAD,
    expert=None,
    **fields,
):
    client = client or gen_client(session)
    fields.setdefault("estimated_cents", 1_000_000)
    return _add(
        session,
        Dossier(
            client_id=client.id,
            product_id=gen_product(session, product).id,
            status=status,
            expert_id=expert.id if expert else None,
            **fields,
        ),
    )


def gen_event(session, dossier, action="submit_eligibility", actor=None, **fields):
    fields.setdefault("before", dossier.status.value)
    fields.setdefault("after", dossier.status.value)
    return _add(
        session,
        DossierEvent(
            dossier_id=dossier.id, action=action, actor_id=actor.id if actor else None, **fields
        ),
    )


def gen_document(session, dossier=None, client=None, step=DocumentStep.ELIGIBILITY, **fields):
    """A document row (its bytes are the test's business: `storage.save` when it reads them)."""
    client_id = client.id if client else dossier.client_id
    n = next(_n)
    defaults = {
        "label": "Kbis",
        "storage_key": f"test/{n}.pdf",
        "original_name": f"piece-{n}.pdf",
        "content_type": "application/pdf",
        "size_bytes": 2048,
        "status": DocumentStatus.PENDING,
    }
    return _add(
        session,
        Document(
            client_id=client_id,
            dossier_id=dossier.id if dossier else None,
            step=step,
            **{**defaults, **fields},
        ),
    )


def gen_firm(session, owner: User, name="Cabinet Azur", members=()):
    """A firm run by `owner`, with `members` (users who accepted, as experts)."""
    firm = Firm(name=name)
    firm.members = [FirmMember(user_id=owner.id, role=FirmRole.OWNER)] + [
        FirmMember(user_id=m.id, role=FirmRole.EXPERT) for m in members
    ]
    return _add(session, firm)


def gen_invitation(session, firm: Firm, user: User, invited_by: User, role=FirmRole.EXPERT):
    return _add(
        session,
        FirmInvitation(firm_id=firm.id, user_id=user.id, invited_by_id=invited_by.id, role=role),
    )


def gen_thread(session, dossier=None, kind=ThreadKind.DOSSIER, key=None, people=()):
    """A conversation (a dossier's by default) with `people` as its participants."""
    key = key or (f"dossier:{dossier.id}" if dossier else f"support:{people[0].id}")
    thread = _add(
        session,
        Thread(kind=kind, key=key, dossier_id=dossier.id if dossier else None),
    )
    for person in people:
        _add(session, ThreadParticipant(thread_id=thread.id, user_id=person.id))
    return thread


def gen_message(session, thread, sender, body="Bonjour", kind=MessageKind.TEXT):
    message = _add(session, Message(thread_id=thread.id, sender_id=sender.id, body=body, kind=kind))
    thread.last_message_at = message.created_at
    return message


def gen_notification(session, user, type="test", title="Une notification", **fields):
    return _add(session, Notification(user_id=user.id, type=type, title=title, **fields))


def gen_review(session, dossier, rating=5, text="Très bien"):
    return _add(
        session,
        Review(
            dossier_id=dossier.id,
            expert_id=dossier.expert_id,
            client_id=dossier.client_id,
            rating=rating,
            text=text,
        ),
    )


def gen_invoice(session, dossier=None, referrer=None, obtained_cents=1_500_000, **fields):
    """An issued invoice on `dossier` (made with a client and an expert if not given), from
    the A5 waterfall at 30 % / 30 % / 10 %; the client came through `referrer` if given."""
    from datetime import timedelta

    from app.services.dossiers.invoices import next_number, waterfall

    if dossier is None:
        dossier = gen_dossier(
            session, expert=gen_expert(session), status=DossierStatus.REFUND_CONFIRMED
        )
    client = session.get(User, dossier.client_id)
    if referrer is not None:
        client.client_profile.referrer_id = referrer.id
    w = waterfall(obtained_cents, 3000, 3000, 1000 if referrer else 0)
    today = utcnow().date()
    invoice = Invoice(
        number=next_number(today.year),
        dossier_id=dossier.id,
        client_id=dossier.client_id,
        expert_id=dossier.expert_id,
        obtained_cents=w.obtained_cents,
        client_fee_bp=3000,
        platform_fee_bp=3000,
        referrer_share_bp=1000 if referrer else 0,
        client_fee_cents=w.client_fee_cents,
        platform_fee_cents=w.platform_fee_cents,
        vat_cents=w.vat_cents,
        total_cents=w.total_cents,
        referrer_cents=w.referrer_cents,
        issued_on=today,
        due_on=today + timedelta(days=30),
        **fields,
    )
    return _add(session, invoice)

"""The scale dataset for `make bench` (`flask seed scale`), by bulk inserts: people, expert
offers, dossiers spread over the statuses as on a living platform, then the conversations
(`scale_messages`). Re-running tops it up."""

import random
import time
from datetime import timedelta

import click
from sqlalchemy import insert

from app.extensions import db
from app.models import (
    SECTORS,
    ApprovalStatus,
    ClientProfile,
    CompanyType,
    Dossier,
    DossierStatus,
    ExpertiseLevel,
    ExpertProduct,
    ExpertProfile,
    ExpertSector,
    Product,
    ProductKind,
    ReferrerProfile,
    ReferrerStatus,
    Role,
    User,
    utcnow,
)
from app.models.dossier import QUOTE_PRODUCTS
from app.seeds import scale_clocks, scale_crm, scale_messages
from app.seeds.demo import siren
from app.services import accounts
from app.services.analytics import facts
from app.services.workflow import WAITING_AFTER, recount_loads


def _bulk_users(role: Role, prefix: str, start: int, count: int, pw: str, now) -> list[int]:
    rows = [
        {
            "email": f"{prefix}-{i}@scale.financialtracker.test",
            "password_hash": pw,
            "role": role,
            "first_name": random.choice(["Jean", "Marie", "Luc", "Emma", "Hugo", "Léa", "Nina"]),
            "last_name": f"Scale{i}",
            "locale": "fr",
            "timezone": "Europe/Paris",
            "active": True,
            "email_verified_at": now,
            "created_at": now - timedelta(minutes=random.randint(0, 2 * 365 * 24 * 60)),
            "updated_at": now,
        }
        for i in range(start, start + count)
    ]
    return list(
        db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows)
    )


def _existing(prefix: str) -> int:
    return db.session.scalar(
        db.select(db.func.count(User.id)).where(
            User.email.like(f"{prefix}-%@scale.financialtracker.test")
        )
    )


SCALE_CITIES = (
    ("Paris", "75"),
    ("Lyon", "69"),
    ("Lille", "59"),
    ("Nantes", "44"),
    ("Rennes", "35"),
    ("Marseille", "13"),
    ("Toulouse", "31"),
    ("Bordeaux", "33"),
)
# docs/domain.md §4 in a living platform: most dossiers early, a long tail down to completion
SCALE_STATUSES = (
    ("pending_upload", 30),
    ("pending_admin_validation", 8),
    ("admin_validated", 8),
    ("expert_pending_acceptance", 4),
    ("expert_assigned", 4),
    ("documents_requested", 6),
    ("documents_sent", 3),
    ("documents_validated", 3),
    ("audit_in_progress", 6),
    ("audit_completed", 3),
    ("audit_validated", 3),
    ("submitted_to_administration", 8),
    ("administration_decided", 2),
    ("refund_confirmed", 1),
    ("fee_payment_pending", 1),
    ("completed", 7),
    ("cancelled", 3),
)
CLIENT_CITIES = (
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Lille", "59000"),
    ("Nantes", "44000"),
    ("Rennes", "35000"),
    ("Ajaccio", "20000"),
    ("Saint-Denis", "97400"),
)
SCALE_QUOTE_STATUSES = (
    ("pending_upload", 40),
    ("quote_requested", 15),
    ("quote_proposed", 15),
    ("quote_rejected", 5),
    ("quote_accepted", 10),
    ("completed", 15),
)


def _scale_offers(expert_user_ids: list[int]) -> None:
    """Each scale expert holds one to four financial products and knows up to three sectors."""
    products = db.session.scalars(
        db.select(Product.id).where(Product.kind == ProductKind.FINANCIAL, Product.active)
    ).all()
    profiles = (
        db.session.execute(
            db.select(ExpertProfile.id).where(ExpertProfile.user_id.in_(expert_user_ids))
        )
        .scalars()
        .all()
    )
    levels = list(ExpertiseLevel)
    offers, sectors = [], []
    for profile_id in profiles:
        for product_id in random.sample(products, random.randint(1, min(4, len(products)))):
            offers.append(
                {"expert_id": profile_id, "product_id": product_id, "level": random.choice(levels)}
            )
        for sector in random.sample(SECTORS, random.randint(0, 3)):
            sectors.append({"expert_id": profile_id, "sector": sector})
    db.session.execute(insert(ExpertProduct), offers)
    if sectors:
        db.session.execute(insert(ExpertSector), sectors)


# the workflow order of SCALE_STATUSES: a dossier has passed every milestone before its status
RANK = {name: i for i, (name, _w) in enumerate(SCALE_STATUSES)}
DECISIONS = (("accepted", 70), ("partial", 20), ("refused", 10))


def _milestones(status: str, created, age) -> dict:
    """The dates and amounts a dossier in `status` has by then (the analytics read them)."""
    out: dict = {}
    step = age / 8  # each milestone a little later, all of them before now

    def reached(name: str) -> bool:
        return status in RANK and status != "cancelled" and RANK[status] >= RANK[name]

    if reached("expert_assigned"):
        out["expert_selected_at"] = created + step * 0.5
        out["expert_accepted_at"] = (
            created + step * 0.5 + timedelta(minutes=random.randint(5, 2880))
        )
    if reached("audit_validated"):
        out["audit_validated_at"] = created + step * 3
        out["final_cents"] = random.randint(1_000, 80_000) * 100
    if reached("submitted_to_administration"):
        out["submitted_at"] = created + step * 4
    if reached("administration_decided"):
        decision = random.choices(*zip(*DECISIONS, strict=True))[0]
        out["decided_at"] = created + step * 5
        out["decision"] = decision
        out["decided_cents"] = 0 if decision == "refused" else out["final_cents"]
    if reached("refund_confirmed") and out.get("decision") != "refused":
        out["refunded_at"] = created + step * 6
        out["obtained_cents"] = out["final_cents"] * random.randint(70, 100) // 100
    if status == "completed":
        out["completed_at"] = created + step * 7
    return out


def _scale_dossiers(target: int, chunk: int) -> None:
    """`target` dossiers over the scale clients (five products each at most), statuses drawn
    from SCALE_STATUSES, experts on those past acceptance."""

    done = db.session.scalar(db.select(db.func.count(Dossier.id)).where(Dossier.source == "scale"))
    if done >= target:
        return
    products = db.session.scalars(db.select(Product.id).where(Product.active)).all()
    quote_products = set(
        db.session.scalars(db.select(Product.id).where(Product.code.in_(QUOTE_PRODUCTS)))
    )
    quote_names, quote_weights = zip(*SCALE_QUOTE_STATUSES, strict=True)
    clients = db.session.scalars(
        db.select(User.id).where(User.email.like("scale-client%")).order_by(User.id)
    ).all()
    experts = db.session.scalars(
        db.select(ExpertProfile.user_id).where(
            ExpertProfile.approval_status == ApprovalStatus.APPROVED,
            ExpertProfile.user_id.in_(db.select(User.id).where(User.email.like("scale-%"))),
        )
    ).all()
    names, weights = zip(*SCALE_STATUSES, strict=True)
    before = {"pending_upload", "pending_admin_validation", "admin_validated"}  # no expert yet
    per_client = max(1, min(len(products), -(-target // max(1, len(clients)))))
    now = utcnow()
    rows = []
    start = done // per_client
    for client_id in clients[start:]:
        for product_id in random.sample(products, per_client):
            if product_id in quote_products:  # partner products follow the quote flow
                status = random.choices(quote_names, quote_weights)[0]
            else:
                status = random.choices(names, weights)[0]
            age = timedelta(days=random.randint(0, 400), minutes=random.randint(0, 1440))
            row = {
                "client_id": client_id,
                "product_id": product_id,
                "status": DossierStatus(status),
                "estimated_cents": random.randint(1_000, 80_000) * 100,
                "calculation": {},
                "source": "scale",
                "version": 1,
                "waiting_on": WAITING_AFTER.get(DossierStatus(status), "client"),
                "waiting_since": now - age / 4,
                "created_at": now - age,
                "updated_at": now - age / 4,
                "expert_id": None,
                "pending_expert_id": None,
                "expert_deadline_at": None,
            }
            if status == "expert_pending_acceptance":
                row["pending_expert_id"] = random.choice(experts)
                row["expert_deadline_at"] = now + timedelta(hours=random.randint(1, 47))
            elif status not in before and status != "cancelled":
                row["expert_id"] = random.choice(experts)
            row.update(_milestones(status, now - age, age))
            rows.append(row)
            done += 1
            if len(rows) >= chunk or done >= target:
                db.session.execute(insert(Dossier), rows)
                db.session.commit()
                rows = []
                click.echo(f"dossiers: {done}/{target}")
            if done >= target:
                return


def build(
    clients: int,
    experts: int,
    referrers: int,
    dossiers: int,
    messages: int,
    chunk: int,
    leads: int = 0,
    activities: int = 0,
    tickets: int = 0,
) -> None:
    random.seed(2026)
    pw = accounts.hash_password("scale-password-2026")
    now = utcnow()
    plan = [
        ("client", Role.CLIENT, clients),
        ("expert", Role.EXPERT, experts),
        ("apporteur", Role.REFERRER, referrers),
    ]
    for prefix, role, target in plan:
        done = _existing(f"scale-{prefix}")
        while done < target:
            n = min(chunk, target - done)
            ids = _bulk_users(role, f"scale-{prefix}", done, n, pw, now)
            if role == Role.CLIENT:
                db.session.execute(
                    insert(ClientProfile),
                    [
                        {
                            "user_id": uid,
                            "company_name": f"Entreprise {done + k}",
                            "siren": siren(10_000_000 + done + k),
                            "sector": random.choice(SECTORS),
                            "employees": random.randint(0, 250),
                            "turnover": random.randint(50_000, 20_000_000),
                            **dict(
                                zip(
                                    ("city", "postal_code"),
                                    random.choice(CLIENT_CITIES),
                                    strict=True,
                                )
                            ),
                        }
                        for k, uid in enumerate(ids)
                    ],
                )
            elif role == Role.EXPERT:
                db.session.execute(
                    insert(ExpertProfile),
                    [
                        {
                            "user_id": uid,
                            "firm_name": f"Cabinet {uid % 900}",
                            "city": (city := random.choice(SCALE_CITIES))[0],
                            "department": city[1],
                            "languages": "fr",
                            "years_experience": random.randint(1, 30),
                            "approval_status": ApprovalStatus.PENDING
                            if random.random() < 0.03
                            else ApprovalStatus.APPROVED,
                            "fee_bp": random.choice((2000, 2500, 3000)),
                            "capacity": random.randint(20, 60),
                            "available": random.random() < 0.85,
                            "rating_x100": (rating := random.choice((0, 320, 380, 420, 460, 490))),
                            "rating_count": 0 if not rating else random.randint(1, 80),
                            "completed_count": random.randint(0, 40),
                        }
                        for uid in ids
                    ],
                )
                _scale_offers(ids)
            else:
                db.session.execute(
                    insert(ReferrerProfile),
                    [
                        {
                            "user_id": uid,
                            "company_type": CompanyType.INDEPENDANT,
                            "status": ReferrerStatus.PENDING_APPROVAL
                            if random.random() < 0.05
                            else ReferrerStatus.ACTIVE,
                            "affiliation_code": f"AFS{uid:06d}"[-9:],
                        }
                        for uid in ids
                    ],
                )
            db.session.commit()
            done += n
            click.echo(f"{prefix}s: {done}/{target}")
    _referred_clients()
    _scale_dossiers(dossiers, chunk)
    recount_loads()  # bulk inserts bypass the workflow's counter
    scale_clocks.clocks_for_scale(chunk)  # bulk inserts bypass the clocks too
    scale_messages.messages(messages, chunk=10 * chunk)  # COPY is cheap per row: bigger batches
    scale_crm.build(leads, activities, tickets, pw)
    started = time.monotonic()
    cells = facts.rebuild()  # bulk inserts bypass the events that keep the facts
    click.echo(f"analytics facts: {cells} cells rebuilt in {time.monotonic() - started:.0f} s")


def _referred_clients() -> None:
    """One scale client in seven came through a referrer's link (the referrer analytics)."""
    referrers = db.session.scalars(
        db.select(User.id).where(User.email.like("scale-apporteur%")).order_by(User.id)
    ).all()
    if not referrers:
        return
    clients = db.session.scalars(
        db.select(ClientProfile.id).where(
            ClientProfile.referrer_id.is_(None),
            ClientProfile.user_id.in_(db.select(User.id).where(User.email.like("scale-client%"))),
            ClientProfile.id % 7 == 0,
        )
    ).all()
    rows = [{"id": cid, "referrer_id": referrers[cid % len(referrers)]} for cid in clients]
    for start in range(0, len(rows), 10_000):
        db.session.execute(db.update(ClientProfile), rows[start : start + 10_000])
    db.session.commit()

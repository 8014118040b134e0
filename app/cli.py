"""`flask seed demo` (small, known logins) and `flask seed scale` (large, for benchmarks)."""

import random
from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import insert

from app.core.validators import with_luhn_key
from app.extensions import db
from app.models import (
    SECTORS,
    ApporteurProfile,
    ApporteurStatus,
    ApprovalStatus,
    ClientProfile,
    CompanyType,
    ExpertProfile,
    Priority,
    Role,
    User,
    utcnow,
)
from app.services import accounts, notifications
from app.tasks import public_context

seed = AppGroup("seed", help="Create demo or benchmark data (idempotent).")

DEMO_PASSWORD = "demo-password-2026"
DEMO_DOMAIN = "demo-financialtracker.fr"

DEMO_CLIENTS = [
    (
        "client",
        "Claire",
        "Martin",
        "Transports Martin SAS",
        "Transport et Logistique",
        42,
        6_800_000,
        "12 rue des Docks",
        "69007",
        "Lyon",
    ),
    (
        "client2",
        "Paul",
        "Bernard",
        "BTP Bernard & Fils",
        "BTP et Construction",
        18,
        2_300_000,
        "4 avenue du Chantier",
        "33000",
        "Bordeaux",
    ),
    (
        "client3",
        "Sophie",
        "Leroy",
        "Ferme des Trois Chênes",
        "Agriculture et Agroalimentaire",
        7,
        950_000,
        "Lieu-dit Les Chênes",
        "49000",
        "Angers",
    ),
    (
        "client4",
        "Karim",
        "Haddad",
        "Boulangerie Haddad",
        "Commerce et Distribution",
        9,
        640_000,
        "8 place du Marché",
        "13001",
        "Marseille",
    ),
    (
        "client5",
        "Julie",
        "Moreau",
        "Hôtel du Port",
        "Restauration et Hôtellerie",
        25,
        3_100_000,
        "1 quai Est",
        "29200",
        "Brest",
    ),
]
DEMO_EXPERTS = [
    (
        "expert",
        "Antoine",
        "Dubois",
        "Cabinet Dubois Conseil",
        "Paris",
        "fr,en",
        14,
        ApprovalStatus.APPROVED,
        "Ancien inspecteur des douanes, spécialiste du remboursement de la TICPE.",
    ),
    (
        "expert2",
        "Nadia",
        "Benali",
        "Audit Social Sud",
        "Toulouse",
        "fr,ar",
        9,
        ApprovalStatus.APPROVED,
        "Experte en cotisations URSSAF et DFS pour le transport routier.",
    ),
    (
        "expert3",
        "Marc",
        "Lefèvre",
        "Lefèvre Fiscalité",
        "Lille",
        "fr",
        21,
        ApprovalStatus.APPROVED,
        "Fiscalité locale : taxe foncière des locaux professionnels, recours.",
    ),
    (
        "expert-pending",
        "Élise",
        "Garnier",
        "Garnier Énergie",
        "Nantes",
        "fr,en",
        6,
        ApprovalStatus.PENDING,
        "Optimisation des contrats d'électricité et de gaz des PME.",
    ),
]


def _siren(n: int) -> str:
    return with_luhn_key(f"{n:08d}")


def _upsert_user(email: str, role: Role, first: str, last: str, password_hash: str) -> User:
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            role=role,
            first_name=first,
            last_name=last,
            password_hash=password_hash,
            email_verified_at=utcnow(),
        )
        db.session.add(user)
    return user


@seed.command("catalogue")
def seed_catalogue() -> None:
    """The products, questions and rules of docs/domain.md §2 (inserts what is missing only)."""
    from app.services import catalogue

    added = catalogue.seed()
    click.echo(f"catalogue: {added['products']} products, {added['questions']} questions added")


@seed.command("demo")
def seed_demo() -> None:
    """Small realistic dataset with the documented demo logins."""
    from app.services import catalogue

    catalogue.seed()
    pw = accounts.hash_password(DEMO_PASSWORD)
    admin = _upsert_user(f"admin@{DEMO_DOMAIN}", Role.ADMIN, "Alice", "Admin", pw)
    for i, (
        local,
        first,
        last,
        company,
        sector,
        staff,
        turnover,
        street,
        zip_,
        city,
    ) in enumerate(DEMO_CLIENTS):
        user = _upsert_user(f"{local}@{DEMO_DOMAIN}", Role.CLIENT, first, last, pw)
        if user.client_profile is None:
            user.client_profile = ClientProfile(
                company_name=company,
                siren=_siren(73282932 + i * 1117),
                sector=sector,
                employees=staff,
                turnover=turnover,
                address=street,
                postal_code=zip_,
                city=city,
            )
    for local, first, last, cabinet, city, langs, years, status, bio in DEMO_EXPERTS:
        user = _upsert_user(f"{local}@{DEMO_DOMAIN}", Role.EXPERT, first, last, pw)
        if user.expert_profile is None:
            user.expert_profile = ExpertProfile(
                cabinet_name=cabinet,
                city=city,
                languages=langs,
                years_experience=years,
                bio=bio,
                approval_status=status,
                decided_at=utcnow() if status == ApprovalStatus.APPROVED else None,
            )
    user = _upsert_user(f"apporteur@{DEMO_DOMAIN}", Role.APPORTEUR, "Hugo", "Petit", pw)
    if user.apporteur_profile is None:
        user.apporteur_profile = ApporteurProfile(
            company_name="Petit Courtage",
            company_type=CompanyType.AGENCE,
            sector="Services aux Entreprises",
            siren=_siren(81234567),
            motivation_letter="Courtier auprès de 200 PME de la région nantaise.",
            affiliation_code="AFF202601",
            status=ApporteurStatus.ACTIVE,
            decided_at=utcnow(),
        )
    db.session.flush()
    pending = db.session.scalar(
        db.select(User).where(User.email == f"expert-pending@{DEMO_DOMAIN}")
    )
    notifications.create(
        admin,
        "application_received",
        "Nouvelle candidature d'expert",
        body=f"{pending.full_name} <{pending.email}>",
        link="/admin/approvals",
        priority=Priority.HIGH,
        object_ref=f"user:{pending.id}",
    )
    db.session.commit()

    from app import demo

    experts = db.session.scalars(
        db.select(User).where(User.role == Role.EXPERT, User.email.like(f"%@{DEMO_DOMAIN}"))
    ).all()
    for expert in experts:
        if expert.expert_profile.approval_status == ApprovalStatus.APPROVED:
            demo.give_products(expert)
    db.session.commit()
    client = db.session.scalar(db.select(User).where(User.email == f"client@{DEMO_DOMAIN}"))
    # transitions notify with links: they need a request context (for url_for and the locale)
    with public_context():
        created = demo.dossiers(client, demo.first_approved_expert(), admin)
        apporteur = db.session.scalar(
            db.select(User).where(User.email == f"apporteur@{DEMO_DOMAIN}")
        )
        demo.referral(apporteur, client)
    click.echo(f"demo dossiers: {created} created")
    click.echo(f"demo data ready: logins *@{DEMO_DOMAIN}, password {DEMO_PASSWORD}")


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
    from app.models import ExpertiseLevel, ExpertProduct, ExpertSector, Product, ProductKind

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


def _scale_dossiers(target: int, chunk: int) -> None:
    """`target` dossiers over the scale clients (five products each at most), statuses drawn
    from SCALE_STATUSES, experts on those past acceptance."""
    from app.models import Dossier, DossierStatus, Product
    from app.models.dossier import QUOTE_PRODUCTS
    from app.services.workflow import WAITING_AFTER

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
            rows.append(row)
            done += 1
            if len(rows) >= chunk or done >= target:
                db.session.execute(insert(Dossier), rows)
                db.session.commit()
                rows = []
                click.echo(f"dossiers: {done}/{target}")
            if done >= target:
                return


@seed.command("scale")
@click.option("--clients", default=100_000, show_default=True)
@click.option("--experts", default=10_000, show_default=True)
@click.option("--apporteurs", default=1_000, show_default=True)
@click.option("--dossiers", default=500_000, show_default=True)
@click.option("--messages", default=5_000_000, show_default=True)
@click.option("--chunk", default=5_000, show_default=True)
def seed_scale(
    clients: int, experts: int, apporteurs: int, dossiers: int, messages: int, chunk: int
) -> None:
    """Large dataset for `make bench`, by bulk inserts; re-running tops it up."""
    random.seed(2026)
    pw = accounts.hash_password("scale-password-2026")
    now = utcnow()
    plan = [
        ("client", Role.CLIENT, clients),
        ("expert", Role.EXPERT, experts),
        ("apporteur", Role.APPORTEUR, apporteurs),
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
                            "siren": _siren(10_000_000 + done + k),
                            "sector": random.choice(SECTORS),
                            "employees": random.randint(0, 250),
                            "turnover": random.randint(50_000, 20_000_000),
                            "city": random.choice(["Paris", "Lyon", "Lille", "Nantes", "Rennes"]),
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
                            "cabinet_name": f"Cabinet {uid % 900}",
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
                    insert(ApporteurProfile),
                    [
                        {
                            "user_id": uid,
                            "company_type": CompanyType.INDEPENDANT,
                            "status": ApporteurStatus.PENDING_APPROVAL
                            if random.random() < 0.05
                            else ApporteurStatus.ACTIVE,
                            "affiliation_code": f"AFS{uid:06d}"[-9:],
                        }
                        for uid in ids
                    ],
                )
            db.session.commit()
            done += n
            click.echo(f"{prefix}s: {done}/{target}")
    _scale_dossiers(dossiers, chunk)
    from app.services.workflow import recount_loads

    recount_loads()  # bulk inserts bypass the workflow's counter
    from app import scale

    scale.messages(messages, chunk=10 * chunk)  # COPY is cheap per row: bigger batches
    click.echo("scale data ready")


push_cli = AppGroup("push", help="Web Push (VAPID) keys.")


@push_cli.command("keygen")
def push_keygen() -> None:
    """Print a new VAPID key pair to put in the environment (VAPID_PRIVATE_KEY/PUBLIC_KEY)."""
    from app.services import push

    private, public = push.generate_keys()
    click.echo(f"VAPID_PRIVATE_KEY={private}")
    click.echo(f"VAPID_PUBLIC_KEY={public}")


def init_app(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(push_cli)

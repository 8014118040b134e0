"""`flask seed demo` (small, known logins) and `flask seed scale` (large, for benchmarks)."""

import random
from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import insert

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
from app.validators import with_luhn_key

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
    """The products, questions and rules of DOMAIN A2/A3 (inserts what is missing only)."""
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
    from flask import current_app

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
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        created = demo.dossiers(client, demo.first_approved_expert(), admin)
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


@seed.command("scale")
@click.option("--clients", default=100_000, show_default=True)
@click.option("--experts", default=10_000, show_default=True)
@click.option("--apporteurs", default=1_000, show_default=True)
@click.option("--chunk", default=5_000, show_default=True)
def seed_scale(clients: int, experts: int, apporteurs: int, chunk: int) -> None:
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
                            "city": "Paris",
                            "languages": "fr",
                            "years_experience": random.randint(1, 30),
                            "approval_status": ApprovalStatus.PENDING
                            if random.random() < 0.03
                            else ApprovalStatus.APPROVED,
                        }
                        for uid in ids
                    ],
                )
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
    click.echo("scale data ready")


def init_app(app: Flask) -> None:
    app.cli.add_command(seed)

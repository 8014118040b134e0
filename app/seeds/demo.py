"""The demo dataset (`flask seed demo`): a few people of each role with the documented logins,
and the demo client's dossiers driven through the real workflow (`demo_dossiers`). Idempotent."""

from app.core.jobs import public_context
from app.core.validators import with_luhn_key
from app.extensions import db
from app.models import (
    ApprovalStatus,
    ClientProfile,
    CompanyType,
    ExpertProfile,
    Priority,
    ReferrerProfile,
    ReferrerStatus,
    Role,
    User,
    utcnow,
)
from app.seeds import demo_crm, demo_dossiers, demo_forms, demo_support
from app.services import accounts, catalogue, notifications, plans, sla

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


def siren(n: int) -> str:
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


def build() -> int:
    """Create what is missing; returns how many demo dossiers were created."""
    catalogue.seed()
    sla.install_defaults()
    plans.install_defaults()
    pw = accounts.hash_password(DEMO_PASSWORD)
    admin = _upsert_user(f"admin@{DEMO_DOMAIN}", Role.ADMIN, "Alice", "Admin", pw)
    seller = _upsert_user(f"sales@{DEMO_DOMAIN}", Role.SALES, "Samuel", "Vendeur", pw)
    agent = _upsert_user(f"support@{DEMO_DOMAIN}", Role.SUPPORT, "Sarah", "Support", pw)
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
                siren=siren(73282932 + i * 1117),
                sector=sector,
                employees=staff,
                turnover=turnover,
                address=street,
                postal_code=zip_,
                city=city,
            )
    for local, first, last, firm, city, langs, years, status, bio in DEMO_EXPERTS:
        user = _upsert_user(f"{local}@{DEMO_DOMAIN}", Role.EXPERT, first, last, pw)
        if user.expert_profile is None:
            user.expert_profile = ExpertProfile(
                firm_name=firm,
                city=city,
                languages=langs,
                years_experience=years,
                bio=bio,
                approval_status=status,
                decided_at=utcnow() if status == ApprovalStatus.APPROVED else None,
            )
    user = _upsert_user(f"apporteur@{DEMO_DOMAIN}", Role.REFERRER, "Hugo", "Petit", pw)
    if user.referrer_profile is None:
        user.referrer_profile = ReferrerProfile(
            company_name="Petit Courtage",
            company_type=CompanyType.AGENCE,
            sector="Services aux Entreprises",
            siren=siren(81234567),
            motivation_letter="Courtier auprès de 200 PME de la région nantaise.",
            affiliation_code="AFF202601",
            status=ReferrerStatus.ACTIVE,
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

    experts = db.session.scalars(
        db.select(User).where(User.role == Role.EXPERT, User.email.like(f"%@{DEMO_DOMAIN}"))
    ).all()
    for expert in experts:
        if expert.expert_profile.approval_status == ApprovalStatus.APPROVED:
            demo_dossiers.give_products(expert)
    db.session.commit()
    client = db.session.scalar(db.select(User).where(User.email == f"client@{DEMO_DOMAIN}"))
    # transitions notify with links: they need a request context (for url_for and the locale)
    with public_context():
        created = demo_dossiers.dossiers(client, demo_dossiers.first_approved_expert(), admin)
        referrer = db.session.scalar(
            db.select(User).where(User.email == f"apporteur@{DEMO_DOMAIN}")
        )
        demo_dossiers.referral(referrer, client)
        demo_crm.build(seller, referrer)
        demo_support.build(client, agent)
    demo_forms.build()
    return created

"""The demo's sales side: leads in every stage, from every source, with their activities, all
made through the services (round robin, history, invitations) like real ones. Idempotent: a
lead is keyed by its email."""

from datetime import timedelta

from app.extensions import db
from app.models import ActivityKind, Lead, LeadSource, LeadStage, User, utcnow
from app.services.crm import activities, leads, requestform

DOMAIN = "prospect-demo.fr"

# (company, contact, source, stages it goes through)
LEADS = [
    ("Boulangerie Roux", "Marc Roux", LeadSource.REQUEST_FORM, []),
    ("Garage Lemoine", "Inès Lemoine", LeadSource.CONTACT, []),
    ("Transports Girard", "Luc Girard", LeadSource.SIMULATOR, [LeadStage.CONTACTED]),
    ("Hôtel du Port", "Anne Morel", LeadSource.REFERRER, [LeadStage.CONTACTED]),
    (
        "Menuiserie Blanc",
        "Éric Blanc",
        LeadSource.REQUEST_FORM,
        [LeadStage.CONTACTED, LeadStage.QUALIFIED],
    ),
    (
        "Clinique Vétérinaire Faure",
        "Julie Faure",
        LeadSource.MANUAL,
        [LeadStage.CONTACTED, LeadStage.QUALIFIED, LeadStage.PROPOSAL],
    ),
    (
        "Logistique Ouest",
        "Karim Benali",
        LeadSource.REQUEST_FORM,
        [LeadStage.CONTACTED, LeadStage.QUALIFIED, LeadStage.PROPOSAL, LeadStage.WON],
    ),
    ("Pressing Central", "Nadia Caron", LeadSource.CONTACT, [LeadStage.CONTACTED, LeadStage.LOST]),
]


def build(seller: User, referrer: User | None) -> int:
    """Leads for the demo's seller; returns how many were created."""
    requestform.install_default()
    created = 0
    for i, (company, contact, source, path) in enumerate(LEADS):
        email = f"contact{i + 1}@{DOMAIN}"
        if db.session.scalar(db.select(Lead.id).where(Lead.email == email)):
            continue
        spec = requestform.current()
        submission = None
        if source == LeadSource.REQUEST_FORM:
            answers = {"need": "custom_plan", "sites": 3 + i, "employees": 40 * (i + 1)}
            params, _ = requestform.params_of(spec, answers)
            quote, _ = requestform.estimate(spec, answers)
            submission = leads.Submission(
                spec.version_id, answers, params, spec.plan_code, quote.net_cents
            )
        lead = leads.capture(
            source,
            email,
            company=company,
            contact_name=contact,
            phone=f"06 12 34 56 {i:02d}",
            referrer=referrer if source == LeadSource.REFERRER else None,
            submission=submission,
            owner=seller,
            confirm=False,
        )
        for stage in path:
            reason = "A choisi un concurrent moins cher" if stage == LeadStage.LOST else ""
            leads.move(seller, lead, stage, reason)
        activities.add(
            seller,
            kind=ActivityKind.CALL,
            subject=f"Premier appel avec {contact}",
            body="Intéressé, rappeler avec une proposition chiffrée.",
            lead=lead,
        )
        if lead.is_open:
            due = utcnow() + timedelta(days=(i % 3) - 1)  # one late, one today, one tomorrow
            activities.add(
                seller,
                kind=ActivityKind.TASK,
                subject=f"Relancer {company}",
                due_at=due,
                lead=lead,
            )
        created += 1
    return created

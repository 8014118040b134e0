"""Demo dossiers for `flask seed demo`: driven through the real workflow and document services,
so every status a newcomer sees was reached the way a user would reach it."""

import io
from datetime import date

from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import (
    ApprovalStatus,
    Dossier,
    ExpertiseLevel,
    ExpertProduct,
    Product,
    ProductKind,
    Role,
    User,
)
from app.services import messaging, workflow
from app.services.dossiers import documents, invoices

# product code -> the last action to take on the demo client's dossier
TARGETS = {
    "TICPE": "confirm_fee_received",  # completed, with an invoice
    "URSSAF": "complete_audit",  # the client must approve the audit
    "DFS": "request_documents",  # the client must send two documents
    "FONCIER": "select_expert",  # the expert has 48 h to accept
    "MSA": "submit_documents",  # an admin must check eligibility
    "RECOUVREMENT": None,  # documents to upload
}
PATH = [
    "submit_documents",
    "validate_eligibility",
    "select_expert",
    "accept",
    "request_documents",
    "send_documents",
    "validate_documents",
    "start_audit",
    "complete_audit",
    "validate_audit",
    "submit",
    "record_decision",
    "confirm_refund",
    "declare_fee_paid",
    "confirm_fee_received",
]


def _pdf(title: str) -> bytes:
    # imported here, not at the top: every process loads the CLI, WeasyPrint costs a second
    from weasyprint import HTML

    return HTML(string=f"<h1>{title}</h1><p>Document de démonstration.</p>").write_pdf()


def _file(name: str, data: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def give_products(expert: User) -> None:
    """Approved demo experts hold every financial product, at a level that varies."""
    levels = list(ExpertiseLevel)
    held = {p.product_id for p in expert.expert_profile.products}
    products = db.session.scalars(
        db.select(Product).where(Product.kind == ProductKind.FINANCIAL).order_by(Product.id)
    )
    for i, product in enumerate(products):
        if product.id not in held:
            expert.expert_profile.products.append(
                ExpertProduct(product_id=product.id, level=levels[(i + expert.id) % len(levels)])
            )


def dossiers(client: User, expert: User, admin: User) -> int:
    """Open and advance the demo client's dossiers; returns how many were created."""
    pdf = _pdf("Justificatif")
    created = 0
    for code, last in TARGETS.items():
        product = db.session.scalar(db.select(Product).where(Product.code == code))
        exists = db.session.scalar(
            db.select(Dossier.id).where(
                Dossier.client_id == client.id, Dossier.product_id == product.id
            )
        )
        if product is None or exists is not None:
            continue
        dossier = Dossier(
            client_id=client.id,
            product_id=product.id,
            estimated_cents=1_500_000,
            source="demo",
        )
        db.session.add(dossier)
        db.session.commit()
        created += 1
        if last is None:
            continue
        for action in PATH:
            _step(dossier, action, client, expert, admin, pdf)
            if action == last:
                break
        _talk(code, dossier, client, expert, admin)
    return created


# a few real exchanges, the last ones left unread so the badges have something to show
CONVERSATIONS = {
    "URSSAF": [
        ("expert", "Bonjour Madame Martin, l'audit est prêt : 15 000 € récupérables sur 3 ans."),
        ("client", "Merci ! Le détail des cotisations 2023 est-il inclus ?"),
        ("expert", "Oui, page 4 du rapport. Vous pouvez le valider depuis le dossier."),
    ],
    "DFS": [
        ("expert", "Il me manque les contrats de location et le relevé kilométrique."),
        ("expert", "Un scan par smartphone suffit : https://financialtracker.fr/aide"),
    ],
}


def _talk(code: str, dossier: Dossier, client: User, expert: User, admin: User) -> None:

    lines = CONVERSATIONS.get(code)
    if not lines:
        return
    thread = messaging.open_dossier_thread(dossier.id, client)
    for who, text in lines:
        messaging.post(thread.id, {"client": client, "expert": expert}[who], text)
    if code == "URSSAF":  # and a question to support, answered
        support = messaging.open_support_thread(client)
        messaging.post(support.id, client, "Comment ajouter un second établissement ?")
        messaging.post(support.id, admin, "Depuis votre profil, rubrique Entreprise.")


def referral(referrer: User, client: User) -> None:
    """The demo client came through the demo referrer's link; they have exchanged a little."""

    if client.client_profile.referrer_id is None:
        client.client_profile.referrer_id = referrer.id
        db.session.commit()
    thread = messaging.open_referral_thread(referrer, client.id)
    if thread.last_message_at is None:
        messaging.post(thread.id, referrer, "Bonjour Claire, votre dossier TICPE avance bien ?")
        messaging.post(thread.id, client, "Oui, l'expert a demandé les factures de carburant.")


def _step(dossier: Dossier, action: str, client: User, expert: User, admin: User, pdf: bytes):
    today = date.today().isoformat()
    if action == "submit_documents":
        for item in documents.checklist(dossier, documents.DocumentStep.ELIGIBILITY):
            if not item.documents:
                documents.upload(
                    dossier.id,
                    client,
                    documents.DocumentStep.ELIGIBILITY,
                    item.label,
                    [_file(f"{item.label[:40]}.pdf", pdf)],
                )
        workflow.transition(dossier.id, action, client)
    elif action == "validate_eligibility":
        workflow.transition(dossier.id, action, admin)
    elif action == "select_expert":
        workflow.transition(dossier.id, action, client, expert_id=expert.id)
    elif action == "request_documents":
        workflow.transition(
            dossier.id,
            action,
            expert,
            items=["Contrats de location des véhicules", "Relevé kilométrique 2025"],
            required=["0", "1"],
            message="Bonjour, il me manque ces deux pièces pour lancer l'audit.",
        )
    elif action == "send_documents":
        for item in documents.checklist(dossier, documents.DocumentStep.COMPLEMENTARY):
            documents.upload(
                dossier.id,
                client,
                documents.DocumentStep.COMPLEMENTARY,
                item.label,
                [_file(f"{item.label[:40]}.pdf", pdf)],
                request_item_id=item.request_item_id,
            )
        workflow.transition(dossier.id, action, client)
    elif action == "complete_audit":
        workflow.transition(
            dossier.id,
            action,
            expert,
            final_amount="15 000",
            report="Audit des 36 derniers mois : 15 000 € récupérables, dossier solide.",
        )
    elif action in ("validate_audit", "declare_fee_paid"):
        workflow.transition(dossier.id, action, client)
    elif action == "submit":
        workflow.transition(
            dossier.id,
            action,
            expert,
            submitted_on=today,
            reference="AR-2026-0042",
            administration="DGDDI",
        )
    elif action == "record_decision":
        workflow.transition(dossier.id, action, expert, decision="accepted", amount="15 000")
    elif action == "confirm_refund":
        workflow.transition(
            dossier.id, action, expert, amount="15 000", refunded_on=today, reference="VIR-8841"
        )
        invoices.issue_for(dossier)  # at once, so the demo shows it before a worker runs
    else:  # accept, validate_documents, start_audit, confirm_fee_received
        workflow.transition(dossier.id, action, expert)


def first_approved_expert() -> User | None:
    return db.session.scalar(
        db.select(User)
        .join(User.expert_profile)
        .where(User.role == Role.EXPERT)
        .where(User.expert_profile.has(approval_status=ApprovalStatus.APPROVED))
        .order_by(User.id)
        .limit(1)
    )

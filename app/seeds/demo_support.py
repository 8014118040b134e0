"""The demo's support desk: tickets in every status, answered, noted and rated through the
services like real ones. Idempotent: nothing is added once the demo client has tickets."""

from app.extensions import db
from app.models import Ticket, User
from app.services.support import tickets

# (subject, category, priority, the agent's answer, internal note, final status, rating)
TICKETS = [
    ("Je ne trouve pas mon Kbis", "account", "low", None, None, "new", None),
    (
        "Le dépôt de document échoue",
        "technical",
        "high",
        "Pouvez-vous essayer avec un PDF ?",
        "Vérifier la taille limite côté stockage",
        "pending",
        None,
    ),
    (
        "Question sur les honoraires",
        "billing",
        "medium",
        "Les honoraires sont de 25 % sur la formule Pro.",
        None,
        "open",
        None,
    ),
    (
        "Accès pour mon comptable",
        "account",
        "medium",
        "C'est fait : il a reçu une invitation.",
        "Client fidèle, répondre vite",
        "resolved",
        None,
    ),
    (
        "Facture en double",
        "billing",
        "urgent",
        "La facture en double est annulée.",
        None,
        "closed",
        5,
    ),
]


def build(client: User, agent: User) -> int:
    if db.session.scalar(db.select(Ticket.id).where(Ticket.requester_id == client.id).limit(1)):
        return 0
    for subject, category, priority, answer, note, status, rating in TICKETS:
        ticket = tickets.open_ticket(
            client,
            category=category,
            priority=priority,
            subject=subject,
            body=f"Bonjour, {subject.lower()}. Merci de votre aide.",
        )
        if status == "new":
            continue
        tickets.assign(agent, ticket, agent.id)
        if note:
            tickets.reply(agent, ticket, note, internal=True)
        tickets.reply(agent, ticket, answer, status=status if status != "closed" else "resolved")
        if rating:
            tickets.rate(client, ticket, rating, "Rapide et clair, merci.")
    return len(TICKETS)

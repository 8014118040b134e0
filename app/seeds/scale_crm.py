"""The sales and support side of the scale dataset (issue 27's targets: 200 000 leads, 1 000 000
activities, 300 000 tickets), by bulk inserts (COPY on PostgreSQL). A sales team of 20 and a
support team of 10 share them. Re-running tops each table up to its target."""

from __future__ import annotations

import random
from datetime import timedelta

import click
from sqlalchemy import func, insert

from app.extensions import db
from app.models import (
    Activity,
    Lead,
    LeadEvent,
    Priority,
    Role,
    Ticket,
    TicketMessage,
    User,
    utcnow,
)

SELLERS, AGENTS = 20, 10
STAGES = [  # (stage, share): a living pipeline
    ("new", 0.25),
    ("contacted", 0.20),
    ("qualified", 0.15),
    ("proposal", 0.10),
    ("won", 0.12),
    ("lost", 0.18),
]
SOURCES = ["request_form", "simulator", "referrer", "contact", "manual"]
KINDS = ["call", "email", "meeting", "note", "task"]
TICKET_STATUSES = [
    ("new", 0.05),
    ("open", 0.10),
    ("pending", 0.05),
    ("resolved", 0.10),
    ("closed", 0.70),
]
CATEGORIES = ["account", "dossier", "billing", "technical", "other"]
PRIORITIES = [p.value for p in Priority]


def _weighted(rng: random.Random, table):
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def _team(role: Role, prefix: str, n: int, password_hash: str) -> list[int]:
    have = db.session.scalars(
        db.select(User.id).where(User.email.like(f"{prefix}-%@scale.financialtracker.test"))
    ).all()
    now = utcnow()
    rows = [
        {
            "email": f"{prefix}-{i}@scale.financialtracker.test",
            "password_hash": password_hash,
            "role": role,
            "first_name": random.choice(["Anne", "Paul", "Inès", "Marc", "Chloé"]),
            "last_name": f"Equipe{i}",
            "locale": "fr",
            "timezone": "Europe/Paris",
            "active": True,
            "email_verified_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(len(have), n)
    ]
    if rows:
        db.session.execute(insert(User), rows)
        db.session.commit()
    return list(
        db.session.scalars(
            db.select(User.id)
            .where(User.email.like(f"{prefix}-%@scale.financialtracker.test"))
            .order_by(User.id)
        )
    )


def _copy(model, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if db.engine.dialect.name == "postgresql":
        raw = db.session.connection().connection.driver_connection  # psycopg 3
        sql = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        db.session.execute(insert(model), [dict(zip(columns, r, strict=True)) for r in rows])
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(db.select(func.count(model.id)))


def leads(target: int, sellers: list[int], chunk: int = 20_000) -> None:
    done = _count(Lead)
    rng = random.Random(2027 + done)
    now = utcnow()
    columns = [
        "email",
        "siren",
        "company",
        "contact_name",
        "phone",
        "message",
        "source",
        "stage",
        "lost_reason",
        "owner_id",
        "plan_code",
        "estimate_cents",
        "won_cents",
        "stage_changed_at",
        "created_at",
        "updated_at",
        "closed_at",
    ]
    while done < target:
        n = min(chunk, target - done)
        rows = []
        for i in range(done, done + n):
            stage = _weighted(rng, STAGES)
            created = now - timedelta(minutes=rng.randint(60, 2 * 365 * 24 * 60))
            changed = created + timedelta(minutes=rng.randint(0, 30 * 24 * 60))
            changed = min(changed, now)
            estimate = rng.choice((None, 19900, 32300, 58900))
            closed = changed if stage in ("won", "lost") else None
            rows.append(
                (
                    f"lead-{i}@scale.financialtracker.test",
                    None,
                    f"Prospect {i}",
                    f"Contact {i}",
                    "",
                    "",
                    rng.choice(SOURCES),
                    stage,
                    "Trop cher" if stage == "lost" else "",
                    None if rng.random() < 0.08 else rng.choice(sellers),
                    "enterprise" if estimate else "",
                    estimate,
                    (estimate or 25_000) * 12 if stage == "won" else None,
                    changed,
                    created,
                    changed,
                    closed,
                )
            )
        _copy(Lead, columns, rows)
        done += n
        click.echo(f"leads: {done}/{target}")
    _lead_events()


def _lead_events() -> None:
    """One stage move per lead that left "new" (the figures' time in stage reads them)."""
    have = db.session.scalar(db.select(func.count(LeadEvent.id)))
    if have:
        return
    db.session.execute(
        insert(LeadEvent).from_select(
            ["lead_id", "kind", "from_stage", "to_stage", "detail", "created_at"],
            db.select(
                Lead.id,
                db.literal("stage"),
                db.literal("new"),
                Lead.stage,
                db.literal(""),
                Lead.stage_changed_at,
            ).where(Lead.stage != "new"),
        )
    )
    db.session.commit()


def activities(target: int, sellers: list[int], chunk: int = 50_000) -> None:
    done = _count(Activity)
    if done >= target:
        return
    lead_range = db.session.execute(db.select(func.min(Lead.id), func.max(Lead.id))).one()
    rng = random.Random(3027 + done)
    now = utcnow()
    columns = [
        "lead_id",
        "kind",
        "subject",
        "body",
        "due_at",
        "done_at",
        "owner_id",
        "author_id",
        "created_at",
    ]
    while done < target:
        n = min(chunk, target - done)
        rows = []
        for _ in range(n):
            kind = rng.choice(KINDS)
            owner = rng.choice(sellers)
            created = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
            due = done_at = None
            if kind == "task":
                due = created + timedelta(days=rng.randint(-3, 14))
                done_at = (
                    None if rng.random() < 0.15 else created + timedelta(hours=rng.randint(1, 72))
                )
            else:
                done_at = created
            rows.append(
                (rng.randint(*lead_range), kind, "Relance", "", due, done_at, owner, owner, created)
            )
        _copy(Activity, columns, rows)
        done += n
        click.echo(f"activities: {done}/{target}")


def tickets(target: int, agents: list[int], chunk: int = 20_000) -> None:
    done = _count(Ticket)
    if done >= target:
        return
    requesters = db.session.scalars(
        db.select(User.id).where(User.role == Role.CLIENT).order_by(User.id).limit(50_000)
    ).all()
    rng = random.Random(4027 + done)
    now = utcnow()
    columns = [
        "requester_id",
        "assignee_id",
        "category",
        "priority",
        "subject",
        "status",
        "first_response_due_at",
        "first_response_at",
        "resolution_due_at",
        "response_breached",
        "resolution_breached",
        "resolved_at",
        "closed_at",
        "satisfaction",
        "satisfaction_comment",
        "created_at",
        "updated_at",
    ]
    while done < target:
        n = min(chunk, target - done)
        rows = []
        for i in range(done, done + n):
            status = _weighted(rng, TICKET_STATUSES)
            created = now - timedelta(minutes=rng.randint(10, 2 * 365 * 24 * 60))
            answered = None if status == "new" else created + timedelta(hours=rng.randint(1, 30))
            resolved = (
                created + timedelta(hours=rng.randint(2, 120))
                if status in ("resolved", "closed")
                else None
            )
            rows.append(
                (
                    rng.choice(requesters),
                    None if status == "new" else rng.choice(agents),
                    rng.choice(CATEGORIES),
                    rng.choice(PRIORITIES),
                    f"Demande {i}",
                    status,
                    created + timedelta(hours=8),
                    answered,
                    created + timedelta(hours=40),
                    False,
                    False,
                    resolved,
                    resolved if status == "closed" else None,
                    rng.choice((None, 3, 4, 5)) if status == "closed" else None,
                    "",
                    created,
                    answered or created,
                )
            )
        _copy(Ticket, columns, rows)
        done += n
        click.echo(f"tickets: {done}/{target}")
    _ticket_messages()


def _ticket_messages() -> None:
    """Each ticket's first message, from its requester."""
    if db.session.scalar(db.select(func.count(TicketMessage.id))):
        return
    db.session.execute(
        insert(TicketMessage).from_select(
            ["ticket_id", "author_id", "body", "internal", "via", "created_at"],
            db.select(
                Ticket.id,
                Ticket.requester_id,
                db.literal("Bonjour, j'ai une question."),
                db.false(),
                db.literal("web"),
                Ticket.created_at,
            ),
        )
    )
    db.session.commit()


def build(n_leads: int, n_activities: int, n_tickets: int, password_hash: str) -> None:
    random.seed(2027)
    sellers = _team(Role.SALES, "scale-sales", SELLERS, password_hash)
    agents = _team(Role.SUPPORT, "scale-support", AGENTS, password_hash)
    leads(n_leads, sellers)
    activities(n_activities, sellers)
    tickets(n_tickets, agents)

"""Conversations for the scale dataset (`flask seed scale --messages N`, issue 5's benchmarks).

The messages go into the dossier threads of scale dossiers that have an expert (client and
expert as participants), about fifty per thread, except the first thread, which gets 10 000:
the "long thread" of the thread-page benchmark. Bodies are French sentences drawn from a
vocabulary with a Zipf-like frequency, so full-text search meets common and rare words alike.
On PostgreSQL the rows go in by COPY (5 million rows in minutes, not hours).
"""

from __future__ import annotations

import itertools
import random
from contextlib import contextmanager
from datetime import timedelta

import click
from sqlalchemy import func, insert, text

from app.extensions import db
from app.models import Dossier, Message, Product, Thread, ThreadKind, ThreadParticipant, utcnow

LONG_THREAD = 10_000
PER_THREAD = 50

# most frequent first: the weight of the word of rank r is 1 / (r + 1)
WORDS = """
le la les de des du un une et à pour dans sur avec votre vos nous vous est sont a
bonjour merci dossier document documents facture factures remboursé remboursement
attestation urssaf carburant gazole litres véhicules poids lourds déclaration montant
audit expert client administration délai semaine demain lundi mardi mercredi jeudi vendredi
envoyé reçu validé signé relevé bancaire justificatif justificatifs période trimestre année
taxe foncière cotisations sociales exonération réduction fillon calcul estimation honoraires
rendez-vous appel téléphone courrier mail copie originale complément manquant refusé accepté
conformité contrôle vérification douanes ticpe msa dfs énergie contrat électricité gaz
fournisseur compteur consommation tarif facture impayée relance recouvrement échéance
kbis rib statuts bilan liasse fiscale comptable cabinet expertise-comptable signature
numérisé scanné pièce jointe télécharger plateforme espace compte mot de passe accès
""".split()
WEIGHTS = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(WORDS))))


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, cum_weights=WEIGHTS, k=rng.randint(5, 24))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _scale_threads(wanted: int) -> list[tuple[int, int, int]]:
    """(thread id, client id, expert id) of up to `wanted` scale dossier threads, creating the
    missing ones for the oldest scale dossiers that have an expert."""
    have = db.session.execute(
        db.select(Thread.id, Dossier.client_id, Dossier.expert_id)
        .join(Dossier, Dossier.id == Thread.dossier_id)
        .where(Dossier.source == "scale", Dossier.expert_id.is_not(None))
        .order_by(Thread.id)
        .limit(wanted)
    ).all()
    missing = wanted - len(have)
    if missing > 0:
        dossiers = db.session.execute(
            db.select(Dossier.id, Dossier.client_id, Dossier.expert_id, Product.name)
            .join(Product, Product.id == Dossier.product_id)
            .where(
                Dossier.source == "scale",
                Dossier.expert_id.is_not(None),
                ~db.exists().where(Thread.dossier_id == Dossier.id),
            )
            .order_by(Dossier.id)
            .limit(missing)
        ).all()
        now = utcnow()
        for start in range(0, len(dossiers), 10_000):
            batch = dossiers[start : start + 10_000]
            ids = db.session.scalars(
                insert(Thread).returning(Thread.id, sort_by_parameter_order=True),
                [
                    {
                        "kind": ThreadKind.DOSSIER,
                        "key": f"dossier:{d.id}",
                        "dossier_id": d.id,
                        "title": d.name,
                        "created_at": now,
                    }
                    for d in batch
                ],
            ).all()
            db.session.execute(
                insert(ThreadParticipant),
                [
                    {"thread_id": tid, "user_id": uid, "joined_at": now}
                    for tid, d in zip(ids, batch, strict=True)
                    for uid in (d.client_id, d.expert_id)
                ],
            )
            db.session.commit()
        return _scale_threads(wanted)
    return [tuple(row) for row in have]


def messages(target: int, chunk: int = 50_000) -> None:
    """Top the scale threads up to `target` messages in all; re-running adds only what is
    missing."""
    if target <= 0:
        return
    long_share = min(LONG_THREAD, target // 2)
    threads = _scale_threads(max(2, (target - long_share) // PER_THREAD + 1))
    in_scale = db.select(Thread.id).join(Dossier, Dossier.id == Thread.dossier_id)
    in_scale = in_scale.where(Dossier.source == "scale")
    done = db.session.scalar(
        db.select(func.count(Message.id)).where(Message.thread_id.in_(in_scale))
    )
    if done >= target:
        return
    # message number k goes to the long thread first, then round the others: the plan depends
    # only on k, so a second run continues where the first stopped
    others = threads[1:] or threads
    rng = random.Random(2026 + done)
    start = utcnow() - timedelta(days=365)
    postgres = db.engine.dialect.name == "postgresql"
    rows = []
    with _batched_search_entries(postgres):
        for k in range(done, target):
            if k < long_share:
                thread_id, client_id, expert_id = threads[0]
            else:
                thread_id, client_id, expert_id = others[(k - long_share) % len(others)]
            sender = client_id if rng.random() < 0.5 else expert_id
            created = start + timedelta(seconds=k * 5)
            rows.append((thread_id, sender, "text", _sentence(rng), created))
            if len(rows) >= chunk or k == target - 1:
                _insert(rows, postgres)
                rows = []
                click.echo(f"messages: {k + 1}/{target}")
    _mark_read_up_to_date(postgres)


@contextmanager
def _batched_search_entries(postgres: bool):
    """The search index takes a bulk load's entries in batches (its pending list), then goes
    back to taking each posted message's at once (migration 3d9b6e1f2a4c says why)."""
    if not postgres:
        yield
        return
    db.session.execute(text("ALTER INDEX ix_messages_search SET (fastupdate = on)"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(text("SELECT gin_clean_pending_list('ix_messages_search')"))
        db.session.execute(text("ALTER INDEX ix_messages_search SET (fastupdate = off)"))
        db.session.commit()


def _insert(rows: list[tuple], postgres: bool) -> None:
    if postgres:
        raw = db.session.connection().connection.driver_connection  # psycopg 3
        columns = "thread_id, sender_id, kind, body, created_at"
        with raw.cursor() as cur, cur.copy(f"COPY messages ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        keys = ("thread_id", "sender_id", "kind", "body", "created_at")
        db.session.execute(insert(Message), [dict(zip(keys, r, strict=True)) for r in rows])
    db.session.commit()


def _mark_read_up_to_date(postgres: bool) -> None:
    """Each scale thread's last message time, and its participants having read (and been
    emailed about) everything but the last few messages: a realistic unread count without
    the unread-message cron emailing 100 000 people."""
    scale = (
        "SELECT t.id FROM threads t JOIN dossiers d ON d.id = t.dossier_id WHERE d.source = 'scale'"
    )
    db.session.execute(
        text(
            "UPDATE threads SET last_message_at = "
            "(SELECT max(created_at) FROM messages m WHERE m.thread_id = threads.id) "
            f"WHERE id IN ({scale})"
        )
    )
    db.session.execute(
        text(
            "UPDATE thread_participants SET "
            "last_read_message_id = (SELECT max(id) - 2 FROM messages m "
            "WHERE m.thread_id = thread_participants.thread_id), "
            "emailed_up_to_message_id = (SELECT max(id) FROM messages m "
            "WHERE m.thread_id = thread_participants.thread_id) "
            f"WHERE thread_id IN ({scale})"
        )
    )
    db.session.commit()
    if postgres:
        db.session.execute(text("ANALYZE messages"))
        db.session.commit()

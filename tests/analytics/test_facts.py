"""The per-day facts (issue 28 §4): kept by the events that change them, they equal a rebuild
from the raw rows after any sequence of events; the dashboard's KPIs against a prepared
history with known answers; the cache misses when its kind changes and fails open."""

import itertools
import random
from datetime import date, datetime, timedelta

import pytest
from redis import Redis

from app.core import clock
from app.extensions import db
from app.models import (
    PARIS,
    DailyFact,
    DailyTotal,
    Decision,
    DossierStatus,
    Party,
    Payment,
    PaymentKind,
    PaymentStatus,
    Simulation,
    SimulationStatus,
    SlaClock,
    SlaMetric,
    utcnow,
)
from app.models.sla import ClockStatus
from app.services.analytics import cache, dashboard, facts, figures
from app.services.analytics.figures import Filters
from tests.factories.models import (
    gen_client,
    gen_dossier,
    gen_expert,
    gen_firm,
    gen_invoice,
    gen_referrer,
    gen_review,
    gen_simulation,
)

PRODUCTS = ("TICPE", "URSSAF", "FONCIER", "MSA")
STAMPS = (
    "expert_selected_at",
    "expert_accepted_at",
    "audit_validated_at",
    "submitted_at",
    "decided_at",
    "refunded_at",
    "completed_at",
)


def _moment(rng) -> datetime:
    # some land near midnight, where the Paris day differs from the UTC one
    return datetime(2027, 3, 1, tzinfo=PARIS) + timedelta(minutes=rng.randint(0, 60 * 24 * 40))


_cycles = itertools.count(1)


def _clock(session, dossier, rng):
    at = _moment(rng)
    row = SlaClock(
        cycle=next(_cycles),
        dossier_id=dossier.id,
        code="expert_accept",
        metric=SlaMetric.RESOLUTION,
        party=Party.EXPERT,
        responsible_id=dossier.expert_id,
        budget_minutes=600,
        warn_before_minutes=60,
        started_at=at,
        due_at=at + timedelta(hours=10),
        warn_at=at + timedelta(hours=9),
    )
    session.add(row)
    session.flush()
    return row


def _random_events(session, rng, steps=120):
    clients = [gen_client(session) for _ in range(6)]
    experts = [gen_expert(session) for _ in range(3)]
    referrers = [gen_referrer(session) for _ in range(2)]
    firm = gen_firm(session, experts[0])
    dossiers, clocks, invoices, reviews, payments, sims = [], [], [], [], [], []
    invoiced = set()
    for _ in range(steps):
        roll = rng.random()
        free = [
            (c, p)
            for c in clients
            for p in PRODUCTS
            if not any(d.client_id == c.id and d.product.code == p for d in dossiers)
        ]
        if (roll < 0.18 or not dossiers) and free:
            client, product = rng.choice(free)
            d = gen_dossier(
                session,
                client=client,
                product=product,
                estimated_cents=rng.randint(1, 500) * 10_000,
                created_at=_moment(rng),
            )
            dossiers.append(d)
        elif roll < 0.45:  # a dossier moves on: status, expert, one of its dates, amounts
            d = rng.choice(dossiers)
            d.status = rng.choice(list(DossierStatus))
            d.expert_id = rng.choice([None, *(e.id for e in experts)])
            setattr(d, rng.choice(STAMPS), rng.choice([None, _moment(rng)]))
            d.decision = rng.choice([None, *Decision])
            d.decided_cents = rng.choice([None, rng.randint(1, 900) * 1000])
            d.obtained_cents = rng.choice([None, rng.randint(1, 900) * 1000])
        elif roll < 0.52:  # a client moves or changes referrer: their facts follow
            c = rng.choice(clients)
            c.client_profile.postal_code = rng.choice([None, "69001", "75012", "20100", "97411"])
            c.client_profile.referrer_id = rng.choice([None, *(r.id for r in referrers)])
        elif roll < 0.56:  # an expert joins or leaves the firm
            e = rng.choice(experts[1:])
            e.expert_profile.firm_id = rng.choice([None, firm.id])
        elif roll < 0.64:
            d = rng.choice(dossiers)
            if d.expert_id:
                clocks.append((_clock(session, d, rng), d.id))
        elif roll < 0.72 and clocks:
            c = rng.choice(clocks)[0]
            c.status = rng.choice(list(ClockStatus))
            c.breached_at = rng.choice([None, _moment(rng)])
            c.satisfied_at = rng.choice([None, _moment(rng)])
        elif roll < 0.77:
            d = rng.choice(dossiers)
            if d.expert_id and d.id not in invoiced:
                invoices.append(gen_invoice(session, d, obtained_cents=rng.randint(1, 99) * 10_000))
                invoiced.add(d.id)
        elif roll < 0.82 and (
            rateable := [d for d in dossiers if d.expert_id and all(r[1] != d.id for r in reviews)]
        ):
            d = rng.choice(rateable)
            reviews.append((gen_review(session, d, rating=rng.randint(1, 5)), d.id))
        elif roll < 0.85 and reviews:
            rng.choice(reviews)[0].hidden_at = rng.choice([None, utcnow()])
        elif roll < 0.9:
            sim = gen_simulation(session, user=rng.choice([None, *clients]))
            sim.status = SimulationStatus.COMPLETED
            sim.completed_at = utcnow() - timedelta(hours=rng.randint(0, 30))
            sim.total_cents = rng.randint(0, 100) * 100_000
            sim.results = [
                {
                    "code": p,
                    "eligible": rng.random() < 0.5,
                    "estimated_amount": rng.randint(0, 9000),
                }
                for p in PRODUCTS
            ]
            sims.append(sim)
        elif roll < 0.94:
            p = Payment(
                payer_id=rng.choice(clients).id,
                kind=rng.choice(list(PaymentKind)),
                provider="transfer",
                status=rng.choice(list(PaymentStatus)),
                amount_cents=rng.randint(1, 99) * 1000,
                paid_at=rng.choice([None, _moment(rng)]),
            )
            session.add(p)
            payments.append(p)
        elif roll < 0.97 and invoices:  # a deletion through the ORM takes its facts back
            d = rng.choice(dossiers)
            if d.id not in invoiced:  # an invoiced dossier is never deleted (RESTRICT)
                gone = d.id
                session.delete(d)
                dossiers.remove(d)
                clocks[:] = [c for c in clocks if c[1] != gone]
                reviews[:] = [r for r in reviews if r[1] != gone]
        if rng.random() < 0.3:
            session.commit()
        else:
            session.flush()
    session.commit()


@pytest.mark.parametrize("seed", [1, 7, 28])
def test_the_kept_facts_equal_a_rebuild_after_random_events(ctx, seed):
    with clock.frozen(datetime(2027, 4, 20, 12, tzinfo=PARIS)):
        _random_events(ctx, random.Random(seed))
        kept, totals = facts.snapshot(), facts.snapshot(DailyTotal)
        assert kept and totals, "the events produced facts"
        kept_counts = _counts(ctx)
        facts.rebuild()
        assert facts.snapshot() == kept
        assert facts.snapshot(DailyTotal) == totals
        assert _counts(ctx) == kept_counts


def _counts(session):
    from app.models import DossierCount

    return {(c.status, c.product_id): c.n for c in session.scalars(db.select(DossierCount)) if c.n}


def test_a_bulk_change_that_went_around_the_events_is_mended_by_the_rebuild(ctx):
    d = gen_dossier(ctx, created_at=datetime(2027, 1, 5, 10, tzinfo=PARIS))
    ctx.commit()
    ctx.execute(db.update(DailyFact).values(n=DailyFact.n + 5))  # drift
    ctx.execute(db.update(DailyTotal).values(n=DailyTotal.n + 5))
    ctx.commit()
    f = Filters(date(2027, 1, 1), date(2027, 1, 31))
    assert figures._sums(f, ("opened",), None)[(None, "opened")][0] == 6
    facts.rebuild()
    assert figures._sums(f, ("opened",), None)[(None, "opened")] == (1, d.estimated_cents)


def test_a_purged_visitor_simulation_keeps_its_facts(ctx):
    with clock.frozen(datetime(2027, 2, 1, 12, tzinfo=PARIS)):
        sim = gen_simulation(
            ctx,
            status=SimulationStatus.COMPLETED,
            completed_at=utcnow(),
            total_cents=100,
            results=[{"code": "TICPE", "eligible": True, "estimated_amount": 12.5}],
        )
        ctx.commit()
    with clock.frozen(datetime(2027, 2, 20, 12, tzinfo=PARIS)):
        ctx.execute(db.delete(Simulation).where(Simulation.id == sim.id))  # the purge
        ctx.commit()
        facts.rebuild()
        f = Filters(date(2027, 2, 1), date(2027, 2, 1))
        s = figures._sums(f, ("simulated", "eligible"), None)
        assert s[(None, "simulated")] == (1, 100) and s[(None, "eligible")] == (1, 1250)


# -- the dashboard KPIs against a known history ---------------------------------------------


def _at(month, day, hour=10):
    return datetime(2027, month, day, hour, tzinfo=PARIS)


def _history(session):
    """March 2027 against February: dossiers, sign-ups, refunds, invoices, clocks."""
    experts = [gen_expert(session), gen_expert(session)]
    full = experts[1].expert_profile
    full.capacity, full.active_dossiers = 2, 2
    experts[0].expert_profile.active_dossiers = 1
    with clock.frozen(_at(2, 10)):
        c0 = gen_client(session)
    with clock.frozen(_at(3, 3)):
        clients = [gen_client(session) for _ in range(3)]
    for client in (c0, *clients):
        client.client_profile.postal_code = "69003"
    # February: one dossier, refunded 8 000 €
    gen_dossier(
        session,
        client=c0,
        expert=experts[0],
        status=DossierStatus.REFUND_CONFIRMED,
        created_at=_at(2, 11),
        estimated_cents=1_000_000,
        refunded_at=_at(2, 25),
        obtained_cents=800_000,
    )
    # March: three dossiers, one refunded 12 000 € on 15 000 € estimated, one completed
    gen_dossier(session, client=clients[0], created_at=_at(3, 4), estimated_cents=500_000)
    d = gen_dossier(
        session,
        client=clients[1],
        expert=experts[0],
        status=DossierStatus.COMPLETED,
        product="URSSAF",
        created_at=_at(3, 5),
        estimated_cents=1_500_000,
        expert_selected_at=_at(3, 6, 9),
        expert_accepted_at=_at(3, 6, 11),  # two hours
        refunded_at=_at(3, 20),
        obtained_cents=1_200_000,
        completed_at=_at(3, 28),
    )
    gen_dossier(session, client=clients[2], created_at=_at(3, 31, 23), estimated_cents=200_000)
    with clock.frozen(_at(3, 21)):
        gen_invoice(session, d, obtained_cents=1_200_000)  # 30 % of 30 %: 1 080 € to the platform
    for satisfied, breached in ((_at(3, 7), None), (_at(3, 8), None), (_at(3, 9), _at(3, 8))):
        c = _clock(session, d, random.Random(1))
        c.status, c.satisfied_at, c.breached_at = ClockStatus.SATISFIED, satisfied, breached
    with clock.frozen(_at(3, 10)):
        for _ in range(6):
            gen_simulation(session, status=SimulationStatus.COMPLETED, completed_at=utcnow())
    session.commit()


def test_the_kpis_of_a_known_history(ctx):
    _history(ctx)
    march = Filters(date(2027, 3, 1), date(2027, 3, 31))
    groups = {str(title): {k.code: k for k in items} for title, items in dashboard.kpis(march)}
    dossiers, clients = groups["Dossiers"], groups["Clients"]
    assert dossiers["opened"].value == 3 and dossiers["opened"].previous == 1
    assert dossiers["opened"].trend == 2.0  # +200 %
    assert dossiers["completed"].value == 1
    assert dossiers["in_progress"].value == 3  # pending_upload ×2, refund_confirmed
    assert clients["signup"].value == 3 and clients["signup"].previous == 1
    assert clients["simulated"].value == 6 and clients["conversion"].value == 0.5
    amounts = groups["Montants"]
    assert amounts["estimated"].value == 2_200_000
    assert amounts["obtained"].value == 1_200_000 and amounts["obtained"].previous == 800_000
    assert amounts["obtained_share"].value == 0.8
    revenue = groups["Chiffre d’affaires"]
    assert revenue["invoiced"].value == 108_000 and revenue["fees_invoiced"].value == 360_000
    experts = groups["Experts"]
    assert experts["experts"].value == 2 and experts["experts_active"].value == 2
    assert experts["experts_full"].value == 1 and experts["acceptance"].value == 120
    deadlines = groups["Délais"]
    assert deadlines["on_time"].value == pytest.approx(2 / 3)
    assert deadlines["breached"].value == 1
    # the dossier opened at 23:00 in Paris on 31 March is March's, though UTC says 22:00 too
    april = Filters(date(2027, 4, 1), date(2027, 4, 30))
    assert figures.sums(april, ("opened",)).n("opened") == 0
    # by département and product
    assert figures.sums(march.scoped({"region": "69"}), ("opened",)).n("opened") == 3
    assert figures.sums(march.scoped({"region": "75"}), ("opened",)).n("opened") == 0
    steps = {str(g["label"]): g["n"] for g in dashboard.by_step()}
    assert steps["Éligibilité"] == 2 and steps["Remboursement"] == 2


def test_the_cache_misses_when_its_kind_changes(app, ctx):
    f = Filters(date(2027, 1, 1), date(2027, 1, 31))
    assert figures.sums(f, ("opened",)).n("opened") == 0
    gen_dossier(ctx, created_at=datetime(2027, 1, 5, 10, tzinfo=PARIS))
    # not committed: the facts moved in this transaction, the cached figure has not been told
    assert figures.sums(f, ("opened",)).n("opened") == 0
    ctx.commit()  # the commit bumps the generation of "facts"
    assert figures.sums(f, ("opened",)).n("opened") == 1
    # another kind is not missed: the experts' counts stay cached until an expert changes
    assert dashboard.expert_counts()["approved"] == 0
    expert = gen_expert(ctx)
    ctx.commit()
    assert dashboard.expert_counts()["approved"] == 1
    expert.expert_profile.active_dossiers = 3
    ctx.commit()
    assert dashboard.expert_counts()["active"] == 1


def test_the_cache_fails_open_when_redis_is_away(app, ctx):
    f = Filters(date(2027, 1, 1), date(2027, 1, 31))
    good = app.extensions["redis"]
    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        gen_dossier(ctx, created_at=datetime(2027, 1, 5, 10, tzinfo=PARIS))
        ctx.commit()  # the bump cannot be made: logged, the commit stands
        assert figures.sums(f, ("opened",)).n("opened") == 1  # read from the database
        assert cache.cached("facts", "x", lambda: 42) == 42
    finally:
        app.extensions["redis"] = good

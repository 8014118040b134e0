"""Per-day facts, kept by the events that change them and rebuilt from the raw rows on demand.

Each watched row (a dossier, a simulation, a client's account, an invoice, a payment, an SLA
clock, a review) *contributes* facts: a pure function of its columns and of a few dimensions
looked up around it (the client's department and referrer, the expert's firm). When a flush
changes such a row, the difference between what it contributes now and what it contributed
before is added to `daily_facts` in the same transaction; a rebuild sums the same function over
every row. Both therefore give the same figures, which the tests check after random events.

What a rebuild cannot see it leaves alone: visitor simulations are purged after 7 days
(retention, not an event: the purge does not take their facts back), so simulation facts are
only recomputed for the days whose simulations are all still there.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core import clock
from app.core.db import after_commit_gathered
from app.extensions import db
from app.models import (
    PARIS,
    ClientProfile,
    DailyFact,
    DailyTotal,
    Decision,
    Dossier,
    DossierCount,
    ExpertProfile,
    Invoice,
    Party,
    Payment,
    PaymentKind,
    PaymentStatus,
    Product,
    Review,
    Role,
    Simulation,
    SimulationStatus,
    SlaClock,
    User,
)
from app.models.sla import ClockStatus

log = logging.getLogger(__name__)

# a fact before it is summed: (metric, day, n, amount) for the dimensions of its row
Fact = tuple[str, date, int, int]
# a cell of daily_facts: day, metric, product, expert, firm, referrer, region
Key = tuple[date, str, int, int, int, int, str]
DIMENSIONS = ("product_id", "expert_id", "firm_id", "referrer_id", "region")


@dataclass(frozen=True)
class Dims:
    product_id: int = 0
    expert_id: int = 0
    firm_id: int = 0
    referrer_id: int = 0
    region: str = ""


def day_of(at: datetime | None) -> date | None:
    """The Paris day of a moment: the day an admin in France says it happened."""
    return at.astimezone(PARIS).date() if at is not None else None


def department(postal_code: str | None) -> str:
    """The French département of a postal code (2A/2B for Corsica, 3 digits overseas)."""
    code = (postal_code or "").strip()
    if len(code) != 5 or not code.isdigit():
        return ""
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    return code[:3] if code.startswith("97") else code[:2]


def _minutes(start: datetime | None, end: datetime | None) -> int:
    return max(0, int((end - start).total_seconds() // 60)) if start and end else 0


# -- what each row contributes --------------------------------------------------------------------

WON = {Decision.ACCEPTED.value, Decision.PARTIAL.value}


def dossier_facts(r: dict) -> Iterator[Fact]:
    yield "opened", day_of(r["created_at"]), 1, r["estimated_cents"] or 0
    if r["expert_accepted_at"]:
        # acceptance time counts from the client's choice (A7: the expert's clock)
        minutes = _minutes(r["expert_selected_at"], r["expert_accepted_at"])
        yield "accepted", day_of(r["expert_accepted_at"]), 1, minutes
    if r["audit_validated_at"]:
        yield "audit_validated", day_of(r["audit_validated_at"]), 1, r["final_cents"] or 0
    if r["submitted_at"]:
        yield "submitted", day_of(r["submitted_at"]), 1, 0
    if r["decided_at"]:
        yield "decided", day_of(r["decided_at"]), 1, r["decided_cents"] or 0
        if _value(r["decision"]) in WON:
            yield "won", day_of(r["decided_at"]), 1, r["decided_cents"] or 0
    if r["refunded_at"]:
        yield "refunded", day_of(r["refunded_at"]), 1, r["obtained_cents"] or 0
        # what the same dossiers were estimated at: "estimated vs obtained" compares like with like
        yield "refunded_estimate", day_of(r["refunded_at"]), 1, r["estimated_cents"] or 0
        days = (r["refunded_at"] - r["created_at"]).days
        yield "refund_days", day_of(r["refunded_at"]), 1, max(0, days)
    if r["completed_at"]:
        yield "completed", day_of(r["completed_at"]), 1, r["obtained_cents"] or 0


def simulation_facts(r: dict) -> Iterator[Fact]:
    if _value(r["status"]) != SimulationStatus.COMPLETED.value or not r["completed_at"]:
        return
    day = day_of(r["completed_at"])
    yield "simulated", day, 1, r["total_cents"] or 0


def simulation_product_facts(r: dict, product_ids: dict[str, int]) -> Iterator[tuple[int, Fact]]:
    """Per product a simulation assessed: assessed, and eligible with its estimate."""
    if _value(r["status"]) != SimulationStatus.COMPLETED.value or not r["completed_at"]:
        return
    day = day_of(r["completed_at"])
    for result in r["results"] or ():
        product_id = product_ids.get(result.get("code"), 0)
        if not product_id:
            continue
        yield product_id, ("assessed", day, 1, 0)
        if result.get("eligible"):
            cents = round((result.get("estimated_amount") or 0) * 100)
            yield product_id, ("eligible", day, 1, cents)


def user_facts(r: dict) -> Iterator[Fact]:
    if _value(r["role"]) == Role.CLIENT.value:
        yield "signup", day_of(r["created_at"]), 1, 0


def invoice_facts(r: dict) -> Iterator[Fact]:
    day = r["issued_on"]
    yield "invoiced", day, 1, r["platform_fee_cents"]
    yield "fees_invoiced", day, 1, r["client_fee_cents"]
    if r["referrer_cents"]:
        yield "commission", day, 1, r["referrer_cents"]


PAID_METRIC = {
    PaymentKind.SUBSCRIPTION.value: "paid_subscription",
    PaymentKind.CLIENT_FEE.value: "paid_client_fee",
    PaymentKind.PLATFORM_FEE.value: "paid_platform_fee",
}


def payment_facts(r: dict) -> Iterator[Fact]:
    if _value(r["status"]) != PaymentStatus.SUCCEEDED.value or not r["paid_at"]:
        return
    cents = r["invoice_cents"] if r["invoice_cents"] is not None else r["amount_cents"]
    yield PAID_METRIC[_value(r["kind"])], day_of(r["paid_at"]), 1, cents - r["refunded_cents"]


def clock_facts(r: dict) -> Iterator[Fact]:
    if r["breached_at"]:
        yield "sla_breached", day_of(r["breached_at"]), 1, 0
    if _value(r["status"]) == ClockStatus.SATISFIED.value and r["satisfied_at"]:
        metric = "sla_late" if r["breached_at"] else "sla_met"
        yield metric, day_of(r["satisfied_at"]), 1, 0


def review_facts(r: dict) -> Iterator[Fact]:
    if r["hidden_at"] is None:
        yield "rated", day_of(r["created_at"]), 1, r["rating"]


def _value(v):
    return getattr(v, "value", v)


# -- dimensions -----------------------------------------------------------------------------------


class Lookups:
    """The dimensions around a row, read once per flush (or preloaded by a rebuild)."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.clients: dict[int, tuple[str, int]] = {}
        self.firms: dict[int, int] = {}
        self.dossiers: dict[int, tuple[int, int, int]] = {}
        self._products: dict[str, int] | None = None

    def client(self, user_id: int | None) -> tuple[str, int]:
        if not user_id:
            return "", 0
        if user_id not in self.clients:
            row = self.conn.execute(
                select(ClientProfile.postal_code, ClientProfile.referrer_id).where(
                    ClientProfile.user_id == user_id
                )
            ).first()
            self.clients[user_id] = (department(row[0]), row[1] or 0) if row else ("", 0)
        return self.clients[user_id]

    def firm(self, expert_id: int | None) -> int:
        if not expert_id:
            return 0
        if expert_id not in self.firms:
            self.firms[expert_id] = (
                self.conn.scalar(
                    select(ExpertProfile.firm_id).where(ExpertProfile.user_id == expert_id)
                )
                or 0
            )
        return self.firms[expert_id]

    def dossier(self, dossier_id: int) -> tuple[int, int, int]:
        """(product, client, expert) of a dossier."""
        if dossier_id not in self.dossiers:
            row = self.conn.execute(
                select(Dossier.product_id, Dossier.client_id, Dossier.expert_id).where(
                    Dossier.id == dossier_id
                )
            ).first()
            self.dossiers[dossier_id] = (row[0], row[1], row[2] or 0) if row else (0, 0, 0)
        return self.dossiers[dossier_id]

    def products(self) -> dict[str, int]:
        if self._products is None:
            self._products = dict(self.conn.execute(select(Product.code, Product.id)).all())
        return self._products

    def around(self, product_id: int, client_id: int | None, expert_id: int | None) -> Dims:
        region, referrer = self.client(client_id)
        return Dims(product_id or 0, expert_id or 0, self.firm(expert_id), referrer, region)


# -- the sources: which columns each watched model contributes from --------------------------------


@dataclass(frozen=True)
class Source:
    model: type
    columns: tuple[str, ...]
    cells: Callable[[dict, Lookups], Iterable[tuple[Dims, Fact]]]
    metrics: tuple[str, ...]
    follows_deletes: bool = True


def _with(dims: Dims, facts: Iterable[Fact]) -> Iterator[tuple[Dims, Fact]]:
    for fact in facts:
        yield dims, fact


def _dossier_cells(r, lk):
    return _with(lk.around(r["product_id"], r["client_id"], r["expert_id"]), dossier_facts(r))


def _simulation_cells(r, lk):
    region, referrer = lk.client(r["user_id"])
    yield from _with(Dims(referrer_id=referrer, region=region), simulation_facts(r))
    for product_id, fact in simulation_product_facts(r, lk.products()):
        yield Dims(product_id, 0, 0, referrer, region), fact


def _user_cells(r, lk):
    region, referrer = lk.client(r["id"])
    return _with(Dims(referrer_id=referrer, region=region), user_facts(r))


def _invoice_cells(r, lk):
    product_id, client_id, _ = lk.dossier(r["dossier_id"])
    return _with(lk.around(product_id, client_id, r["expert_id"]), invoice_facts(r))


def _payment_cells(r, lk):
    return _with(Dims(), payment_facts(r))


def _clock_cells(r, lk):
    product_id, client_id, _ = lk.dossier(r["dossier_id"])
    expert = r["responsible_id"] if _value(r["party"]) == Party.EXPERT.value else None
    return _with(lk.around(product_id, client_id, expert), clock_facts(r))


def _review_cells(r, lk):
    product_id, client_id, _ = lk.dossier(r["dossier_id"])
    return _with(lk.around(product_id, client_id, r["expert_id"]), review_facts(r))


DOSSIER_COLUMNS = (
    "id",
    "product_id",
    "client_id",
    "expert_id",
    "status",
    "estimated_cents",
    "final_cents",
    "decision",
    "decided_cents",
    "obtained_cents",
    "created_at",
    "expert_selected_at",
    "expert_accepted_at",
    "audit_validated_at",
    "submitted_at",
    "decided_at",
    "refunded_at",
    "completed_at",
)

SOURCES = (
    Source(
        Dossier,
        DOSSIER_COLUMNS,
        _dossier_cells,
        (
            "opened",
            "accepted",
            "audit_validated",
            "submitted",
            "decided",
            "won",
            "refunded",
            "refunded_estimate",
            "refund_days",
            "completed",
        ),
    ),
    Source(
        Simulation,
        ("id", "user_id", "status", "completed_at", "total_cents", "results"),
        _simulation_cells,
        ("simulated", "assessed", "eligible"),
        follows_deletes=False,  # the purge is retention, not an event
    ),
    Source(User, ("id", "role", "created_at"), _user_cells, ("signup",)),
    Source(
        Invoice,
        (
            "id",
            "dossier_id",
            "expert_id",
            "issued_on",
            "platform_fee_cents",
            "client_fee_cents",
            "referrer_cents",
        ),
        _invoice_cells,
        ("invoiced", "fees_invoiced", "commission"),
    ),
    Source(
        Payment,
        (
            "id",
            "kind",
            "status",
            "paid_at",
            "invoice_cents",
            "amount_cents",
            "refunded_cents",
        ),
        _payment_cells,
        tuple(PAID_METRIC.values()),
    ),
    Source(
        SlaClock,
        (
            "id",
            "dossier_id",
            "party",
            "responsible_id",
            "status",
            "breached_at",
            "satisfied_at",
        ),
        _clock_cells,
        ("sla_breached", "sla_late", "sla_met"),
    ),
    Source(
        Review,
        ("id", "dossier_id", "expert_id", "rating", "hidden_at", "created_at"),
        _review_cells,
        ("rated",),
    ),
)
BY_MODEL = {source.model: source for source in SOURCES}
METRICS = frozenset(m for source in SOURCES for m in source.metrics)


def _tally(rows: Iterable[dict], source: Source, lk: Lookups, sign: int, into: Counter) -> None:
    for row in rows:
        for dims, (metric, day, n, amount) in source.cells(row, lk):
            key = (day, metric, dims.product_id, dims.expert_id, dims.firm_id)
            key += (dims.referrer_id, dims.region)
            into[key, "n"] += sign * n
            into[key, "amount"] += sign * amount


def _upsert(conn, model, keys: tuple[str, ...], cells: dict) -> None:
    """Add n and amount to each cell: one upsert per 2 000, in key order (two transactions
    adding to the same cells then lock them in the same order, never in a deadlock)."""
    rows = [
        dict(zip(keys, key, strict=True), n=n, amount=amount)
        for key, (n, amount) in sorted(cells.items(), key=lambda kv: tuple(map(str, kv[0])))
        if n or amount
    ]
    if not rows:
        return
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
    stmt = insert(model)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={"n": model.n + stmt.excluded.n, "amount": model.amount + stmt.excluded.amount},
    )
    for start in range(0, len(rows), 2000):
        conn.execute(stmt, rows[start : start + 2000])


TOTAL_KEYS = ("day", "metric", "product_id", "region")


def _add(conn, tally: Counter, totals: bool = True) -> None:
    """Add the tallied n and amount to their cells, and to the totals without the people."""
    cells: dict[Key, list[int]] = {}
    for (key, field), value in tally.items():
        cells.setdefault(key, [0, 0])[0 if field == "n" else 1] += value
    _upsert(conn, DailyFact, ("day", "metric", *DIMENSIONS), cells)
    if totals:
        summed: dict[tuple, list[int]] = {}
        for (day, metric, product_id, _e, _f, _r, region), (n, amount) in cells.items():
            cell = summed.setdefault((day, metric, product_id, region), [0, 0])
            cell[0] += n
            cell[1] += amount
        _upsert(conn, DailyTotal, TOTAL_KEYS, summed)


def _count_statuses(conn, changes: Counter) -> None:
    rows = [{"status": s, "product_id": p, "n": n} for (s, p), n in changes.items() if n]
    if not rows:
        return
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
    stmt = insert(DossierCount)
    stmt = stmt.on_conflict_do_update(
        index_elements=["status", "product_id"], set_={"n": DossierCount.n + stmt.excluded.n}
    )
    conn.execute(stmt, rows)


# -- kept by events: the flush listener -----------------------------------------------------------

_BEFORE = "analytics_before"
_DIMS = "analytics_dims_before"
# the profile columns that are dimensions of other rows' facts
DIMENSION_COLUMNS = {ClientProfile: ("postal_code", "referrer_id"), ExpertProfile: ("firm_id",)}


def _state(obj, columns) -> dict:
    return {c: getattr(obj, c) for c in columns}


def _changed(obj, columns) -> bool:
    state = inspect(obj)
    return any(state.attrs[c].history.has_changes() for c in columns)


def _profile_dims(model, row) -> tuple:
    if model is ClientProfile:
        return department(row[0]), row[1] or 0
    return row[0] or 0


@event.listens_for(Session, "before_flush")
def _remember(session: Session, flush_context, instances) -> None:
    """What the changed rows contributed before, and the dimensions that changed: read from the
    database, which still holds them (an attribute set while expired keeps no old value)."""
    before = session.info.setdefault(_BEFORE, {})
    dims = session.info.setdefault(_DIMS, {})
    wanted: dict[type, list] = {}
    profiles: dict[type, list] = {}
    for obj in (*session.new, *session.dirty, *session.deleted):
        model = type(obj)
        if model in DIMENSION_COLUMNS:
            # a new profile is seen after the flush, when its user id is known
            if obj in session.deleted or (
                obj not in session.new and _changed(obj, DIMENSION_COLUMNS[model])
            ):
                profiles.setdefault(model, []).append(inspect(obj).identity[0])
            continue
        source = BY_MODEL.get(model)
        if source is None or obj in session.new:
            continue
        if obj in session.deleted and not source.follows_deletes:
            continue
        if obj in session.deleted or _changed(obj, source.columns):
            ident = inspect(obj).identity
            if ident is not None and (model, ident[0]) not in before:
                wanted.setdefault(model, []).append(ident[0])
    if not wanted and not profiles:
        return
    # a deleted dossier takes its clocks and reviews with it (ON DELETE CASCADE, which no
    # flush sees): their facts go too
    gone = [obj.id for obj in session.deleted if type(obj) is Dossier]
    with session.no_autoflush:
        conn = session.connection()
        for model, ids in wanted.items():
            columns = BY_MODEL[model].columns
            query = select(*(getattr(model, c) for c in columns)).where(model.id.in_(ids))
            for row in conn.execute(query):
                before[model, row[0]] = dict(zip(columns, row, strict=True))
        for model in (SlaClock, Review) if gone else ():
            columns = BY_MODEL[model].columns
            query = select(*(getattr(model, c) for c in columns))
            for row in conn.execute(query.where(model.dossier_id.in_(gone))):
                before.setdefault((model, row[0]), dict(zip(columns, row, strict=True)))
        for model, ids in profiles.items():
            cols = [getattr(model, c) for c in DIMENSION_COLUMNS[model]]
            for user_id, *row in conn.execute(
                select(model.user_id, *cols).where(model.id.in_(ids))
            ):
                dims.setdefault((model, user_id), _profile_dims(model, row))


def _related(conn, dims: dict) -> list[tuple[Source, dict]]:
    """Every watched row whose facts carry the dimensions of the users in `dims`."""
    clients = [u for (m, u) in dims if m is ClientProfile]
    experts = [u for (m, u) in dims if m is ExpertProfile]
    of_clients = select(Dossier.id).where(Dossier.client_id.in_(clients))
    wheres = {
        Dossier: Dossier.client_id.in_(clients) | Dossier.expert_id.in_(experts),
        User: User.id.in_(clients),
        Simulation: Simulation.user_id.in_(clients),
        Invoice: Invoice.dossier_id.in_(of_clients) | Invoice.expert_id.in_(experts),
        SlaClock: SlaClock.dossier_id.in_(of_clients) | SlaClock.responsible_id.in_(experts),
        Review: Review.dossier_id.in_(of_clients) | Review.expert_id.in_(experts),
    }
    out = []
    for model, where in wheres.items():
        source = BY_MODEL[model]
        query = select(*(getattr(model, c) for c in source.columns)).where(where)
        out += [(source, dict(zip(source.columns, r, strict=True))) for r in conn.execute(query)]
    return out


@event.listens_for(Session, "after_flush")
def _apply(session: Session, flush_context) -> None:
    before: dict = session.info.pop(_BEFORE, {})
    dims: dict = session.info.pop(_DIMS, {})
    now: dict = {}
    for obj in session.new:
        if type(obj) in DIMENSION_COLUMNS:  # before it existed, its user's rows had none of it
            dims.setdefault((type(obj), obj.user_id), ("", 0) if type(obj) is ClientProfile else 0)
    for obj in (*session.new, *session.dirty):
        source = BY_MODEL.get(type(obj))
        if source is None or obj in session.deleted:
            continue
        if obj in session.new or (type(obj), obj.id) in before:
            now[type(obj), obj.id] = _state(obj, source.columns)
    if not now and not before and not dims:
        return
    conn = session.connection()
    # the rows' own changes are counted with the dimensions as they were; then, when a profile
    # moved (a client's département or referrer, an expert's firm), every row carrying it moves
    # from the old dimensions to the new ones
    old = Lookups(conn)
    for (model, user_id), value in dims.items():
        if model is ClientProfile:
            old.clients[user_id] = value
        else:
            old.firms[user_id] = value
    for (model, dossier_id), row in before.items():  # a deleted dossier's clocks still need it
        if model is Dossier:
            old.dossiers[dossier_id] = (row["product_id"], row["client_id"], row["expert_id"] or 0)
    tally: Counter = Counter()
    statuses: Counter = Counter()
    for (model, _id), row in before.items():
        _tally([row], BY_MODEL[model], old, -1, tally)
        if model is Dossier:
            statuses[_value(row["status"]), row["product_id"]] -= 1
    for (model, _id), row in now.items():
        _tally([row], BY_MODEL[model], old, +1, tally)
        if model is Dossier:
            statuses[_value(row["status"]), row["product_id"]] += 1
    if dims:
        current = Lookups(conn)
        for source, row in _related(conn, dims):
            _tally([row], source, old, -1, tally)
            _tally([row], source, current, +1, tally)
    _add(conn, tally)
    _count_statuses(conn, statuses)
    if any(tally.values()) or any(statuses.values()):
        after_commit_gathered(_FactsChanged)


class _FactsChanged:
    """Once per transaction that moved the facts, after its commit."""

    def __call__(self) -> None:
        from app.services.analytics import cache

        cache.facts_changed()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for key in (_BEFORE, _DIMS):
        session.info.pop(key, None)


# -- rebuilt from the raw rows --------------------------------------------------------------------


def _rows(source: Source, where=None, chunk: int = 5000) -> Iterator[list[dict]]:
    cols = [getattr(source.model, c) for c in source.columns]
    query = select(*cols).order_by(source.model.id)
    if where is not None:
        query = query.where(where)
    after = 0
    while True:
        batch = db.session.execute(query.where(source.model.id > after).limit(chunk)).all()
        if not batch:
            return
        after = batch[-1][0]
        yield [dict(zip(source.columns, row, strict=True)) for row in batch]


def _preload(lk: Lookups) -> None:
    """Every client's and expert's dimensions in two reads, instead of one per row."""
    for user_id, postal, referrer in db.session.execute(
        select(ClientProfile.user_id, ClientProfile.postal_code, ClientProfile.referrer_id)
    ):
        lk.clients[user_id] = (department(postal), referrer or 0)
    for user_id, firm_id in db.session.execute(
        select(ExpertProfile.user_id, ExpertProfile.firm_id)
    ):
        lk.firms[user_id] = firm_id or 0


def simulation_horizon() -> date:
    """The first day whose visitor simulations are all still stored (the purge takes 7 days)."""
    from app.services.simulator.simulations import VISITOR_LIFETIME

    return day_of(clock.now() - VISITOR_LIFETIME) + timedelta(days=1)


def rebuild() -> int:
    """Recompute every fact and the status counts from the raw rows, in one transaction (the
    events' increments wait for it on PostgreSQL). Returns the number of cells written."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        db.session.execute(
            db.text("LOCK TABLE daily_facts, daily_totals, dossier_counts IN EXCLUSIVE MODE")
        )
    horizon = simulation_horizon()
    lk = Lookups(conn)
    _preload(lk)
    for source in SOURCES:
        scope = DailyFact.metric.in_(source.metrics)
        if source.model is Simulation:
            scope = scope & (DailyFact.day >= horizon)
        db.session.execute(delete(DailyFact).where(scope))
        where = None
        if source.model is Simulation:
            start = datetime.combine(horizon, datetime.min.time(), PARIS)
            where = Simulation.completed_at >= start
        for batch in _rows(source, where):
            if source.model is not Dossier:
                _dossier_dims(batch, lk)
            tally: Counter = Counter()
            _tally(batch, source, lk, +1, tally)
            _add(conn, tally, totals=False)
            lk.dossiers.clear()
    # the totals are the facts summed without their people, whatever the facts now say
    db.session.execute(delete(DailyTotal))
    cols = [getattr(DailyFact, k) for k in TOTAL_KEYS]
    db.session.execute(
        db.insert(DailyTotal).from_select(
            [*TOTAL_KEYS, "n", "amount"],
            select(*cols, db.func.sum(DailyFact.n), db.func.sum(DailyFact.amount)).group_by(*cols),
        )
    )
    db.session.execute(delete(DossierCount))
    counts = db.session.execute(
        select(Dossier.status, Dossier.product_id, db.func.count()).group_by(
            Dossier.status, Dossier.product_id
        )
    ).all()
    _count_statuses(conn, Counter({(_value(s), p): n for s, p, n in counts}))
    db.session.commit()
    from app.services.analytics import cache

    cache.facts_changed()
    return db.session.scalar(select(db.func.count()).select_from(DailyFact))


def _dossier_dims(batch: list[dict], lk: Lookups) -> None:
    """The dossiers a batch of invoices, clocks or reviews point to, in one read."""
    ids = {row["dossier_id"] for row in batch if "dossier_id" in row}
    if not ids:
        return
    for dossier_id, product_id, client_id, expert_id in db.session.execute(
        select(Dossier.id, Dossier.product_id, Dossier.client_id, Dossier.expert_id).where(
            Dossier.id.in_(ids)
        )
    ):
        lk.dossiers[dossier_id] = (product_id, client_id, expert_id or 0)


def snapshot(model=DailyFact) -> dict[tuple, tuple[int, int]]:
    """Every non-empty cell, for comparing the kept facts (or totals) with a rebuild."""
    keys = ("day", "metric", *DIMENSIONS) if model is DailyFact else TOTAL_KEYS
    cols = [getattr(model, k) for k in keys]
    return {
        tuple(row[:-2]): (row[-2], row[-1])
        for row in db.session.execute(select(*cols, model.n, model.amount))
        if row[-2] or row[-1]
    }

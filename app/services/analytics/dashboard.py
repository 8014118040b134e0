"""The admin dashboard's KPIs (domain.md §7.1 by category): each figure for the period, its
trend against the period before, and the list behind it. Facts and counters only."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import ApprovalStatus, DossierStatus, ExpertProfile
from app.services import sla
from app.services.analytics import cache
from app.services.analytics.figures import Filters, share, status_counts, sums, trend
from app.services.workflow.progress import ACTIVE, QUOTE_STEP, QUOTE_STEPS, STEP, STEPS


@dataclass(frozen=True)
class Kpi:
    code: str
    label: str
    value: float | None
    kind: str  # int, money (cents), pct (share), minutes, days
    previous: float | None = None  # None: a figure of now, with no trend
    endpoint: str | None = None
    args: tuple = ()

    @property
    def trend(self) -> float | None:
        return trend(self.value, self.previous)


METRICS = (
    "opened",
    "completed",
    "signup",
    "simulated",
    "refunded",
    "refunded_estimate",
    "invoiced",
    "fees_invoiced",
    "paid_platform_fee",
    "paid_client_fee",
    "paid_subscription",
    "sla_met",
    "sla_late",
    "sla_breached",
    "accepted",
)


def _period(s) -> dict:
    """The period's figures from one grouped read of the facts."""
    met, late = s.n("sla_met"), s.n("sla_late")
    return {
        "opened": s.n("opened"),
        "completed": s.n("completed"),
        "signup": s.n("signup"),
        "simulated": s.n("simulated"),
        "conversion": share(s.n("signup"), s.n("simulated")),
        "estimated": s.amount("opened"),
        "obtained": s.amount("refunded"),
        "obtained_share": share(s.amount("refunded"), s.amount("refunded_estimate")),
        "invoiced": s.amount("invoiced"),
        "fees_invoiced": s.amount("fees_invoiced"),
        "paid": s.amount("paid_platform_fee") + s.amount("paid_subscription"),
        "client_fees_paid": s.amount("paid_client_fee"),
        "on_time": share(met, met + late),
        "breached": s.n("sla_breached"),
        "acceptance": (s.amount("accepted") / s.n("accepted")) if s.n("accepted") else None,
    }


def expert_counts() -> dict:
    """Approved experts, those with work, those at capacity (the profile table, 10 000 rows)."""

    def compute():
        approved = ExpertProfile.approval_status == ApprovalStatus.APPROVED
        row = db.session.execute(
            db.select(
                db.func.count(),
                db.func.count().filter(ExpertProfile.active_dossiers > 0),
                db.func.count().filter(ExpertProfile.active_dossiers >= ExpertProfile.capacity),
            ).where(approved)
        ).one()
        return {"approved": row[0], "active": row[1], "full": row[2]}

    return cache.cached("experts", "counts", compute)


def sla_now() -> dict:
    return cache.cached(
        "sla",
        "now",
        lambda: {"open": sla.alerts.open_count(), "at_risk": sla.reminders.at_risk_count()},
    )


def kpis(f: Filters) -> list[tuple[str, list[Kpi]]]:
    now, before = _period(sums(f, METRICS)), _period(sums(f.previous(), METRICS))
    experts, clocks = expert_counts(), sla_now()
    args = tuple(f.args().items())

    def k(code, label, kind, endpoint=None, extra=()):
        return Kpi(code, label, now[code], kind, before[code], endpoint, args + extra)

    return [
        (
            _l("Dossiers"),
            [
                k("opened", _l("Dossiers opened"), "int", "analytics.view", (("view", "funnel"),)),
                k("completed", _l("Dossiers completed"), "int", "dossiers.index"),
                Kpi(
                    "in_progress",
                    _l("In progress now"),
                    sum(n for s, n in status_counts().items() if DossierStatus(s) in ACTIVE),
                    "int",
                    endpoint="dossiers.index",
                ),
            ],
        ),
        (
            _l("Clients"),
            [
                k("signup", _l("New clients"), "int", "admin.users", (("role", "client"),)),
                k("simulated", _l("Simulations completed"), "int", "admin.simulator_list"),
                k(
                    "conversion",
                    _l("Sign-ups per simulation"),
                    "pct",
                    "analytics.view",
                    (("view", "funnel"),),
                ),
            ],
        ),
        (
            _l("Amounts"),
            [
                k(
                    "estimated",
                    _l("Estimated on new dossiers"),
                    "money",
                    "analytics.view",
                    (("view", "products"),),
                ),
                k(
                    "obtained",
                    _l("Obtained (refunds confirmed)"),
                    "money",
                    "analytics.view",
                    (("view", "products"),),
                ),
                k("obtained_share", _l("Obtained against their estimate"), "pct"),
            ],
        ),
        (
            _l("Revenue"),
            [
                k("invoiced", _l("Platform fees invoiced"), "money", "admin.payments"),
                k("paid", _l("Platform revenue received"), "money", "admin.payments"),
                k("fees_invoiced", _l("Client fees invoiced"), "money", "admin.payments"),
                k("client_fees_paid", _l("Client fees paid"), "money", "admin.payments"),
            ],
        ),
        (
            _l("Experts"),
            [
                Kpi(
                    "experts",
                    _l("Approved experts"),
                    experts["approved"],
                    "int",
                    endpoint="admin.users",
                    args=(("role", "expert"),),
                ),
                Kpi(
                    "experts_active",
                    _l("With dossiers in hand"),
                    experts["active"],
                    "int",
                    endpoint="analytics.view",
                    args=(("view", "experts"),),
                ),
                Kpi(
                    "experts_full",
                    _l("At capacity"),
                    experts["full"],
                    "int",
                    endpoint="analytics.view",
                    args=(("view", "experts"),),
                ),
                k(
                    "acceptance",
                    _l("Average time to accept"),
                    "minutes",
                    "analytics.view",
                    (("view", "experts"),),
                ),
            ],
        ),
        (
            _l("Deadlines"),
            [
                k(
                    "on_time",
                    _l("Deadlines met on time"),
                    "pct",
                    "analytics.view",
                    (("view", "sla"),),
                ),
                k(
                    "breached",
                    _l("Deadlines breached"),
                    "int",
                    "analytics.view",
                    (("view", "sla"),),
                ),
                Kpi(
                    "alerts_open",
                    _l("Late now: open alerts"),
                    clocks["open"],
                    "int",
                    endpoint="admin.alerts",
                ),
                Kpi(
                    "at_risk",
                    _l("At risk in the next 2 business hours"),
                    clocks["at_risk"],
                    "int",
                    endpoint="admin.alerts",
                ),
            ],
        ),
    ]


def by_step(product_id: int | None = None) -> list[dict]:
    """Dossiers now per step, with the statuses inside each (the six financial steps, then the
    partner products' quote flow, then the stopped ones)."""
    counts = status_counts(product_id)
    groups: dict[tuple, dict] = {}
    for status, n in counts.items():
        s = DossierStatus(status)
        if s in STEP:
            key, label = (0, STEP[s][0]), STEPS[STEP[s][0] - 1]
        elif s in QUOTE_STEP:
            key, label = (1, QUOTE_STEP[s][0]), QUOTE_STEPS[QUOTE_STEP[s][0] - 1]
        else:
            key, label = (2, 0), _l("Stopped")
        group = groups.setdefault(key, {"label": label, "n": 0, "statuses": []})
        group["n"] += n
        group["statuses"].append((status, n))
    out = []
    for key in sorted(groups):
        group = groups[key]
        group["statuses"].sort()
        group["flow"] = key[0]
        out.append(group)
    return out


def context(f: Filters) -> dict:
    """What the dashboard's KPI block renders."""
    from app.services.analytics.reports import products

    return {"kpi_groups": kpis(f), "steps": by_step(f.product_id), "f": f, "products": products()}

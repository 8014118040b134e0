"""Reading the facts: sums of metrics over a filtered range of days, grouped by one dimension.
Every page and report reads through `sums`; none reads the dossier table."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from app.extensions import db
from app.models import DailyFact, DailyTotal, DossierCount
from app.services.analytics import cache

FILTER_DIMENSIONS = ("product_id", "expert_id", "firm_id", "region")


@dataclass(frozen=True)
class Filters:
    """What a page or a saved report looks at: Paris days `start`..`end` (both included), and
    optionally one product, expert, firm or département."""

    start: date
    end: date
    product_id: int | None = None
    expert_id: int | None = None
    firm_id: int | None = None
    region: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The same length of time just before: what a trend compares with."""
        return replace(
            self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1)
        )

    def args(self) -> dict:
        """As URL arguments (what a link or a saved report keeps)."""
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name in FILTER_DIMENSIONS:
            value = getattr(self, name)
            if value:
                out[name.removesuffix("_id")] = value
        return out

    def key(self) -> str:
        return "&".join(f"{k}={v}" for k, v in sorted(self.args().items()))

    def scoped(self, scope: dict) -> Filters:
        """With the viewer's forced dimensions (an expert sees only themselves)."""
        return replace(self, **scope) if scope else self


@dataclass
class Sums:
    """(n, amount) per metric, and per group when grouped."""

    cells: dict = field(default_factory=dict)

    def n(self, metric: str, group=None) -> int:
        return self.cells.get((group, metric), (0, 0))[0]

    def amount(self, metric: str, group=None) -> int:
        return self.cells.get((group, metric), (0, 0))[1]

    def groups(self) -> list:
        return sorted({g for g, _m in self.cells if g is not None}, key=str)


PEOPLE = ("expert_id", "firm_id", "referrer_id")


def _table(f: Filters, by: str | None):
    """The totals when the question leaves the people out, else the facts."""
    people = by in PEOPLE or f.expert_id or f.firm_id
    return DailyFact if people else DailyTotal


def _where(t, f: Filters, metrics):
    clauses = [t.metric.in_(metrics), t.day.between(f.start, f.end)]
    for name in FILTER_DIMENSIONS:
        value = getattr(f, name)
        if value:
            clauses.append(getattr(t, name) == value)
    return clauses


def _sums(f: Filters, metrics: tuple[str, ...], by: str | None) -> dict:
    t = _table(f, by)
    group = getattr(t, by) if by else db.literal(None)
    rows = db.session.execute(
        db.select(group, t.metric, db.func.sum(t.n), db.func.sum(t.amount))
        .where(*_where(t, f, metrics))
        .group_by(group, t.metric)
    ).all()
    return {(g, m): (int(n or 0), int(a or 0)) for g, m, n, a in rows}


def sums(f: Filters, metrics: tuple[str, ...], by: str | None = None) -> Sums:
    key = f"sums:{f.key()}:{','.join(sorted(metrics))}:{by}"
    return Sums(cache.cached("facts", key, lambda: _sums(f, metrics, by)))


def status_counts(product_id: int | None = None) -> dict[str, int]:
    """Dossiers per status now (the counter table, never the dossiers)."""

    def compute():
        query = db.select(DossierCount.status, db.func.sum(DossierCount.n)).group_by(
            DossierCount.status
        )
        if product_id:
            query = query.where(DossierCount.product_id == product_id)
        return {s: int(n) for s, n in db.session.execute(query) if n}

    return cache.cached("facts", f"statuses:{product_id or 0}", compute)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def trend(now: float | None, before: float | None) -> float | None:
    """The change against the previous period as a share (None: nothing to compare with)."""
    if now is None or before is None or before == 0:
        return None
    return (now - before) / abs(before)


def ranked(
    f: Filters, metrics: tuple[str, ...], by: str, order: tuple[tuple[str, str], ...], limit: int
) -> tuple[Sums, list, int]:
    """The `limit` groups first by `order` ((metric, "n" or "amount"), …, highest first, then
    the smallest id), their sums of `metrics`, and how many groups there are in all. The
    ranking is made by the database: the page never holds ten thousand experts' sums."""
    t = _table(f, by)
    group = getattr(t, by)
    keys = [
        db.func.sum(db.case((t.metric == metric, getattr(t, field)), else_=0)).desc()
        for metric, field in order
    ]
    where = [*_where(t, f, metrics), group != 0]
    top = list(
        db.session.scalars(
            db.select(group).where(*where).group_by(group).order_by(*keys, group).limit(limit)
        )
    )
    total = db.session.scalar(db.select(db.func.count(db.distinct(group))).where(*where)) or 0
    if not top:
        return Sums({}), [], 0
    rows = db.session.execute(
        db.select(group, t.metric, db.func.sum(t.n), db.func.sum(t.amount))
        .where(*where, group.in_(top))
        .group_by(group, t.metric)
    ).all()
    cells = {(g, m): (int(n or 0), int(a or 0)) for g, m, n, a in rows}
    return Sums(cells), top, max(0, total - len(top))

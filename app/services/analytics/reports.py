"""The analytics views as data: titled tables with one charted column each. The page draws them
as SVG beside their table, the workbook as sheets with native charts, the PDF from the page's
own template, a scheduled report from the same function: one definition per view."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Firm, Product, User
from app.services.analytics import cache
from app.services.analytics.figures import Filters, ranked, share, sums

TOP = 50  # rows per ranking (experts, referrers): the best first, the count of the rest given


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "int"  # text, int, money (cents), pct (share), minutes, days, rating


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list]
    chart: int | None = 1  # the column drawn as bars, labelled by column 0
    more: int = 0  # rows left out of a ranking
    # the filter each row's first cell narrows the page to ("expert", "product", "firm")
    dimension: str | None = None
    keys: list = field(default_factory=list)


@dataclass
class Report:
    view: str
    title: str
    filters: Filters
    tables: list[Table] = field(default_factory=list)


VIEWS = {
    "funnel": _l("Funnel: from simulation to completed dossier"),
    "experts": _l("Expert performance"),
    "products": _l("Product performance"),
    "referrers": _l("Referrer performance"),
    "sla": _l("Deadline compliance"),
}
# what an expert (their own figures) or a firm runner (the firm's) may open
SCOPED_VIEWS = ("experts", "products", "sla")


def _avg(total: int, n: int) -> float | None:
    return total / n if n else None


def people(ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(User.id, User.first_name, User.last_name).where(User.id.in_(ids))
    )
    return {i: f"{first} {last}" for i, first, last in rows}


def products(ids=None) -> dict[int, str]:
    query = db.select(Product.id, Product.name)
    if ids is not None:
        query = query.where(Product.id.in_([i for i in ids if i] or [0]))
    return dict(db.session.execute(query).all())


def firms(ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return dict(db.session.execute(db.select(Firm.id, Firm.name).where(Firm.id.in_(ids))).all())


# -- the views ------------------------------------------------------------------------------------

FUNNEL = (
    ("simulated", _l("Simulations completed")),
    ("signup", _l("Clients signed up")),
    ("opened", _l("Dossiers opened")),
    ("accepted", _l("Expert accepted")),
    ("audit_validated", _l("Audit approved by the client")),
    ("submitted", _l("Submitted to the administration")),
    ("won", _l("Decision in the client's favour")),
    ("completed", _l("Completed")),
)


def funnel(f: Filters) -> Report:
    steps = list(FUNNEL)
    if f.product_id:  # one product: its funnel starts with the simulations it was eligible in
        steps[0:2] = [("eligible", _l("Simulations eligible for the product"))]
    s = sums(f, tuple(m for m, _ in steps))
    rows, previous = [], None
    for metric, label in steps:
        n = s.n(metric)
        kept = share(n, previous) if previous is not None else None
        rows.append([str(label), n, kept, (1 - kept) if kept is not None else None])
        previous = n
    table = Table(
        "funnel",
        str(_l("Steps reached in the period")),
        [
            Column(str(_l("Step")), "text"),
            Column(str(_l("Count"))),
            Column(str(_l("Of the step before")), "pct"),
            Column(str(_l("Drop-off")), "pct"),
        ],
        rows,
    )
    return Report("funnel", str(VIEWS["funnel"]), f, [table])


EXPERT_METRICS = ("accepted", "completed", "refunded", "sla_met", "sla_late", "rated")


def experts(f: Filters) -> Report:
    s, top, more = ranked(
        f, EXPERT_METRICS, "expert_id", (("refunded", "amount"), ("completed", "n")), TOP
    )
    names = people(top)
    rows = []
    for g in top:
        met, late = s.n("sla_met", g), s.n("sla_late", g)
        rows.append(
            [
                names.get(g, f"#{g}"),
                s.amount("refunded", g),
                s.n("accepted", g),
                _avg(s.amount("accepted", g), s.n("accepted", g)),
                s.n("completed", g),
                share(met, met + late),
                _avg(s.amount("rated", g), s.n("rated", g)),
                s.n("rated", g),
            ]
        )
    table = Table(
        "experts",
        str(_l("Experts, most obtained first")),
        [
            Column(str(_l("Expert")), "text"),
            Column(str(_l("Obtained")), "money"),
            Column(str(_l("Dossiers accepted"))),
            Column(str(_l("Average time to accept")), "minutes"),
            Column(str(_l("Completed"))),
            Column(str(_l("On time")), "pct"),
            Column(str(_l("Average rating")), "rating"),
            Column(str(_l("Reviews"))),
        ],
        rows,
        more=more,
        dimension="expert",
        keys=top,
    )
    return Report("experts", str(VIEWS["experts"]), f, [table])


PRODUCT_METRICS = ("assessed", "eligible", "opened", "decided", "won", "refunded", "refund_days")


def product_rows(f: Filters):
    s = sums(f, PRODUCT_METRICS, by="product_id")
    names = products()
    ids = sorted((g for g in s.groups() if g), key=lambda g: names.get(g, ""))
    return s, names, ids


def products_view(f: Filters) -> Report:
    s, names, ids = product_rows(f)
    eligibility = Table(
        "eligibility",
        str(_l("Eligibility in the simulator")),
        [
            Column(str(_l("Product")), "text"),
            Column(str(_l("Eligibility rate")), "pct"),
            Column(str(_l("Simulations assessed"))),
            Column(str(_l("Eligible"))),
            Column(str(_l("Average estimate")), "money"),
        ],
        [
            [
                names.get(g, f"#{g}"),
                share(s.n("eligible", g), s.n("assessed", g)),
                s.n("assessed", g),
                s.n("eligible", g),
                _avg(s.amount("eligible", g), s.n("eligible", g)),
            ]
            for g in ids
        ],
        dimension="product",
        keys=ids,
    )
    outcome = Table(
        "outcomes",
        str(_l("Dossiers and outcomes")),
        [
            Column(str(_l("Product")), "text"),
            Column(str(_l("Obtained")), "money"),
            Column(str(_l("Dossiers opened"))),
            Column(str(_l("Decisions"))),
            Column(str(_l("Success rate")), "pct"),
            Column(str(_l("Average days to refund")), "days"),
        ],
        [
            [
                names.get(g, f"#{g}"),
                s.amount("refunded", g),
                s.n("opened", g),
                s.n("decided", g),
                share(s.n("won", g), s.n("decided", g)),
                _avg(s.amount("refund_days", g), s.n("refund_days", g)),
            ]
            for g in ids
        ],
        dimension="product",
        keys=ids,
    )
    return Report("products", str(VIEWS["products"]), f, [eligibility, outcome])


REFERRER_METRICS = ("signup", "opened", "refunded", "commission")


def referrers(f: Filters) -> Report:
    s, top, more = ranked(
        f, REFERRER_METRICS, "referrer_id", (("commission", "amount"), ("signup", "n")), TOP
    )
    names = people(top)
    table = Table(
        "referrers",
        str(_l("Referrers, highest commission first")),
        [
            Column(str(_l("Referrer")), "text"),
            Column(str(_l("Commission")), "money"),
            Column(str(_l("Clients signed up"))),
            Column(str(_l("Dossiers opened"))),
            Column(str(_l("Obtained for their clients")), "money"),
        ],
        [
            [
                names.get(g, f"#{g}"),
                s.amount("commission", g),
                s.n("signup", g),
                s.n("opened", g),
                s.amount("refunded", g),
            ]
            for g in top
        ],
        more=more,
    )
    return Report("referrers", str(VIEWS["referrers"]), f, [table])


SLA_METRICS = ("sla_met", "sla_late", "sla_breached")


def _sla_table(f: Filters, by: str, key: str, title, label, names) -> Table:
    s, top, more = ranked(f, SLA_METRICS, by, (("sla_breached", "n"), ("sla_late", "n")), TOP)
    named = names(top)
    rows = []
    for g in top:
        met, late = s.n("sla_met", g), s.n("sla_late", g)
        rows.append(
            [named.get(g, f"#{g}"), share(met, met + late), met, late, s.n("sla_breached", g)]
        )
    return Table(
        key,
        str(title),
        [
            Column(str(label), "text"),
            Column(str(_l("On time")), "pct"),
            Column(str(_l("Met on time"))),
            Column(str(_l("Met late"))),
            Column(str(_l("Breaches"))),
        ],
        rows,
        more=more,
        dimension=by.removesuffix("_id"),
        keys=top,
    )


def sla_view(f: Filters) -> Report:
    tables = [
        _sla_table(f, "product_id", "by_product", _l("By product"), _l("Product"), products),
        _sla_table(
            f, "expert_id", "by_expert", _l("By expert, most breaches first"), _l("Expert"), people
        ),
        _sla_table(f, "firm_id", "by_firm", _l("By firm, most breaches first"), _l("Firm"), firms),
    ]
    return Report("sla", str(VIEWS["sla"]), f, tables)


BUILD = {
    "funnel": funnel,
    "experts": experts,
    "products": products_view,
    "referrers": referrers,
    "sla": sla_view,
}


def build(view: str, f: Filters) -> Report:
    """The view, cached whole (its rankings are made from thousands of sums: the page should
    not redo that on every visit) in the reader's language, until the facts move."""
    key = f"report:{view}:{get_locale()}:{f.key()}"
    return cache.cached("facts", key, lambda: BUILD[view](f))

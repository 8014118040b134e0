"""The CRM's figures (docs/domain.md A11): leads by stage and source, conversion per stage and
per source, the average time spent in each stage, the amount won per month and the sellers'
leaderboard, for the leads that arrived in a period (won amounts: by the month they were won).

Aggregates only (one grouped query per figure, never rows in Python), cached a few seconds:
several sellers open the page at once on the same period."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case, func

from app.extensions import cache, db
from app.models import PARIS, Lead, LeadEvent, LeadSource, LeadStage, User
from app.security import can_use_crm, require
from app.services.simulator.simulator_stats import period_bounds

# the funnel's order; lost is where a lead leaves it, not a step
ORDER = {
    LeadStage.NEW: 0,
    LeadStage.CONTACTED: 1,
    LeadStage.QUALIFIED: 2,
    LeadStage.PROPOSAL: 3,
    LeadStage.WON: 4,
}
FUNNEL = list(ORDER)


def _seconds(later, earlier):
    """`later - earlier` in seconds, in the database's own arithmetic."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _cohort(low: datetime, high: datetime):
    return (Lead.created_at >= low) & (Lead.created_at < high)


def report(viewer, start: date, end: date) -> dict:
    require(can_use_crm(viewer))
    return _report(start.isoformat(), end.isoformat())


@cache.cache_on_arguments()
def _report(start_iso: str, end_iso: str) -> dict:
    low, high = period_bounds(date.fromisoformat(start_iso), date.fromisoformat(end_iso))
    cohort = _cohort(low, high)
    by_stage = dict(
        db.session.execute(
            db.select(Lead.stage, func.count()).where(cohort).group_by(Lead.stage)
        ).all()
    )
    by_source_rows = db.session.execute(
        db.select(
            Lead.source,
            func.count(),
            func.sum(case((Lead.stage == LeadStage.WON, 1), else_=0)),
            func.sum(case((Lead.stage == LeadStage.LOST, 1), else_=0)),
        )
        .where(cohort)
        .group_by(Lead.source)
    ).all()
    total = sum(by_stage.values())
    return {
        "start": start_iso,
        "end": end_iso,
        "total": total,
        "by_stage": [(s.value, by_stage.get(s, 0)) for s in LeadStage],
        "by_source": [
            {
                "source": source.value,
                "leads": n,
                "won": int(won or 0),
                "lost": int(lost or 0),
                "rate": (int(won or 0) / n) if n else 0.0,
            }
            for source, n, won, lost in sorted(by_source_rows, key=lambda r: -r[1])
        ],
        "funnel": _funnel(cohort, total),
        "time_in_stage": _time_in_stage(cohort),
        "won_by_month": _won_by_month(low, high),
        "leaderboard": _leaderboard(cohort),
    }


def _funnel(cohort, total: int) -> list[dict]:
    """How many leads reached each step (or a later one), and the share of them that went on
    to the next: a lead moved from new straight to won passed every step."""
    level = func.max(case(*((LeadEvent.to_stage == s.value, n) for s, n in ORDER.items()), else_=0))
    reached_per_lead = (
        db.select(LeadEvent.lead_id, level.label("level"))
        .join(Lead, Lead.id == LeadEvent.lead_id)
        .where(cohort, LeadEvent.kind == "stage")
        .group_by(LeadEvent.lead_id)
        .subquery()
    )
    at_level = dict(
        db.session.execute(
            db.select(reached_per_lead.c.level, func.count()).group_by(reached_per_lead.c.level)
        ).all()
    )
    rows = []
    for stage, n in ORDER.items():
        # every lead reached "new"; the others: those whose furthest step is this one or later
        reached = total if n == 0 else sum(c for lvl, c in at_level.items() if lvl >= n)
        rows.append({"stage": stage.value, "reached": reached})
    for here, there in zip(rows, rows[1:], strict=False):
        here["next_rate"] = (there["reached"] / here["reached"]) if here["reached"] else 0.0
    rows[-1]["next_rate"] = None
    return rows


def _time_in_stage(cohort) -> list[dict]:
    """The average time a lead spent in each stage before it left it (a move's `from_stage`
    lasted from the previous move, or from the lead's arrival)."""
    entered = func.coalesce(
        func.lag(LeadEvent.created_at).over(partition_by=LeadEvent.lead_id, order_by=LeadEvent.id),
        Lead.created_at,
    )
    moves = (
        db.select(
            LeadEvent.from_stage.label("stage"),
            _seconds(LeadEvent.created_at, entered).label("seconds"),
        )
        .join(Lead, Lead.id == LeadEvent.lead_id)
        .where(cohort, LeadEvent.kind == "stage")
        .subquery()
    )
    rows = dict(
        (stage, (float(avg or 0), n))
        for stage, avg, n in db.session.execute(
            db.select(moves.c.stage, func.avg(moves.c.seconds), func.count()).group_by(
                moves.c.stage
            )
        ).all()
    )
    return [
        {
            "stage": s.value,
            "days": rows.get(s.value, (0.0, 0))[0] / 86400,
            "moves": rows.get(s.value, (0, 0))[1],
        }
        for s in FUNNEL[:-1]
    ]


def _month(column):
    """A timestamp's month as "YYYY-MM": Paris months on PostgreSQL; SQLite, which knows no
    zones, counts UTC months (a lead won in the first hour of a month may count in the one
    before: the embedded database is for trying the platform, PostgreSQL for running it)."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone(PARIS.key, column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _won_by_month(low: datetime, high: datetime) -> list[dict]:
    """The yearly amounts signed, by the month the lead was won."""
    month = _month(Lead.closed_at).label("month")
    rows = db.session.execute(
        db.select(month, func.count(), func.sum(Lead.won_cents))
        .where(Lead.stage == LeadStage.WON, Lead.closed_at >= low, Lead.closed_at < high)
        .group_by(month)
        .order_by(month)
    ).all()
    return [{"month": m, "won": n, "cents": int(cents or 0)} for m, n, cents in rows]


def _leaderboard(cohort) -> list[dict]:
    rows = db.session.execute(
        db.select(
            Lead.owner_id,
            User.first_name,
            User.last_name,
            func.count(),
            func.sum(case((Lead.stage == LeadStage.WON, 1), else_=0)),
            func.sum(case((Lead.stage == LeadStage.WON, Lead.won_cents), else_=0)),
        )
        .join(User, User.id == Lead.owner_id)
        .where(cohort)
        .group_by(Lead.owner_id, User.first_name, User.last_name)
    ).all()
    board = [
        {
            "name": f"{first} {last}".strip(),
            "leads": n,
            "won": int(won or 0),
            "cents": int(cents or 0),
            "rate": (int(won or 0) / n) if n else 0.0,
        }
        for _owner, first, last, n, won, cents in rows
    ]
    return sorted(board, key=lambda r: (-r["cents"], -r["won"], r["name"]))


SOURCES = [s.value for s in LeadSource]


def workbook(report: dict, labels: dict) -> bytes:
    """The figures as an Excel workbook, one sheet per table, with native charts."""
    import io

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00 €"})
    share = book.add_format({"num_format": "0.0 %"})
    one = book.add_format({"num_format": "0.0"})

    def sheet(name: str, header: list[str], rows: list[list], formats: dict | None = None):
        ws = book.add_worksheet(name[:31])
        ws.set_column(0, len(header) - 1, 20)
        ws.write_row(0, 0, header, bold)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                fmt = (formats or {}).get(c)
                if isinstance(value, (int, float)):
                    ws.write_number(r, c, value, fmt)
                else:
                    ws.write_string(r, c, str(value))
        return ws

    def chart(ws, kind: str, title: str, n: int, col: int = 1, at: str = "E2"):
        if not n:
            return
        c = book.add_chart({"type": kind})
        c.add_series(
            {
                "name": title,
                "categories": [ws.get_name(), 1, 0, n, 0],
                "values": [ws.get_name(), 1, col, n, col],
            }
        )
        c.set_title({"name": title})
        c.set_legend({"none": True})
        ws.insert_chart(at, c)

    stage, source = labels["stages"], labels["sources"]
    ws = sheet(
        labels["by_stage"],
        [labels["stage"], labels["leads"]],
        [[stage[s], n] for s, n in report["by_stage"]],
    )
    chart(ws, "bar", labels["by_stage"], len(report["by_stage"]))
    rows = [
        [source[r["source"]], r["leads"], r["won"], r["lost"], r["rate"]]
        for r in report["by_source"]
    ]
    ws = sheet(
        labels["by_source"],
        [labels["source"], labels["leads"], labels["won"], labels["lost"], labels["rate"]],
        rows,
        {4: share},
    )
    chart(ws, "bar", labels["by_source"], len(rows), at="G2")
    rows = [
        [stage[r["stage"]], r["reached"], r["next_rate"] if r["next_rate"] is not None else ""]
        for r in report["funnel"]
    ]
    sheet(labels["funnel"], [labels["stage"], labels["reached"], labels["next"]], rows, {2: share})
    rows = [[stage[r["stage"]], r["days"], r["moves"]] for r in report["time_in_stage"]]
    sheet(labels["time"], [labels["stage"], labels["days"], labels["moves"]], rows, {1: one})
    rows = [[r["month"], r["won"], r["cents"] / 100] for r in report["won_by_month"]]
    ws = sheet(
        labels["months"], [labels["month"], labels["won"], labels["amount"]], rows, {2: money}
    )
    chart(ws, "column", labels["months"], len(rows), col=2)
    rows = [
        [r["name"], r["leads"], r["won"], r["rate"], r["cents"] / 100]
        for r in report["leaderboard"]
    ]
    sheet(
        labels["leaderboard"],
        [labels["seller"], labels["leads"], labels["won"], labels["rate"], labels["amount"]],
        rows,
        {3: share, 4: money},
    )
    book.close()
    return out.getvalue()

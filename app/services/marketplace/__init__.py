"""The expert marketplace (docs/domain.md §9): filters, the relevance score, keyset pages.

Only approved, active experts below their capacity are ever listed; with a product filter, only
those holding it. The relevance score is computed in SQL so it sorts and pages on the database:
speciality level (up to 40) + rating × 5 (up to 25) + completed dossiers (up to 20) + average
rating band (up to 15) + 10 when the expert knows the client's sector. The part owed to the
expert alone is a generated column (`ExpertProfile.relevance_base`, see RELEVANCE_BASE_SQL).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, case, exists, func, literal, not_, or_, tuple_, union_all

from app.core.errors import NotFound
from app.core.numbers import parse_number
from app.core.validators import parse_id
from app.extensions import db
from app.models import (
    ApprovalStatus,
    ExpertiseLevel,
    ExpertProduct,
    ExpertProfile,
    ExpertSector,
    Product,
    Review,
    User,
)
from app.models.user import full_name
from app.services import catalogue

SORTS = ("relevance", "rating", "experience", "fee")
PAGE = 20
LEVEL_POINTS = {
    ExpertiseLevel.EXPERT.value: 40,
    ExpertiseLevel.ADVANCED.value: 30,
    ExpertiseLevel.INTERMEDIATE.value: 20,
    ExpertiseLevel.BEGINNER.value: 10,
}
# the levels as readers see them, in the order a form offers them (cards, profiles, the
# expert's own settings)
LEVEL_NAMES = {
    ExpertiseLevel.BEGINNER.value: _l("beginner"),
    ExpertiseLevel.INTERMEDIATE.value: _l("intermediate"),
    ExpertiseLevel.ADVANCED.value: _l("advanced"),
    ExpertiseLevel.EXPERT.value: _l("expert"),
}
SECTOR_BONUS = 10
MATCH_BANDS = ((80, "excellent"), (60, "very_good"), (40, "good"), (20, "fair"), (0, "basic"))


@dataclass
class Filters:
    product_id: int | None = None
    sector: str | None = None
    location: str = ""
    min_rating: float | None = None
    max_fee: float | None = None
    available: bool = False
    sort: str = "relevance"
    after: str | None = None  # "<sort value>:<id>" of the last row shown
    client_sector: str | None = None  # the bonus sector (a client's own), not a filter

    @classmethod
    def from_args(cls, args, client_sector: str | None = None) -> Filters:
        def number(name):
            try:
                value = float(parse_number(args.get(name) or ""))
            except ValueError:
                return None
            return value if 0 <= value <= 100 else None

        product = args.get("product", "")
        sort = args.get("sort") or "relevance"
        return cls(
            product_id=parse_id(product),
            sector=args.get("sector") or None,
            location=(args.get("location") or "").strip()[:100],
            min_rating=number("min_rating"),
            max_fee=number("max_fee"),
            available=args.get("available") in ("1", "on", "true"),
            sort=sort if sort in SORTS else "relevance",
            after=args.get("after") or None,
            client_sector=client_sector,
        )

    def args(self, **changes) -> dict:
        """The query string for links (the next page, a sort) keeping the other filters."""
        values = {
            "product": self.product_id,
            "sector": self.sector,
            "location": self.location or None,
            "min_rating": self.min_rating,
            "max_fee": self.max_fee,
            "available": "1" if self.available else None,
            "sort": None if self.sort == "relevance" else self.sort,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True, slots=True)
class Row:
    """One result card: plain columns, not ORM objects (twenty of those and their users cost
    more to build than the query takes). Frozen, so equal values are one key for the card
    kept by blueprints/marketplace/cards.py."""

    profile_id: int
    user_id: int
    first_name: str
    last_name: str
    firm_name: str | None
    city: str | None
    department: str | None
    years_experience: int | None
    fee_bp: int
    rating_x100: int
    rating_count: int
    completed_count: int
    score: int
    level: ExpertiseLevel | None

    @property
    def full_name(self) -> str:
        return full_name(self.first_name, self.last_name)

    @property
    def rating(self) -> float:
        return self.rating_x100 / 100

    @property
    def match(self) -> int:
        """The score as the card shows it, out of 100: the sector bonus (10) ranks an expert
        above their equals but cannot make a match better than perfect."""
        return min(self.score, 100)

    @property
    def match_band(self) -> str:
        """Bands (domain.md §9): excellent ≥ 80, very good ≥ 60, good ≥ 40, fair ≥ 20."""
        return next(name for floor, name in MATCH_BANDS if self.match >= floor)


@dataclass
class Page:
    rows: list[Row] = field(default_factory=list)
    next_cursor: str | None = None


def _score(level_col, bonus: str | None):
    """The relevance score in twentieths of a point (an integer: it sorts and pages exactly);
    `bonus` is None, "all" (every row listed knows the bonus sector, as it is also the filter)
    or "exists" (checked per expert against :bonus_sector). Without a product or a bonus it is
    the indexed column itself, so the first page is read in order."""
    score = ExpertProfile.relevance_base
    if level_col is not None:
        specialty = case(*((level_col == v, 20 * p) for v, p in LEVEL_POINTS.items()), else_=0)
        score = score + specialty
    if bonus == "all":
        score = score + 20 * SECTOR_BONUS
    elif bonus == "exists":
        score = score + case((_knows_bonus_sector(), 20 * SECTOR_BONUS), else_=0)
    return score


# what a result card shows from the profile (not the bio, certifications or decision notes of
# 20 experts); the statement returns Row's fields in Row's order (the first two of these, the
# names, the rest, the score, the level) and search() builds each Row from the tuple as it comes
CARD_COLUMNS = (
    ExpertProfile.id,
    ExpertProfile.user_id,
    ExpertProfile.firm_name,
    ExpertProfile.city,
    ExpertProfile.department,
    ExpertProfile.years_experience,
    ExpertProfile.fee_bp,
    ExpertProfile.rating_x100,
    ExpertProfile.rating_count,
    ExpertProfile.completed_count,
)


@dataclass(frozen=True)
class _Shape:
    """Which clauses a search has; the values travel as bound parameters."""

    product: bool
    sector: bool
    location: bool
    min_rating: bool
    max_fee: bool
    available: bool
    sort: str
    after: bool
    bonus: str | None
    limit: int


def _knows_bonus_sector():
    return exists().where(
        ExpertSector.expert_id == ExpertProfile.id,
        ExpertSector.sector == bindparam("bonus_sector"),
    )


def _candidates(shape: _Shape, score, level_col, column, descending: bool, *where, shift=0):
    """The page's rows chosen on expert_profiles alone (the names are joined afterwards), in
    the order of `column` + `shift`: the order of `column` alone, which an index may hold."""
    # as ix_users_inactive says it; NOT EXISTS rather than NOT IN, which the planner takes for
    # a filter keeping half the rows and then scans every expert instead of a product's holders
    deactivated = exists().where(User.id == ExpertProfile.user_id, not_(User.active))
    query = db.select(
        *CARD_COLUMNS,
        score.label("score"),
        (level_col if level_col is not None else literal(None)).label("level"),
        (column + shift if shift else column).label("sort_key"),
    ).where(
        ExpertProfile.approval_status == ApprovalStatus.APPROVED,
        ExpertProfile.active_dossiers < ExpertProfile.capacity,
        ~deactivated,
        *where,
    )
    if shape.product:
        query = query.join(
            ExpertProduct,
            (ExpertProduct.expert_id == ExpertProfile.id)
            & (ExpertProduct.product_id == bindparam("product_id"))
            & ExpertProduct.active.is_(True),
        )
    if shape.sector:
        query = query.where(
            exists().where(
                ExpertSector.expert_id == ExpertProfile.id,
                ExpertSector.sector == bindparam("sector"),
            )
        )
    if shape.location:
        query = query.where(
            or_(
                func.lower(ExpertProfile.city).like(bindparam("city_pattern")),
                ExpertProfile.department == bindparam("department"),
            )
        )
    if shape.min_rating:
        query = query.where(ExpertProfile.rating_x100 >= bindparam("min_rating"))
    if shape.max_fee:
        query = query.where(ExpertProfile.fee_bp <= bindparam("max_fee"))
    if shape.available:
        query = query.where(ExpertProfile.available.is_(True))
    # ties go by id in the key's direction: the page is then one row comparison, which an
    # index on (key, id) answers from where the last page stopped, read backwards if need be
    if shape.after:
        mark = tuple_(column, ExpertProfile.id)
        value = bindparam("after_value", type_=Integer)
        last = tuple_(value - shift if shift else value, bindparam("after_id"))
        query = query.where(mark < last if descending else mark > last)
    if descending:
        query = query.order_by(column.desc(), ExpertProfile.id.desc())
    else:
        query = query.order_by(column.asc(), ExpertProfile.id.asc())
    return query.limit(shape.limit + 1)


@functools.lru_cache(maxsize=512)
def _statement(shape: _Shape):
    """The search's SELECT for one shape, built once per process: building the expression tree
    and its cache key again for every request cost more than running it on PostgreSQL.

    The page is chosen on expert_profiles alone and only its rows are joined to their accounts
    for the names: a deactivated account is one lookup in the (small, indexed) set of inactive
    users, not a join of every candidate to the users table, which cost 20 ms of the 45 an
    unfiltered search took at 10 000 experts."""
    level_col = ExpertProduct.level if shape.product else None
    descending = shape.sort != "fee"
    if shape.sort == "relevance" and shape.bonus == "exists" and not shape.product:
        # A client's own sector adds 10 points to the experts who know it. Scoring everyone to
        # find them is a pass over every expert (9 ms at 10 000); as two lists each read in
        # relevance_base order from its index, those who know the sector and the others, it
        # is twice a page (1.4 ms). The best of both is the page.
        bonus = 20 * SECTOR_BONUS
        base = ExpertProfile.relevance_base
        knows = _knows_bonus_sector()
        lists = (
            _candidates(shape, base + bonus, None, base, True, knows, shift=bonus),
            _candidates(shape, base, None, base, True, ~knows),
        )
        # each list a subquery: SQLite takes no ORDER BY or LIMIT inside a UNION's members
        page = union_all(*(db.select(*q.subquery().c) for q in lists)).subquery("page")
    else:
        score = _score(level_col, shape.bonus)
        key = {
            "relevance": score,
            "rating": ExpertProfile.rating_x100,
            "experience": func.coalesce(ExpertProfile.years_experience, 0),
            "fee": ExpertProfile.fee_bp,
        }[shape.sort]
        page = _candidates(shape, score, level_col, key, descending).subquery("page")
    order = (page.c.sort_key, page.c.id)
    return (
        db.select(
            page.c.id,
            page.c.user_id,
            User.first_name,
            User.last_name,
            *(page.c[column.key] for column in CARD_COLUMNS[2:]),
            page.c.score,
            page.c.level,
        )
        .join(User, User.id == page.c.user_id)
        .order_by(*(c.desc() if descending else c.asc() for c in order))
        .limit(shape.limit + 1)
    )


def _cursor(after: str | None) -> tuple[int, int] | None:
    try:
        raw_value, raw_id = (after or "").rsplit(":", 1)
        value, last_id = int(raw_value), int(raw_id)
    except ValueError:
        return None  # a mangled link: the first page
    if not (0 <= value < 2**31 and 0 <= last_id < 2**31):
        return None  # nor can it name a page (every key is a non-negative 32-bit integer)
    return value, last_id


def search(f: Filters, limit: int = PAGE) -> Page:
    bonus_sector = f.client_sector or f.sector
    if bonus_sector and bonus_sector == f.sector:
        bonus = "all"
    else:
        bonus = "exists" if bonus_sector else None
    cursor = _cursor(f.after)
    params = {
        "product_id": f.product_id,
        "sector": f.sector,
        "bonus_sector": bonus_sector,
        "city_pattern": f"%{f.location.lower()}%",
        "department": f.location.upper()[:3],
        "min_rating": None if f.min_rating is None else int(f.min_rating * 100),
        "max_fee": None if f.max_fee is None else int(f.max_fee * 100),
        "after_value": cursor[0] if cursor else None,
        "after_id": cursor[1] if cursor else None,
    }
    shape = _Shape(
        product=f.product_id is not None,
        sector=bool(f.sector),
        location=bool(f.location),
        min_rating=f.min_rating is not None,
        max_fee=f.max_fee is not None,
        available=f.available,
        sort=f.sort,
        after=cursor is not None,
        bonus=bonus,
        limit=limit,
    )
    rows = db.session.execute(_statement(shape), params).all()  # unnamed parameters are unused
    page = Page(rows=[Row(*r[:12], round(r[12] / 20), r[13]) for r in rows[:limit]])
    if len(rows) > limit:
        last = page.rows[-1]
        value = {
            "relevance": rows[limit - 1][12],
            "rating": last.rating_x100,
            "experience": last.years_experience or 0,
            "fee": last.fee_bp,
        }[f.sort]
        page.next_cursor = f"{value}:{last.profile_id}"
    return page


def products() -> list[Product]:

    return catalogue.products(active_only=True)  # the process's catalogue snapshot


def profile(user_id: int) -> tuple[ExpertProfile, list[Review]]:
    """A public expert page: approved experts only (anyone else is a 404)."""
    expert = db.session.scalar(
        db.select(ExpertProfile)
        .join(User, User.id == ExpertProfile.user_id)
        .where(
            ExpertProfile.user_id == user_id,
            ExpertProfile.approval_status == ApprovalStatus.APPROVED,
            User.active.is_(True),
        )
    )
    if expert is None:
        raise NotFound()
    reviews = list(
        db.session.scalars(
            db.select(Review)
            .where(Review.expert_id == user_id, Review.hidden_at.is_(None))
            .order_by(Review.id.desc())
            .limit(50)
        )
    )
    return expert, reviews

"""The expert marketplace (B §7.4): filters, the relevance score, keyset pages.

Only approved, active experts below their capacity are ever listed; with a product filter, only
those holding it. The relevance score is computed in SQL so it sorts and pages on the database:
speciality level (up to 40) + rating × 5 (up to 25) + completed dossiers (up to 20) + average
rating band (up to 15) + 10 when the expert knows the client's sector.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import Float, bindparam, case, exists, func, literal, or_

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
from app.services.errors import NotFound

SORTS = ("relevance", "rating", "experience", "fee")
PAGE = 20
LEVEL_POINTS = {
    ExpertiseLevel.EXPERT.value: 40,
    ExpertiseLevel.ADVANCED.value: 30,
    ExpertiseLevel.INTERMEDIATE.value: 20,
    ExpertiseLevel.BEGINNER.value: 10,
}


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
            raw = (args.get(name) or "").replace(",", ".").strip()
            try:
                value = float(raw)
            except ValueError:
                return None
            return value if 0 <= value <= 100 else None

        product = args.get("product", "")
        sort = args.get("sort") or "relevance"
        return cls(
            product_id=int(product) if product.isdigit() else None,
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


@dataclass(slots=True)
class Row:
    """One result card: plain columns, not ORM objects (twenty of those and their users cost
    more to build than the query takes)."""

    profile_id: int
    user_id: int
    first_name: str
    last_name: str
    cabinet_name: str | None
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


@dataclass
class Page:
    rows: list[Row] = field(default_factory=list)
    next_cursor: str | None = None


def _score(level_col, bonus: str | None):
    """The relevance score; `bonus` is None, "all" (every row listed knows the bonus sector, as
    it is also the filter) or "exists" (checked per expert against :bonus_sector)."""
    specialty = (
        case(*((level_col == v, p) for v, p in LEVEL_POINTS.items()), else_=0)
        if level_col is not None
        else literal(0)
    )
    completed = case(
        (ExpertProfile.completed_count >= 20, 20),
        (ExpertProfile.completed_count >= 10, 15),
        (ExpertProfile.completed_count >= 5, 10),
        (ExpertProfile.completed_count >= 1, 5),
        else_=0,
    )
    band = case(
        (ExpertProfile.rating_x100 >= 450, 15),
        (ExpertProfile.rating_x100 >= 400, 12),
        (ExpertProfile.rating_x100 >= 350, 8),
        (ExpertProfile.rating_x100 >= 300, 4),
        else_=0,
    )
    score = specialty + ExpertProfile.rating_x100 / 20 + completed + band
    if bonus == "all":
        score = score + 10
    elif bonus == "exists":
        knows = exists().where(
            ExpertSector.expert_id == ExpertProfile.id,
            ExpertSector.sector == bindparam("bonus_sector"),
        )
        score = score + case((knows, 10), else_=0)
    return score


# what a result card shows (not the bio, certifications or decision notes of 20 experts), in
# the order of Row's first fields: search() builds each Row from the tuple as it comes
CARD_COLUMNS = (
    ExpertProfile.id,
    ExpertProfile.user_id,
    User.first_name,
    User.last_name,
    ExpertProfile.cabinet_name,
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


@functools.lru_cache(maxsize=512)
def _statement(shape: _Shape):
    """The search's SELECT for one shape, built once per process: building the expression tree
    and its cache key again for every request cost more than running it on PostgreSQL."""
    level_col = ExpertProduct.level if shape.product else None
    score_expr = _score(level_col, shape.bonus)
    columns = [*CARD_COLUMNS, score_expr.label("score")]
    columns.append(level_col if level_col is not None else literal(None))
    query = (
        db.select(*columns)
        .join(User, User.id == ExpertProfile.user_id)
        .where(
            ExpertProfile.approval_status == ApprovalStatus.APPROVED,
            User.active.is_(True),
            ExpertProfile.active_dossiers < ExpertProfile.capacity,
        )
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
    key, descending = {
        "relevance": (score_expr, True),
        "rating": (ExpertProfile.rating_x100, True),
        "experience": (func.coalesce(ExpertProfile.years_experience, 0), True),
        "fee": (ExpertProfile.fee_bp, False),
    }[shape.sort]
    if shape.after:
        value = bindparam("after_value", type_=Float)
        beyond = key < value if descending else key > value
        query = query.where(
            or_(beyond, (key == value) & (ExpertProfile.id > bindparam("after_id")))
        )
    query = query.order_by(key.desc() if descending else key.asc(), ExpertProfile.id)
    return query.limit(shape.limit + 1)


def _cursor(after: str | None) -> tuple[float, int] | None:
    try:
        raw_value, raw_id = (after or "").rsplit(":", 1)
        return float(raw_value), int(raw_id)
    except ValueError:
        return None  # a mangled link: the first page


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
    page = Page(rows=[Row(*r[:12], int(round(float(r[12]))), r[13]) for r in rows[:limit]])
    if len(rows) > limit:
        last = page.rows[-1]
        value = {
            "relevance": float(rows[limit - 1][12]),
            "rating": last.rating_x100,
            "experience": last.years_experience or 0,
            "fee": last.fee_bp,
        }[f.sort]
        page.next_cursor = f"{value:g}:{last.profile_id}"
    return page


def products() -> list[Product]:
    from app.services import catalogue

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

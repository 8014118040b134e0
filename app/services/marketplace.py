"""The expert marketplace (B §7.4): filters, the relevance score, keyset pages.

Only approved, active experts below their capacity are ever listed; with a product filter, only
those holding it. The relevance score is computed in SQL so it sorts and pages on the database:
speciality level (up to 40) + rating × 5 (up to 25) + completed dossiers (up to 20) + average
rating band (up to 15) + 10 when the expert knows the client's sector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, exists, func, literal, or_

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


@dataclass
class Row:
    profile: ExpertProfile
    score: int
    level: str | None

    @property
    def user(self) -> User:
        return self.profile.user


@dataclass
class Page:
    rows: list[Row] = field(default_factory=list)
    next_cursor: str | None = None


def _score(level_col, bonus_sector: str | None, filtered_sector: str | None = None):
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
    if bonus_sector and bonus_sector == filtered_sector:  # every row listed knows it
        score = score + 10
    elif bonus_sector:
        knows = exists().where(
            ExpertSector.expert_id == ExpertProfile.id, ExpertSector.sector == bonus_sector
        )
        score = score + case((knows, 10), else_=0)
    return score


# what a result card shows (not the bio, certifications or decision notes of 20 experts)
CARD_PROFILE = (
    ExpertProfile.user_id,
    ExpertProfile.cabinet_name,
    ExpertProfile.city,
    ExpertProfile.department,
    ExpertProfile.years_experience,
    ExpertProfile.fee_bp,
    ExpertProfile.rating_x100,
    ExpertProfile.rating_count,
    ExpertProfile.completed_count,
)


def search(f: Filters, limit: int = PAGE) -> Page:
    level_col = ExpertProduct.level if f.product_id else None
    score_expr = _score(level_col, f.client_sector or f.sector, f.sector)
    score = score_expr.label("score")
    columns = [ExpertProfile, score, level_col if level_col is not None else literal(None)]
    query = (
        db.select(*columns)
        .join(User, User.id == ExpertProfile.user_id)
        .where(
            ExpertProfile.approval_status == ApprovalStatus.APPROVED,
            User.active.is_(True),
            ExpertProfile.active_dossiers < ExpertProfile.capacity,
        )
        .options(
            db.load_only(*CARD_PROFILE),
            db.contains_eager(ExpertProfile.user).load_only(User.first_name, User.last_name),
        )
    )
    if f.product_id:
        query = query.join(
            ExpertProduct,
            (ExpertProduct.expert_id == ExpertProfile.id)
            & (ExpertProduct.product_id == f.product_id)
            & ExpertProduct.active.is_(True),
        )
    if f.sector:
        query = query.where(
            exists().where(
                ExpertSector.expert_id == ExpertProfile.id, ExpertSector.sector == f.sector
            )
        )
    if f.location:
        pattern = f"%{f.location.lower()}%"
        query = query.where(
            or_(
                func.lower(ExpertProfile.city).like(pattern),
                ExpertProfile.department == f.location.upper()[:3],
            )
        )
    if f.min_rating is not None:
        query = query.where(ExpertProfile.rating_x100 >= int(f.min_rating * 100))
    if f.max_fee is not None:
        query = query.where(ExpertProfile.fee_bp <= int(f.max_fee * 100))
    if f.available:
        query = query.where(ExpertProfile.available.is_(True))
    key, descending = {
        "relevance": (score, True),
        "rating": (ExpertProfile.rating_x100, True),
        "experience": (func.coalesce(ExpertProfile.years_experience, 0), True),
        "fee": (ExpertProfile.fee_bp, False),
    }[f.sort]
    if f.sort == "relevance":
        key = score_expr  # the expression, not the label
    if f.after:
        try:
            raw_value, raw_id = f.after.rsplit(":", 1)
            value, last_id = float(raw_value), int(raw_id)
        except ValueError:
            value = last_id = None
        if last_id is not None:
            beyond = key < value if descending else key > value
            query = query.where(or_(beyond, (key == value) & (ExpertProfile.id > last_id)))
    query = query.order_by(key.desc() if descending else key.asc(), ExpertProfile.id)
    rows = db.session.execute(query.limit(limit + 1)).all()
    page = Page(rows=[Row(profile, int(round(float(s))), lvl) for profile, s, lvl in rows[:limit]])
    if len(rows) > limit:
        last = page.rows[-1]
        value = {
            "relevance": float(rows[limit - 1][1]),
            "rating": last.profile.rating_x100,
            "experience": last.profile.years_experience or 0,
            "fee": last.profile.fee_bp,
        }[f.sort]
        page.next_cursor = f"{value:g}:{last.profile.id}"
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

"""The catalogue as data (domain.md §2): products, the simulator's questions, eligibility rules.

Admins edit all three; formulas stay code (`app/services/formulas.py`), referenced by code and
version, so an edit never changes how a stored estimate was computed.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow


class ProductKind(enum.StrEnum):
    FINANCIAL = "financial"  # has an estimated amount
    QUALITATIVE = "qualitative"  # benefits only


class QuestionKind(enum.StrEnum):
    SINGLE = "single"  # one of `options`
    MULTIPLE = "multiple"  # any of `options`
    NUMBER = "number"  # a non-negative number, bounded by `max_value`


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(80))
    kind: Mapped[ProductKind] = mapped_column(_enum(ProductKind, "product_kind"))
    # empty list = every sector
    sectors: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    formula_code: Mapped[str] = mapped_column(String(40))
    formula_version: Mapped[int] = mapped_column(default=1)
    # named numbers the formula reads (rates, flat amounts, bracket amounts); admins edit them
    constants: Mapped[dict] = mapped_column(JSON, default=dict)
    display_note: Mapped[str] = mapped_column(Text, default="")
    benefits: Mapped[list] = mapped_column(JSON, default=list)
    duration_min_months: Mapped[int | None]
    duration_max_months: Mapped[int | None]
    # {"<step>": ["document", ...]}: the checklist the dossier workflow asks for at each step
    documents: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    rule: Mapped[EligibilityRule | None] = relationship(
        back_populates="product", uselist=False, cascade="all, delete-orphan"
    )

    @property
    def is_financial(self) -> bool:
        return self.kind == ProductKind.FINANCIAL


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(index=True)
    section: Mapped[str] = mapped_column(String(40), default="general")
    text: Mapped[str] = mapped_column(Text)
    help: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind, "question_kind"))
    options: Mapped[list] = mapped_column(JSON, default=list)
    # legacy bracket labels accepted for a number question, mapped to a number (docs/domain.md §2)
    brackets: Mapped[dict] = mapped_column(JSON, default=dict)
    unit: Mapped[str] = mapped_column(String(20), default="")
    max_value: Mapped[float | None]
    step: Mapped[float | None]
    required: Mapped[bool] = mapped_column(default=True)
    # None = always shown; else a rule (same grammar as eligibility rules) on earlier answers
    condition: Mapped[dict | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EligibilityRule(Base):
    """One rule per product: a condition tree on answers (see `app/services/rules.py`)."""

    __tablename__ = "eligibility_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), unique=True
    )
    condition: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="rule")

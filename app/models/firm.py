"""Firms of experts (docs/security.md "Firms"): members, invitations, minimum fees."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.user import User


class FirmRole(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    EXPERT = "expert"
    ASSISTANT = "assistant"


class Firm(Base):
    """A firm of experts. Its owner sets, per product, the lowest fee its experts may negotiate
    (docs/domain.md §6: no minimum for a product = no negotiation) and sees the team's dossiers."""

    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[FirmMember]] = relationship(
        back_populates="firm", cascade="all, delete-orphan"
    )
    product_fees: Mapped[list[FirmProduct]] = relationship(cascade="all, delete-orphan")

    def min_fee_bp(self, product_id: int) -> int | None:
        return next((p.min_fee_bp for p in self.product_fees if p.product_id == product_id), None)


class FirmMember(Base):
    __tablename__ = "firm_members"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[FirmRole] = mapped_column(_enum(FirmRole, "firm_role"))

    firm: Mapped[Firm] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    REVOKED = "revoked"


class FirmInvitation(Base):
    """A firm asks an expert to join; the expert decides from their own account. Membership
    (and with it the firm's sight of the expert's dossiers) exists only once they accept."""

    __tablename__ = "firm_invitations"
    __table_args__ = (
        # one open invitation per (firm, expert): asking twice is one question
        Index(
            "ix_firm_invitations_open",
            "firm_id",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[FirmRole] = mapped_column(_enum(FirmRole, "firm_role"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[InvitationStatus] = mapped_column(
        _enum(InvitationStatus, "invitation_status"), default=InvitationStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    firm: Mapped[Firm] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class FirmProduct(Base):
    __tablename__ = "firm_products"
    __table_args__ = (UniqueConstraint("firm_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    min_fee_bp: Mapped[int | None]

"""Dossier documents (docs/domain.md §5): checklist uploads, versions, reviews and who saw them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.user import User


class DocumentStep(enum.StrEnum):
    ELIGIBILITY = "eligibility"  # step 1, reviewed by an admin
    COMPLEMENTARY = "complementary"  # step 3, asked and reviewed by the expert
    AUDIT = "audit"  # the expert's report files
    SUBMISSION = "submission"  # acknowledgement and decision from the administration


class DocumentStatus(enum.StrEnum):
    PENDING = "pending"
    VALIDATED = "validated"
    REJECTED = "rejected"


class Document(Base):
    """One version of one file. A replacement is a new row pointing at the one it replaces
    (`parent_id`); only the newest version (`superseded_at` empty) counts in a checklist.

    Company documents (Kbis, RIB) have no dossier: one upload serves all the client's dossiers.
    """

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_dossier_current", "dossier_id", "superseded_at"),
        Index("ix_documents_client_company", "client_id", "dossier_id", "label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    step: Mapped[DocumentStep] = mapped_column(_enum(DocumentStep, "document_step"))
    # the checklist entry it answers ("Extrait Kbis de moins de 3 mois", a requested item...)
    label: Mapped[str] = mapped_column(String(200))
    request_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_request_items.id", ondelete="SET NULL")
    )
    storage_key: Mapped[str] = mapped_column(String(200))
    # shown to people only, never used as a path
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    superseded_at: Mapped[datetime | None]
    status: Mapped[DocumentStatus] = mapped_column(
        _enum(DocumentStatus, "document_status"), default=DocumentStatus.PENDING
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def is_company_document(self) -> bool:
        return self.dossier_id is None


class DocumentAccess(Base):
    """Every view and download, so the client sees "viewed by your expert on …"."""

    __tablename__ = "document_accesses"
    __table_args__ = (Index("ix_document_accesses_document", "document_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16), default="download")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentRequest(Base):
    """The expert's list of complementary documents (docs/domain.md §5 step 3), with a message."""

    __tablename__ = "document_requests"
    # "the dossier's latest request" is one probe of this index: with the dossier alone,
    # PostgreSQL walks the whole primary key backwards for a dossier that has none
    __table_args__ = (Index("ix_document_requests_dossier_latest", "dossier_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[DocumentRequestItem]] = relationship(
        back_populates="request",
        order_by="DocumentRequestItem.position",
        cascade="all, delete-orphan",
    )


class DocumentRequestItem(Base):
    __tablename__ = "document_request_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("document_requests.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    request: Mapped[DocumentRequest] = relationship(back_populates="items")

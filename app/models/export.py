"""A document built from a simulation by the exports worker: the row is what the page shows
(status and progress), the file lives in storage under a random key and dies after 7 days."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, _enum, utcnow
from app.models.simulation import Simulation


class ExportFormat(enum.StrEnum):
    XLSX = "xlsx"
    DOCX = "docx"
    PDF = "pdf"


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Export(Base):
    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    simulation_id: Mapped[int] = mapped_column(
        ForeignKey("simulations.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[ExportFormat] = mapped_column(_enum(ExportFormat, "export_format"))
    status: Mapped[ExportStatus] = mapped_column(
        _enum(ExportStatus, "export_status"), default=ExportStatus.QUEUED
    )
    progress: Mapped[int] = mapped_column(default=0)  # percent, for the progress bar
    locale: Mapped[str] = mapped_column(String(8), default="fr")  # the requester's language
    storage_key: Mapped[str | None] = mapped_column(String(80))
    filename: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    simulation: Mapped[Simulation] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

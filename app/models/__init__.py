"""Central models: every aggregate is importable from here (workers and Alembic need no views)."""

from app.models.audit import AuditLog
from app.models.base import Base, utcnow
from app.models.catalogue import EligibilityRule, Product, ProductKind, Question, QuestionKind
from app.models.dossier import ESTIMATE_UPDATABLE, DetailedEstimate, Dossier, DossierStatus
from app.models.email import Email, EmailStatus
from app.models.export import Export, ExportFormat, ExportStatus
from app.models.notification import Notification, Priority
from app.models.simulation import FunnelEvent, FunnelStep, Simulation, SimulationStatus
from app.models.user import (
    SECTORS,
    ApporteurProfile,
    ApporteurStatus,
    ApprovalStatus,
    ClientProfile,
    CompanyType,
    ExpertProfile,
    PasswordResetToken,
    Role,
    User,
)

__all__ = [
    "ESTIMATE_UPDATABLE",
    "DetailedEstimate",
    "Dossier",
    "DossierStatus",
    "EligibilityRule",
    "FunnelEvent",
    "FunnelStep",
    "Product",
    "ProductKind",
    "Question",
    "QuestionKind",
    "Simulation",
    "SimulationStatus",
    "SECTORS",
    "ApporteurProfile",
    "ApporteurStatus",
    "ApprovalStatus",
    "AuditLog",
    "Base",
    "ClientProfile",
    "CompanyType",
    "Email",
    "EmailStatus",
    "Export",
    "ExportFormat",
    "ExportStatus",
    "ExpertProfile",
    "Notification",
    "PasswordResetToken",
    "Priority",
    "Role",
    "User",
    "utcnow",
]

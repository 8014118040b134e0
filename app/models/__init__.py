"""Central models: every aggregate is importable from here (workers and Alembic need no views)."""

from app.models.audit import AuditLog
from app.models.base import Base, utcnow
from app.models.catalogue import EligibilityRule, Product, ProductKind, Question, QuestionKind
from app.models.document import (
    Document,
    DocumentAccess,
    DocumentRequest,
    DocumentRequestItem,
    DocumentStatus,
    DocumentStep,
)
from app.models.dossier import (
    ESTIMATE_UPDATABLE,
    Decision,
    DetailedEstimate,
    Dossier,
    DossierEvent,
    DossierStatus,
    Party,
)
from app.models.email import Email, EmailStatus
from app.models.export import Export, ExportFormat, ExportStatus
from app.models.invoice import Invoice, InvoiceSequence
from app.models.messaging import (
    Message,
    MessageAttachment,
    MessageKind,
    Thread,
    ThreadKind,
    ThreadParticipant,
)
from app.models.notification import Notification, Priority
from app.models.preferences import (
    NotificationPreference,
    NotificationSettings,
    PushSubscription,
)
from app.models.review import Review
from app.models.simulation import FunnelEvent, FunnelStep, Simulation, SimulationStatus
from app.models.user import (
    SECTORS,
    ApporteurProfile,
    ApporteurStatus,
    ApprovalStatus,
    Cabinet,
    CabinetMember,
    CabinetProduct,
    CabinetRole,
    ClientProfile,
    CompanyType,
    ExpertiseLevel,
    ExpertProduct,
    ExpertProfile,
    ExpertSector,
    PasswordResetToken,
    Role,
    User,
)

__all__ = [
    "NotificationPreference",
    "NotificationSettings",
    "PushSubscription",
    "Message",
    "MessageAttachment",
    "MessageKind",
    "Thread",
    "ThreadKind",
    "ThreadParticipant",
    "Cabinet",
    "CabinetMember",
    "CabinetProduct",
    "CabinetRole",
    "ExpertSector",
    "Review",
    "ESTIMATE_UPDATABLE",
    "Decision",
    "Document",
    "DocumentAccess",
    "DocumentRequest",
    "DocumentRequestItem",
    "DocumentStatus",
    "DocumentStep",
    "DossierEvent",
    "ExpertProduct",
    "Invoice",
    "InvoiceSequence",
    "ExpertiseLevel",
    "Party",
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

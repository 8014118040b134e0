"""Central models: every aggregate is importable from here (workers and Alembic need no views)."""

from app.models.audit import AuditLog
from app.models.base import PARIS, Base, utcnow
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
from app.models.firm import (
    Firm,
    FirmInvitation,
    FirmMember,
    FirmProduct,
    FirmRole,
    InvitationStatus,
)
from app.models.invoice import Invoice, InvoiceSequence
from app.models.login import LoginThrottle, PasswordResetToken, UserSession
from app.models.messaging import (
    Message,
    MessageAttachment,
    MessageKind,
    Thread,
    ThreadKind,
    ThreadParticipant,
)
from app.models.notification import Notification, Priority
from app.models.outbox import OutboxEntry
from app.models.preferences import (
    NotificationPreference,
    NotificationSettings,
    PushDelivery,
    PushStatus,
    PushSubscription,
)
from app.models.profiles import (
    SECTORS,
    ApprovalStatus,
    ClientProfile,
    CompanyType,
    ExpertiseLevel,
    ExpertProduct,
    ExpertProfile,
    ExpertSector,
    ReferrerProfile,
    ReferrerStatus,
)
from app.models.review import Review
from app.models.simulation import FunnelEvent, FunnelStep, Simulation, SimulationStatus
from app.models.user import Role, User

__all__ = [
    "PARIS",
    "NotificationPreference",
    "NotificationSettings",
    "PushDelivery",
    "PushStatus",
    "PushSubscription",
    "Message",
    "MessageAttachment",
    "MessageKind",
    "Thread",
    "ThreadKind",
    "ThreadParticipant",
    "Firm",
    "FirmInvitation",
    "FirmMember",
    "FirmProduct",
    "FirmRole",
    "InvitationStatus",
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
    "ReferrerProfile",
    "ReferrerStatus",
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
    "LoginThrottle",
    "Notification",
    "OutboxEntry",
    "PasswordResetToken",
    "Priority",
    "Role",
    "User",
    "UserSession",
    "utcnow",
]

from .audit import AuditEntry
from .districts import District
from .documents import Document
from .notifications import Delivery, Notification, NotificationPreference
from .organisations import Membership, Organisation
from .parameters import Parameter
from .privacy import DeletionRequest, pseudonym_for
from .profiles import ApplicantProfile, Consent
from .users import User

__all__ = [
    "ApplicantProfile",
    "AuditEntry",
    "Consent",
    "DeletionRequest",
    "Delivery",
    "District",
    "Document",
    "Membership",
    "Notification",
    "NotificationPreference",
    "Organisation",
    "Parameter",
    "User",
    "pseudonym_for",
]

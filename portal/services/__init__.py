"""Every write of the portal core. Views, the API, admin actions, tasks and commands call
these functions; forms and serializers only validate input."""

from .accounts import staff_role_set
from .audit import audit_record
from .deletion import (
    DeletionRefused,
    deletion_execute,
    deletion_obligations,
    deletion_request,
    retention_run,
)
from .documents import document_delete, document_upload
from .notifications import (
    delivery_mark_failed,
    delivery_send,
    notification_preference_update,
    notifications_mark_read,
    notify,
    notify_many,
)
from .organisations import (
    organisation_register,
    organisation_reject,
    organisation_update,
    organisation_verify,
)
from .profiles import (
    consent_give,
    consent_withdraw,
    profile_add_volunteer_hours,
    profile_get_or_create,
    profile_record_employment,
    profile_unmask_id_number,
    profile_update,
)
from .workflow import TransitionNotAllowed, transition

__all__ = [
    "DeletionRefused",
    "TransitionNotAllowed",
    "audit_record",
    "consent_give",
    "consent_withdraw",
    "delivery_mark_failed",
    "delivery_send",
    "deletion_execute",
    "deletion_obligations",
    "deletion_request",
    "document_delete",
    "document_upload",
    "notification_preference_update",
    "notifications_mark_read",
    "notify",
    "notify_many",
    "organisation_register",
    "organisation_reject",
    "organisation_update",
    "organisation_verify",
    "profile_add_volunteer_hours",
    "profile_get_or_create",
    "profile_record_employment",
    "profile_unmask_id_number",
    "profile_update",
    "retention_run",
    "staff_role_set",
    "transition",
]

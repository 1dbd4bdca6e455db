from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from portal.constants import AuditAction
from portal.models import AuditEntry, User


def audit_record(
    *,
    actor: User | None,
    action: AuditAction | str,
    target: Model,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the audit trail of ``target``."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        content_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        object_id=str(target.pk),
        from_status=str(from_status or ""),
        to_status=str(to_status or ""),
        reason=reason or "",
        detail=detail or {},
    )

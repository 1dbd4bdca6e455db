from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from portal.constants import AuditAction
from portal.models import AuditEntry, User
from portal.workflow import workflow_for

from .audit import audit_record
from .notifications import notify


class TransitionNotAllowed(ValidationError):
    pass


def transition(*, obj: Model, to: str, actor: User | None, reason: str = "") -> AuditEntry:
    """Move ``obj`` to status ``to``: lock the row, check the step is in the model's table
    and the actor may take it, save, write the audit entry, and notify (deliveries are
    queued on commit). ``obj`` is updated in place."""
    workflow = workflow_for(obj)
    field = workflow.status_field
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        source = getattr(locked, field)
        step = workflow.get(source, to)
        if step is None:
            raise TransitionNotAllowed(
                _("This record cannot go from “%(source)s” to “%(target)s”.")
                % {"source": _label(locked, field, source), "target": _label(locked, field, to)},
                code="transition_not_allowed",
            )
        if actor is not None and not step.allowed(actor, locked):
            raise PermissionDenied(_("You may not take this decision."))
        if step.requires_reason and not reason:
            raise ValidationError(_("Please give a reason for this decision."), code="reason_required")
        setattr(locked, field, to)
        update_fields = {field}
        if step.apply is not None:
            update_fields.update(step.apply(locked, actor, reason) or ())
        if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
            update_fields.add("updated_at")
        locked.save(update_fields=sorted(update_fields))
        entry = audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            target=locked,
            from_status=source,
            to_status=to,
            reason=reason,
        )
        if step.notify is not None:
            for user, kind, context in step.notify(locked, entry):
                notify(user=user, kind=kind, context=context)
    for f in update_fields:
        setattr(obj, f, getattr(locked, f))
    return entry


def _label(obj: Model, field: str, value: str) -> str:
    choices = dict(obj._meta.get_field(field).choices or ())
    return str(choices.get(value, value))

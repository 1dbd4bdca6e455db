from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.constants import AuditAction


class AuditEntry(models.Model):
    """Who did what to which record: status changes (the StatusChange of DESIGN.md), staff
    decisions, and every unmasking of personal data. Append-only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("record type"))
    object_id = models.CharField(_("record"), max_length=40)
    target = GenericForeignKey("content_type", "object_id")
    from_status = models.CharField(_("from"), max_length=30, blank=True)
    to_status = models.CharField(_("to"), max_length=30, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.from_status}→{self.to_status}"

    def status_label(self, value: str) -> str:
        """A status code as the record's model names it, in the reader's language."""
        from portal.workflow import workflow_for

        model = self.content_type.model_class()
        try:
            field = workflow_for(model).status_field
        except LookupError:
            # No workflow: a status or state field with choices (rounds, leases, units) is
            # still named in words; anything else (e.g. a profile) stays as it is.
            names = {f.name for f in model._meta.concrete_fields if f.choices} if model else set()
            field = next((name for name in ("status", "state") if name in names), None)
            if field is None:
                return value
        return str(dict(model._meta.get_field(field).choices or ()).get(value, value))

    @property
    def from_label(self) -> str:
        return self.status_label(self.from_status) if self.from_status else ""

    @property
    def to_label(self) -> str:
        return self.status_label(self.to_status) if self.to_status else ""

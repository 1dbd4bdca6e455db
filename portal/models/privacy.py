from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.constants import DeletionStatus


def pseudonym_for(user_id: int) -> str:
    """What the portal calls a person after their account was deleted: in staff lists, the
    audit trail and every kept decision. Stored as data, so it reads the same in every
    language and in every export made later."""
    return f"已注销用户 #{user_id}"


class DeletionRequest(models.Model):
    """A graduate's request to delete their account (PIPL art. 47). The account is closed
    at once; ``portal.services.deletion_execute`` then anonymises the personal data and
    keeps the decisions (ADR 0009). One per account: an account is deleted once."""

    Status = DeletionStatus

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="deletion_request",
        verbose_name=_("account"),
    )
    pseudonym = models.CharField(_("pseudonym"), max_length=40)
    # The district of the profile when the request was made: the staff who may see it.
    district = models.ForeignKey(
        "portal.District",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeletionStatus.choices, default=DeletionStatus.REQUESTED, db_index=True
    )
    # Open applications the request withdrew, as "app_label.model #pk" references.
    withdrawn = models.JSONField(_("withdrawn on request"), default=list, blank=True)
    # How many rows each part of the portal anonymised or removed.
    summary = models.JSONField(_("what was anonymised"), default=dict, blank=True)
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("account deletion request")
        verbose_name_plural = _("account deletion requests")

    def __str__(self) -> str:
        return self.pseudonym

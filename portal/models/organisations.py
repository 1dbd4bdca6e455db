from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.constants import (
    Industry,
    MemberRole,
    OrganisationKind,
    OrganisationSize,
    OrganisationStatus,
)


class Organisation(models.Model):
    """An employer (用人单位). Staff of its district verify it; only verified organisations
    may post positions."""

    Status = OrganisationStatus
    ALLOWED_TRANSITIONS = {
        OrganisationStatus.PENDING: {OrganisationStatus.VERIFIED, OrganisationStatus.REJECTED},
        OrganisationStatus.REJECTED: {OrganisationStatus.PENDING},
        OrganisationStatus.VERIFIED: set(),
    }

    name = models.CharField(_("name"), max_length=120)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    kind = models.CharField(_("ownership"), max_length=10, choices=OrganisationKind.choices)
    district = models.ForeignKey(
        "portal.District", on_delete=models.PROTECT, related_name="organisations", verbose_name=_("district")
    )
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices)
    size = models.CharField(_("size"), max_length=10, choices=OrganisationSize.choices)
    address = models.CharField(_("address"), max_length=200)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=OrganisationStatus.choices,
        default=OrganisationStatus.PENDING,
        db_index=True,
    )
    status_reason = models.TextField(_("reason for the decision"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="portal.Membership", related_name="organisations"
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.status == OrganisationStatus.VERIFIED


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}"

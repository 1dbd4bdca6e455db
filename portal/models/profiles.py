from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal import crypto
from portal.constants import EducationLevel, Gender
from portal.validators import mask_id_number, mask_phone

LUOYANG = "洛阳市"


class ApplicantProfile(models.Model):
    """The one profile a graduate keeps; every programme reads its facts from here.

    The ID number is held only as a Fernet token (``id_number_encrypted``) plus a keyed
    hash (``id_number_hash``, unique) and its masked form for display."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(
        _("ID number (keyed hash)"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, editable=False)
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices, blank=True, editable=False)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    education_level = models.CharField(_("education level"), max_length=20, choices=EducationLevel.choices, blank=True)
    school = models.CharField(_("school"), max_length=100, blank=True)
    major = models.CharField(_("major"), max_length=100, blank=True)
    graduation_date = models.DateField(_("graduation date"), null=True, blank=True)
    hukou_province = models.CharField(_("household registration province"), max_length=30, blank=True)
    hukou_city = models.CharField(_("household registration city"), max_length=30, blank=True)
    district = models.ForeignKey(
        "portal.District",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="profiles",
        verbose_name=_("district"),
        help_text=_("The district of Luoyang where you live or want to work."),
    )
    current_employer = models.CharField(_("current employer"), max_length=100, blank=True)
    works_in_luoyang = models.BooleanField(_("working or starting a business in Luoyang"), default=False)
    volunteer_hours = models.DecimalField(
        _("volunteer hours"),
        max_digits=7,
        decimal_places=1,
        default=0,
        editable=False,
        help_text=_("Credited by attended volunteer events."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("applicant profile")
        verbose_name_plural = _("applicant profiles")

    def __str__(self) -> str:
        return self.real_name or f"#{self.pk}"

    @property
    def has_id_number(self) -> bool:
        return bool(self.id_number_encrypted)

    def reveal_id_number(self) -> str:
        """The plaintext ID number. Callers other than the owner go through
        ``services.profile_unmask_id_number``, which writes the audit entry."""
        return crypto.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_from_outside_luoyang(self) -> bool | None:
        if not self.hukou_city:
            return None
        return self.hukou_city.strip() not in {LUOYANG, "洛阳", "Luoyang"}

    @staticmethod
    def mask(number: str) -> str:
        return mask_id_number(number)


class Consent(models.Model):
    """Separate consent to processing sensitive personal information (PIPL art. 29),
    recorded per version of the notice; a new version needs a new consent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents", verbose_name=_("user")
    )
    version = models.CharField(_("version"), max_length=20)
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "version"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_consent_per_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} v{self.version}"

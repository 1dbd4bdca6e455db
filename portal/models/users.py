from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.constants import Role


class PortalUserManager(UserManager):
    """Users sign in by e-mail or phone; ``username`` is an internal handle."""

    def _create_user(self, username, email, password, **extra_fields):
        import uuid

        username = username or f"u{uuid.uuid4().hex[:16]}"
        return super()._create_user(username, email, password, **extra_fields)

    def create_user(self, username=None, email=None, password=None, **extra_fields):
        return super().create_user(username, email, password, **extra_fields)

    def create_superuser(self, username=None, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.CITY_STAFF)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """Everyone who signs in: graduates, employer members and staff. The role decides what
    they see; district staff are further limited to ``districts``."""

    email = models.EmailField(_("e-mail address"), blank=True, null=True, unique=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True, null=True, unique=True)
    phone_verified = models.BooleanField(_("phone verified"), default=False)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.GRADUATE, db_index=True)
    districts = models.ManyToManyField(
        "portal.District",
        blank=True,
        related_name="staff",
        verbose_name=_("districts served"),
        help_text=_("District staff see and decide only the records of these districts."),
    )
    language = models.CharField(
        _("language"), max_length=10, default="zh-hans", choices=[("zh-hans", "简体中文"), ("en", "English")]
    )

    objects = PortalUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        # Shown in admin columns and logs: never the full phone number.
        return self.email or self.masked_phone or self.username

    @property
    def masked_phone(self) -> str:
        from portal.validators import mask_phone

        return mask_phone(self.phone or "")

    def get_short_name(self) -> str:
        # The admin greets staff by this; the internal username means nothing to people.
        return self.first_name or self.email or self.phone or self.username

    @property
    def is_city_staff(self) -> bool:
        return self.is_active and (self.is_superuser or self.role == Role.CITY_STAFF)

    @property
    def is_district_staff(self) -> bool:
        return self.is_active and self.role == Role.DISTRICT_STAFF

    @property
    def is_portal_staff(self) -> bool:
        return self.is_city_staff or self.is_district_staff

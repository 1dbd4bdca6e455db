from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Parameter(models.Model):
    """A policy number (amount, limit, quota, target) with the date it takes effect,
    optionally for one district. City staff add a new row when the policy changes; a rule
    evaluated for a date uses the row in force on that date (POLICY.md)."""

    key = models.SlugField(_("parameter"), max_length=60, db_index=True)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    effective_from = models.DateField(_("effective from"))
    district = models.ForeignKey(
        "portal.District",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="parameters",
        verbose_name=_("district"),
        help_text=_("Empty: applies to the whole city."),
    )
    note = models.CharField(_("source or note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)

    class Meta:
        ordering = ["key", "-effective_from"]
        verbose_name = _("policy parameter")
        verbose_name_plural = _("policy parameters")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "effective_from", "district"], name="parameter_unique_per_day_district"
            ),
            models.UniqueConstraint(
                fields=["key", "effective_from"],
                condition=models.Q(district__isnull=True),
                name="parameter_unique_per_day_citywide",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} = {self.value} ({self.effective_from})"

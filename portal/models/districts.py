from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.constants import DistrictKind


class District(models.Model):
    """A county, district or function zone of Luoyang (POLICY.md "Who uses the portal").
    Loaded by a data migration; the minimum-wage tier is data that staff can change."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    name_en = models.CharField(_("English name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=DistrictKind.choices)
    wage_tier = models.PositiveSmallIntegerField(
        _("minimum-wage tier"), default=1, help_text=_("Henan minimum-wage tier of this area (1 to 3).")
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name

"""Talent apartments (青年人才公寓) and affordable rentals (保障性租赁住房): projects with unit
types and units, application rounds (批次) with a published lottery seed, applications,
offers that never put one unit before two people, and leases (POLICY.md "Talent apartments
and affordable rentals")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apartments.constants import (
    ACTIVE_HOUSING_STATES,
    AllocationMethod,
    ApplicantList,
    HousingApplicationStatus,
    LeaseEndReason,
    LeaseStatus,
    OfferStatus,
    PriorityBucket,
    ProjectKind,
    RecheckAnswer,
    RoundStatus,
    UnitState,
)
from portal.rules import months_later


class HousingProject(models.Model):
    """A building or estate whose units the district lets to graduates (e.g. 炎黄科技园青年人才公寓,
    213 units)."""

    Kind = ProjectKind

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ProjectKind.choices, db_index=True)
    district = models.ForeignKey(
        "portal.District", on_delete=models.PROTECT, related_name="housing_projects", verbose_name=_("district")
    )
    address = models.CharField(_("address"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    rules = models.TextField(_("rules of application and residence"), blank=True)
    amenities = models.TextField(_("amenities"), blank=True, help_text=_("One per line, e.g. 拎包入住 or 地铁 2 号线."))
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    published = models.BooleanField(_("published"), default=True, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["district__sort_order", "name"]
        verbose_name = _("housing project")
        verbose_name_plural = _("housing projects")

    def __str__(self) -> str:
        return self.name

    @property
    def amenity_list(self) -> list[str]:
        return [line.strip() for line in self.amenities.splitlines() if line.strip()]


class ProjectPhoto(models.Model):
    """A picture of the project, re-encoded without EXIF, with a thumbnail for lists."""

    project = models.ForeignKey(
        HousingProject, on_delete=models.CASCADE, related_name="photos", verbose_name=_("project")
    )
    image = models.ImageField(_("photo"), upload_to="housing/", editable=False)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="housing/", editable=False)
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("project photo")
        verbose_name_plural = _("project photos")

    def __str__(self) -> str:
        return self.caption or f"{self.project} #{self.pk}"


class UnitType(models.Model):
    """A kind of unit in a project: 90, 60 or 45 m², furnished or not, and its monthly rent
    (rent and subsidy are separate: the rent is shown even where the lease waives it)."""

    project = models.ForeignKey(
        HousingProject, on_delete=models.CASCADE, related_name="unit_types", verbose_name=_("project")
    )
    name = models.CharField(_("name"), max_length=50)
    area = models.DecimalField(_("area (m²)"), max_digits=6, decimal_places=2)
    rooms = models.PositiveSmallIntegerField(_("rooms"), default=1)
    furnished = models.BooleanField(_("furnished"), default=True)
    monthly_rent = models.DecimalField(_("monthly rent (CNY)"), max_digits=8, decimal_places=2)

    class Meta:
        ordering = ["project", "-area", "pk"]
        verbose_name = _("unit type")
        verbose_name_plural = _("unit types")
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unit_type_name_unique_per_project"),
            models.CheckConstraint(condition=models.Q(area__gt=0), name="unit_type_area_positive"),
            models.CheckConstraint(condition=models.Q(monthly_rent__gte=0), name="unit_type_rent_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.area.normalize():f} m²)"


class Unit(models.Model):
    """One flat. Its state says whether it can be offered: only a vacant unit can."""

    State = UnitState

    project = models.ForeignKey(
        HousingProject, on_delete=models.CASCADE, related_name="units", verbose_name=_("project")
    )
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="units", verbose_name=_("unit type"))
    building = models.CharField(_("building"), max_length=20, blank=True)
    number = models.CharField(_("unit number"), max_length=20)
    floor = models.SmallIntegerField(_("floor"), default=1)
    state = models.CharField(
        _("state"), max_length=12, choices=UnitState.choices, default=UnitState.VACANT, db_index=True
    )

    class Meta:
        ordering = ["project", "building", "floor", "number"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(fields=["project", "building", "number"], name="unit_number_unique_per_project"),
        ]

    def __str__(self) -> str:
        label = f"{self.building}-{self.number}" if self.building else self.number
        return f"{self.project} {label}"

    @property
    def label(self) -> str:
        return f"{self.building}-{self.number}" if self.building else self.number


class AllocationRound(models.Model):
    """An application round (批次): the window in which graduates apply, the units offered
    per type, how they are allocated, and the public random value that seeds the lottery
    (published before the draw, so anyone can repeat it)."""

    Status = RoundStatus

    project = models.ForeignKey(
        HousingProject, on_delete=models.PROTECT, related_name="rounds", verbose_name=_("project")
    )
    name = models.CharField(_("name"), max_length=100)
    opens_at = models.DateTimeField(_("applications open"))
    closes_at = models.DateTimeField(_("applications close"))
    method = models.CharField(
        _("allocation method"),
        max_length=20,
        choices=AllocationMethod.choices,
        default=AllocationMethod.PRIORITY_LOTTERY,
    )
    priority_order = models.JSONField(
        _("priority groups in order"),
        default=list,
        blank=True,
        help_text=_("Codes of the groups that come first, in order; everyone else follows."),
    )
    graduate_share = models.PositiveSmallIntegerField(
        _("share set aside for graduates (%)"),
        default=40,
        # xgettext:no-python-format
        help_text=_("Affordable rentals: at least 40% of the units go first to young graduates."),
    )
    spill_over_on = models.DateField(
        _("unused set-aside units go to the general list on"),
        null=True,
        blank=True,
        help_text=_(
            "Affordable rentals: from this day, set-aside units no graduate took are offered to the general list."
        ),
    )
    offer_days = models.PositiveSmallIntegerField(_("days to answer an offer"), default=7)
    move_in_on = models.DateField(_("leases start on"), null=True, blank=True)
    seed_source = models.CharField(
        _("source of the public random value"),
        max_length=200,
        blank=True,
        help_text=_("Where anyone can check the value, e.g. the winning numbers of a named public lottery draw."),
    )
    public_seed = models.CharField(_("public random value"), max_length=100, blank=True)
    seed_published_at = models.DateTimeField(_("random value published"), null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.DRAFT, db_index=True
    )
    draw_progress = models.PositiveSmallIntegerField(_("draw progress (%)"), default=0, editable=False)
    draw_task_id = models.CharField(_("draw task"), max_length=50, blank=True, editable=False)
    drawn_at = models.DateTimeField(_("drawn"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-opens_at", "-pk"]
        verbose_name = _("application round")
        verbose_name_plural = _("application rounds")
        constraints = [
            models.CheckConstraint(condition=models.Q(closes_at__gt=models.F("opens_at")), name="round_window_order"),
            models.CheckConstraint(condition=models.Q(graduate_share__lte=100), name="round_share_is_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.project} · {self.name}"

    @property
    def is_open(self) -> bool:
        return self.status == RoundStatus.OPEN and self.opens_at <= timezone.now() < self.closes_at

    @property
    def buckets(self) -> list[str]:
        """The priority groups in order, then "everyone else"; a lottery-only round has one group."""
        if self.method == AllocationMethod.LOTTERY:
            return [PriorityBucket.OTHER.value]
        order = [
            code
            for code in (self.priority_order or [])
            if code in PriorityBucket.values and code != PriorityBucket.OTHER
        ]
        return [*dict.fromkeys(order), PriorityBucket.OTHER.value]


class RoundUnitType(models.Model):
    """How many units of one type a round offers."""

    round = models.ForeignKey(
        AllocationRound, on_delete=models.CASCADE, related_name="unit_counts", verbose_name=_("round")
    )
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit type"))
    units = models.PositiveSmallIntegerField(_("units offered"))

    class Meta:
        ordering = ["round", "unit_type"]
        verbose_name = _("units offered per type")
        verbose_name_plural = _("units offered per type")
        constraints = [
            models.UniqueConstraint(fields=["round", "unit_type"], name="round_unit_type_once"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_type}: {self.units}"


class HousingApplication(models.Model):
    """A graduate's application in one round, made from the one profile: the unit types
    they would accept, the household size and the signed declaration of owning no home in
    Luoyang. The draw fills in the group, the list and the rank."""

    Status = HousingApplicationStatus

    round = models.ForeignKey(
        AllocationRound, on_delete=models.PROTECT, related_name="applications", verbose_name=_("round")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="housing_applications",
        verbose_name=_("graduate"),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=HousingApplicationStatus.choices,
        default=HousingApplicationStatus.SUBMITTED,
        db_index=True,
    )
    unit_types = models.ManyToManyField(UnitType, related_name="+", verbose_name=_("acceptable unit types"))
    household_size = models.PositiveSmallIntegerField(_("household size"), default=1)
    no_home_declared_at = models.DateTimeField(_("declared owning no home in Luoyang"), null=True, blank=True)
    documents = models.ManyToManyField("portal.Document", blank=True, related_name="+", verbose_name=_("documents"))
    note = models.TextField(_("note from the applicant"), blank=True)
    eligibility = models.JSONField(_("eligibility when applied"), default=dict, blank=True)
    applicant_list = models.CharField(
        _("list"), max_length=10, choices=ApplicantList.choices, default=ApplicantList.GRADUATE
    )
    bucket = models.CharField(_("priority group"), max_length=20, choices=PriorityBucket.choices, blank=True)
    ticket = models.CharField(_("lottery ticket"), max_length=64, blank=True, editable=False)
    bucket_rank = models.PositiveIntegerField(_("rank in group"), null=True, blank=True, editable=False)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True, editable=False, db_index=True)
    status_reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
        editable=False,
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("applied"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("housing application")
        verbose_name_plural = _("housing applications")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "applicant"],
                condition=models.Q(status__in=ACTIVE_HOUSING_STATES),
                name="one_active_housing_application_per_round",
            ),
            models.CheckConstraint(
                condition=models.Q(household_size__gte=1, household_size__lte=10), name="housing_household_size"
            ),
        ]
        indexes = [models.Index(fields=["round", "applicant_list", "rank"], name="housing_app_rank_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """The number published on the result page and fed to the lottery."""
        return f"R{self.round_id}-{self.pk:05d}" if self.pk else "-"


class HousingOffer(models.Model):
    """A unit offered to a ranked applicant with a deadline. At most one open offer per
    unit and per application: partial unique indexes, so even racing requests cannot put a
    unit before two people."""

    Status = OfferStatus

    application = models.ForeignKey(
        HousingApplication, on_delete=models.CASCADE, related_name="offers", verbose_name=_("application")
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="offers", verbose_name=_("unit"))
    status = models.CharField(
        _("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED, db_index=True
    )
    deadline = models.DateTimeField(_("answer by"))
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    status_reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("offered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("unit offer")
        verbose_name_plural = _("unit offers")
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=models.Q(status=OfferStatus.OFFERED), name="unit_offered_to_one_at_a_time"
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(status__in=[OfferStatus.OFFERED, OfferStatus.ACCEPTED]),
                name="one_live_offer_per_application",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} → {self.unit.label}"


class Lease(models.Model):
    """The tenancy from an accepted offer (or a renewal): rent, the rent-free months it
    grants and the reduced rent after them. A unit has at most one active lease."""

    Status = LeaseStatus

    offer = models.OneToOneField(
        HousingOffer, on_delete=models.PROTECT, null=True, blank=True, related_name="lease", verbose_name=_("offer")
    )
    renewal_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renewal", verbose_name=_("renews")
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="leases", verbose_name=_("unit"))
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leases", verbose_name=_("tenant")
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    monthly_rent = models.DecimalField(_("monthly rent (CNY)"), max_digits=8, decimal_places=2)
    rent_free_months = models.PositiveSmallIntegerField(_("rent-free months"), default=0)
    reduced_rent_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("rent after the rent-free months (% of the rent)"),
        default=100,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=LeaseStatus.choices, default=LeaseStatus.ACTIVE, db_index=True
    )
    terms = models.JSONField(_("how the terms were set"), default=dict, blank=True, editable=False)
    next_recheck_on = models.DateField(_("next yearly re-check"), null=True, blank=True, db_index=True)
    ended_on = models.DateField(_("moved out on"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=14, choices=LeaseEndReason.choices, blank=True)
    move_out_notes = models.TextField(_("move-out notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-start", "-pk"]
        verbose_name = _("lease")
        verbose_name_plural = _("leases")
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=models.Q(status=LeaseStatus.ACTIVE), name="unit_let_once"
            ),
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="lease_ends_after_start"),
            models.CheckConstraint(condition=models.Q(reduced_rent_percent__lte=100), name="lease_rent_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.label} {self.start}–{self.end}"

    @property
    def rent_free_until(self):
        """The first day rent is due again (None when the lease grants no rent-free months)."""
        return months_later(self.start, self.rent_free_months) if self.rent_free_months else None


class LeaseRecheck(models.Model):
    """The yearly question to a tenant: still working or running a business in Luoyang?"""

    Answer = RecheckAnswer

    lease = models.ForeignKey(Lease, on_delete=models.CASCADE, related_name="rechecks", verbose_name=_("lease"))
    due_on = models.DateField(_("due"))
    answer = models.CharField(_("answer"), max_length=20, choices=RecheckAnswer.choices, blank=True)
    employer = models.CharField(_("employer or business"), max_length=100, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)

    class Meta:
        ordering = ["-due_on"]
        verbose_name = _("yearly re-check")
        verbose_name_plural = _("yearly re-checks")
        constraints = [models.UniqueConstraint(fields=["lease", "due_on"], name="one_recheck_per_lease_and_year")]

    def __str__(self) -> str:
        return f"{self.lease} {self.due_on}"

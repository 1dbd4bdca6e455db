"""Subsidy programmes as rows, applications with their checks, public-notice objections and
the payout ledger (POLICY.md "Subsidies")."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from subsidies.constants import (
    ACTIVE_SUBSIDY_STATES,
    CHECK_REASONS,
    RUN_KEYS,
    ApplicantKind,
    ObjectionStatus,
    PeriodKind,
    RuleCode,
    SubsidyStatus,
)


class Programme(models.Model):
    """A subsidy programme: who applies, when, with which papers, under which rule and
    budget. Loaded by a data migration; city staff edit the rows."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    applicant_kind = models.CharField(_("who applies"), max_length=10, choices=ApplicantKind.choices)
    rule_code = models.CharField(_("eligibility rule"), max_length=30, choices=RuleCode.choices, unique=True)
    period_kind = models.CharField(_("how often"), max_length=10, choices=PeriodKind.choices)
    pays_money = models.BooleanField(
        _("paid by the portal"), default=True, help_text=_("Off for referrals, e.g. a loan handed to the bank.")
    )
    opens_on = models.DateField(_("applications from"), null=True, blank=True)
    closes_on = models.DateField(_("applications until"), null=True, blank=True)
    yearly_budget = models.DecimalField(_("yearly budget (CNY)"), max_digits=14, decimal_places=2, default=0)
    required_documents = models.JSONField(
        _("required documents"),
        default=list,
        blank=True,
        help_text=_("Kinds of uploaded documents the applicant attaches."),
    )
    excludes = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="excluded_by",
        verbose_name=_("cannot be combined with"),
        help_text=_("For the same person and period, an approved application of these programmes excludes this one."),
    )
    active = models.BooleanField(_("active"), default=True, db_index=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("subsidy programme")
        verbose_name_plural = _("subsidy programmes")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (translation.get_language() or "").startswith("en") else self.name_zh

    @property
    def description(self) -> str:
        return self.description_en if (translation.get_language() or "").startswith("en") else self.description_zh

    def is_open_on(self, day) -> bool:
        return (
            self.active
            and (self.opens_on is None or self.opens_on <= day)
            and (self.closes_on is None or day <= self.closes_on)
        )


class SubsidyApplication(models.Model):
    """An application (or an employer's claim) under one programme, for one person and
    period. ``dedupe_key`` names that person and period; the database refuses a second
    active application with the same key."""

    Status = SubsidyStatus

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="applications", verbose_name=_("programme")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subsidy_applications",
        verbose_name=pgettext_lazy("subsidy", "applicant"),
    )
    organisation = models.ForeignKey(
        "portal.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsidy_applications",
        verbose_name=pgettext_lazy("subsidy", "employer"),
    )
    beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsidies_received",
        verbose_name=_("graduate concerned"),
        help_text=_("The graduate the subsidy is for: the applicant, the trainee or the hired graduate."),
    )
    job_application = models.ForeignKey(
        "jobs.JobApplication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hire or traineeship"),
    )
    district = models.ForeignKey(
        "portal.District", on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    details = models.JSONField(_("details"), default=dict, blank=True)
    documents = models.ManyToManyField("portal.Document", blank=True, related_name="+", verbose_name=_("documents"))
    dedupe_key = models.CharField(_("person and period"), max_length=80, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=SubsidyStatus.choices, default=SubsidyStatus.DRAFT, db_index=True
    )
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2, default=0)
    # Each request for a check counts up; a check result belongs to one request, so a check
    # retried after a lost worker stores nothing twice.
    check_sequence = models.PositiveIntegerField(_("checks requested"), default=0, editable=False)
    eligibility = models.JSONField(_("last check"), default=dict, blank=True, editable=False)
    status_reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
        editable=False,
    )
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("second approval by"),
        editable=False,
    )
    notice_ends_on = models.DateField(_("public notice until"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("subsidy application")
        verbose_name_plural = _("subsidy applications")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "dedupe_key"],
                condition=models.Q(status__in=ACTIVE_SUBSIDY_STATES),
                name="one_subsidy_application_per_person_and_period",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="subsidy_period_order"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="subsidy_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["programme", "status"], name="subsidy_programme_status")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"S{self.pk:06d}" if self.pk else "-"


class EligibilityCheck(models.Model):
    """One run of the programme's rule for one application: the result, the rule's version
    and every parameter value used. One per check request (``sequence``)."""

    application = models.ForeignKey(
        SubsidyApplication, on_delete=models.CASCADE, related_name="checks", verbose_name=_("application")
    )
    sequence = models.PositiveIntegerField(_("check number"))
    eligible = models.BooleanField(_("eligible"))
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2, default=0)
    rule_version = models.CharField(_("rule version"), max_length=40)
    result = models.JSONField(_("criteria and parameters"), default=dict)
    reason = models.CharField(_("why it ran"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("checked"), auto_now_add=True)

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("eligibility check")
        verbose_name_plural = _("eligibility checks")
        constraints = [
            models.UniqueConstraint(fields=["application", "sequence"], name="one_check_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.application} #{self.sequence}"

    @property
    def reason_label(self) -> str:
        return str(CHECK_REASONS.get(self.reason, self.reason))

    @property
    def rule_run(self) -> dict:
        parameters = (self.result or {}).get("parameters") or {}
        return {key: parameters.get(key, "") for key in RUN_KEYS}

    @property
    def values(self) -> list[tuple[str, str]]:
        """The policy values used, as plain numbers (500.0000 → 500, 0.8000 → 0.8)."""
        parameters = (self.result or {}).get("parameters") or {}
        return [(key, _plain(value)) for key, value in parameters.items() if key not in RUN_KEYS]


def _plain(value) -> str:
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except (InvalidOperation, ValueError):
        return str(value)


class Objection(models.Model):
    """An objection filed during the public notice (公示); staff must resolve it before the
    application can be paid."""

    Status = ObjectionStatus

    application = models.ForeignKey(
        SubsidyApplication, on_delete=models.CASCADE, related_name="objections", verbose_name=_("application")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("filed by")
    )
    text = models.TextField(_("objection"))
    status = models.CharField(
        _("status"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN, db_index=True
    )
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    created_at = models.DateTimeField(_("filed"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.application} · {self.get_status_display()}"


class LedgerEntry(models.Model):
    """Money of a programme's yearly budget: committed when an application is approved,
    released if it is rejected after all, paid when finance pays it. One per application."""

    application = models.OneToOneField(
        SubsidyApplication, on_delete=models.PROTECT, related_name="ledger_entry", verbose_name=_("application")
    )
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("programme")
    )
    budget_year = models.PositiveSmallIntegerField(_("budget year"), db_index=True)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2)
    released = models.BooleanField(_("released"), default=False)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment recorded by"),
    )
    payment_reference = models.CharField(_("payment reference"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("committed"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("payout ledger")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_amount_positive")]

    def __str__(self) -> str:
        return f"{self.application} {self.amount}"


class ScreeningNotice(models.Model):
    """A graduate was told they now qualify for a programme they have not applied to
    (免申即享): once per person and programme."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "programme"], name="one_screening_notice")]
        verbose_name = _("screening notice")
        verbose_name_plural = _("screening notices")

    def __str__(self) -> str:
        return f"{self.user_id} · {self.programme_id}"

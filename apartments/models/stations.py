import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apartments.constants import ACTIVE_STAY_STATES, FollowUpOutcome, FollowUpStage, StationKind, StayStatus


class Station(models.Model):
    """A youth station (青年驿站): free beds for out-of-town graduates looking for work in
    Luoyang (POLICY items 4 and 13)."""

    district = models.ForeignKey(
        "portal.District", on_delete=models.PROTECT, related_name="stations", verbose_name=_("district")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=StationKind.choices)
    address = models.CharField(_("address"), max_length=200)
    beds = models.PositiveSmallIntegerField(_("beds"))
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    description = models.TextField(_("description"), blank=True)
    house_rules = models.TextField(_("house rules"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="stations/", blank=True)
    active = models.BooleanField(_("active"), default=True, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["district__sort_order", "name"]
        verbose_name = _("youth station")
        verbose_name_plural = _("youth stations")
        constraints = [models.CheckConstraint(condition=models.Q(beds__gte=1), name="station_has_beds")]

    def __str__(self) -> str:
        return self.name


class StationClosure(models.Model):
    """A night on which the station takes no guests (repairs, holidays)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="closures", verbose_name=_("station"))
    date = models.DateField(_("night of"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [models.UniqueConstraint(fields=["station", "date"], name="one_closure_per_night")]

    def __str__(self) -> str:
        return f"{self.station} {self.date}"


class StationNight(models.Model):
    """The beds taken at a station on one night. Bookings lock these rows in date order and
    the check constraint refuses any write that would put more guests than beds."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="nights", verbose_name=_("station"))
    date = models.DateField(_("night of"))
    capacity = models.PositiveSmallIntegerField(_("beds"))
    booked = models.PositiveSmallIntegerField(_("beds taken"), default=0)

    class Meta:
        ordering = ["date"]
        verbose_name = _("station night")
        verbose_name_plural = _("station nights")
        constraints = [
            models.UniqueConstraint(fields=["station", "date"], name="one_row_per_station_night"),
            models.CheckConstraint(condition=models.Q(booked__lte=models.F("capacity")), name="night_not_overbooked"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.date}: {self.booked}/{self.capacity}"


class Stay(models.Model):
    """A graduate's booking of consecutive nights at one station."""

    Status = StayStatus

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="station_stays", verbose_name=_("graduate")
    )
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="stays", verbose_name=_("station"))
    check_in = models.DateField(_("check-in date"), db_index=True)
    nights = models.PositiveSmallIntegerField(_("nights"))
    status = models.CharField(
        _("status"), max_length=12, choices=StayStatus.choices, default=StayStatus.BOOKED, db_index=True
    )
    interview = models.ForeignKey(
        "jobs.Interview",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("interview invitation"),
    )
    invitation_document = models.ForeignKey(
        "portal.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded invitation or offer letter"),
    )
    nights_released = models.PositiveSmallIntegerField(_("nights released"), default=0)
    eligibility = models.JSONField(_("eligibility when booked"), default=dict, blank=True)
    job_push = models.BooleanField(_("daily job suggestions"), default=True)
    status_reason = models.TextField(_("note"), blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-check_in", "-id"]
        verbose_name = _("station stay")
        verbose_name_plural = _("station stays")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant"], condition=models.Q(status__in=list(ACTIVE_STAY_STATES)), name="one_active_stay"
            ),
            models.CheckConstraint(condition=models.Q(nights__gte=1), name="stay_at_least_one_night"),
        ]

    def __str__(self) -> str:
        return _("%(station)s, %(date)s, %(n)d nights") % {
            "station": self.station,
            "date": self.check_in.isoformat(),
            "n": self.nights,
        }

    @property
    def check_out(self):
        """The planned departure day (the morning after the last night)."""
        return self.check_in + dt.timedelta(days=self.nights)

    @property
    def nights_stayed(self) -> int:
        return self.nights - self.nights_released

    @property
    def left_on(self):
        """The day the guest actually left: earlier than planned after an early check-out."""
        if self.status == StayStatus.CHECKED_OUT and self.checked_out_at:
            return timezone.localtime(self.checked_out_at).date()
        return self.check_out


class BedAlert(models.Model):
    """ "Tell me when a bed frees" at a station for a range of nights; subscribers are told
    in the order they subscribed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bed_alerts", verbose_name=_("user")
    )
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("station"))
    start = models.DateField(_("from night"))
    end = models.DateField(_("to night"))
    created_at = models.DateTimeField(_("subscribed"), auto_now_add=True, db_index=True)
    notified_at = models.DateTimeField(_("notified"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("bed alert")
        verbose_name_plural = _("bed alerts")
        constraints = [models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="alert_range_valid")]

    def __str__(self) -> str:
        return f"{self.user} {self.station} {self.start}–{self.end}"


class FollowUp(models.Model):
    """A follow-up visit (跟踪回访) after a stay: did the graduate find work in Luoyang? The
    graduate answers a short questionnaire; unanswered ones become a call task for staff."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("stay"))
    stage = models.CharField(_("stage"), max_length=6, choices=FollowUpStage.choices)
    due_on = models.DateField(_("due on"), db_index=True)
    sent_at = models.DateTimeField(_("questionnaire sent"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=FollowUpOutcome.choices, blank=True, db_index=True)
    employer = models.CharField(_("employer"), max_length=120, blank=True)
    note = models.TextField(_("note"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    call_task_open = models.BooleanField(_("staff to call"), default=False, db_index=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [models.UniqueConstraint(fields=["stay", "stage"], name="one_follow_up_per_stage")]

    def __str__(self) -> str:
        return f"{self.stay} {self.get_stage_display()}"

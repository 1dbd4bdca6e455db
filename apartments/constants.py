from django.db import models
from django.utils.translation import gettext_lazy as _


class StationKind(models.TextChoices):
    YOUTH_APARTMENT = "youth_apartment", _("Youth apartment")
    AFFORDABLE_HOUSING = "affordable_housing", _("Affordable housing")
    PARTNER_HOTEL = "partner_hotel", _("Partner budget hotel")


class StayStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    CHECKED_OUT = "checked_out", _("Checked out")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


ACTIVE_STAY_STATES = (StayStatus.BOOKED, StayStatus.CHECKED_IN)
# Nights of these stays count towards the graduate's free-night cap.
COUNTED_STAY_STATES = (StayStatus.BOOKED, StayStatus.CHECKED_IN, StayStatus.CHECKED_OUT)


class FollowUpOutcome(models.TextChoices):
    WORKING_IN_LUOYANG = "working_in_luoyang", _("Found work in Luoyang")
    SEARCHING = "searching", _("Still searching")
    LEFT_LUOYANG = "left_luoyang", _("Left Luoyang")


class FollowUpStage(models.TextChoices):
    DAY_7 = "day7", _("7 days after check-out")
    DAY_30 = "day30", _("30 days after check-out")


FOLLOW_UP_DAYS = {FollowUpStage.DAY_7: 7, FollowUpStage.DAY_30: 30}

# Policy parameters (portal.Parameter keys) with the values loaded by the data migration.
MAX_NIGHTS = "stations-max-nights"
GRADUATION_YEARS = "stations-graduation-years"
BOOKING_MIN_HOURS = "stations-booking-min-hours"
NO_SHOW_FORFEIT = "stations-no-show-forfeit-nights"
NO_SHOW_BLOCK_DAYS = "stations-no-show-block-days"
FOLLOW_UP_ANSWER_DAYS = "stations-follow-up-answer-days"

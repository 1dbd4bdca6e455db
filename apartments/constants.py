from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


# --- talent apartments and affordable rentals -------------------------------------------------


class ProjectKind(models.TextChoices):
    TALENT_APARTMENT = "talent_apartment", _("Talent apartment")
    AFFORDABLE_RENTAL = "affordable_rental", _("Affordable rental")


class UnitState(models.TextChoices):
    VACANT = "vacant", pgettext_lazy("housing unit", "Vacant")
    OFFERED = "offered", pgettext_lazy("housing unit", "Offered")
    LET = "let", pgettext_lazy("housing unit", "Let")
    MAINTENANCE = "maintenance", pgettext_lazy("housing unit", "Maintenance")


class RoundStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Published")
    DRAWING = "drawing", _("Drawing")
    DRAWN = "drawn", _("Drawn, offers running")
    CLOSED = "closed", _("Closed")


class AllocationMethod(models.TextChoices):
    PRIORITY_LOTTERY = "priority_lottery", _("Priority groups, then a lottery within each group")
    LOTTERY = "lottery", _("Lottery only")


class PriorityBucket(models.TextChoices):
    """The groups a round can put first; the round lists them in its order of priority and
    an applicant falls in the first one that describes them."""

    OUT_OF_TOWN = "out_of_town", _("Graduates from outside Luoyang")
    POSTGRADUATE = "postgraduate", _("Master's or doctorate")
    BACHELOR = "bachelor", _("Bachelor's degree")
    TECHNICIAN = "technician", _("Preparatory technician or technician")
    JUNIOR_COLLEGE = "junior_college", _("Junior college")
    OTHER = "other", _("Everyone else")


DEFAULT_PRIORITY_ORDER = [
    PriorityBucket.OUT_OF_TOWN.value,
    PriorityBucket.POSTGRADUATE.value,
    PriorityBucket.BACHELOR.value,
    PriorityBucket.TECHNICIAN.value,
]


class ApplicantList(models.TextChoices):
    GRADUATE = "graduate", _("Graduate list (units set aside for graduates)")
    GENERAL = "general", _("General list")


class HousingApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    HOUSED = "housed", _("Offer accepted")
    DECLINED = "declined", _("Offer declined or expired")
    UNSUCCESSFUL = "unsuccessful", _("No unit this round")


# A graduate has one of these per round at most (a rejected or withdrawn one may be followed
# by a new application while the window is open).
ACTIVE_HOUSING_STATES = (
    HousingApplicationStatus.SUBMITTED,
    HousingApplicationStatus.APPROVED,
    HousingApplicationStatus.HOUSED,
    HousingApplicationStatus.DECLINED,
    HousingApplicationStatus.UNSUCCESSFUL,
)


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn by staff")


class LeaseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RENEWED = "renewed", _("Renewed")
    ENDED = "ended", _("Ended")


class LeaseEndReason(models.TextChoices):
    TERM_ENDED = "term_ended", _("End of term, moved out")
    EARLY_EXIT = "early_exit", _("Early exit")
    NOT_ELIGIBLE = "not_eligible", _("No longer eligible")


class RecheckAnswer(models.TextChoices):
    WORKING_IN_LUOYANG = "working_in_luoyang", _("Still working or running a business in Luoyang")
    LEFT = "left", _("No longer working in Luoyang")


# Policy parameters of housing (portal.Parameter keys), loaded by a data migration.
HOUSING_GRADUATION_YEARS = "housing-affordable-graduation-years"
HOUSING_GRADUATE_SHARE = "housing-affordable-graduate-share-percent"
HOUSING_AFFORDABLE_RENT_FREE_MONTHS = "housing-affordable-rent-free-months"
HOUSING_TALENT_RENT_FREE_MONTHS = "housing-talent-rent-free-months"
HOUSING_REDUCED_RENT_PERCENT = "housing-reduced-rent-percent"
HOUSING_OFFER_DAYS = "housing-offer-days"
HOUSING_LEASE_MONTHS = "housing-lease-months"
HOUSING_AFFORDABLE_MAX_AREA = "housing-affordable-max-area"

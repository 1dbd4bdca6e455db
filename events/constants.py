from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    FORUM = "forum", _("Youth forum")
    LECTURE = "lecture", _("Lecture team talk")
    SALON = "salon", _("Salon or reading night in a city study room")
    SOCIAL = "social", _("Youth social or matchmaking")
    VOLUNTEER = "volunteer", _("Volunteer service")
    EXCHANGE = "exchange", _("International youth exchange camp")
    RECRUITMENT = "recruitment", _("Campus recruitment fair")
    FESTIVAL = "festival", _("Music or camping festival")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending review")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class VenueKind(models.TextChoices):
    YOUTH_HOME = "youth_home", _("Youth home (青年之家)")
    STUDY_ROOM = "study_room", _("City study room (城市书房)")
    OTHER = "other", _("Other venue")


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    PENDING = "pending", _("Waiting for approval")
    OFFERED = "offered", _("Place offered: please confirm")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not attend")


# Registrations that hold one of the event's places (a checked-in person keeps theirs).
SEAT_STATES = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.OFFERED,
    RegistrationStatus.ATTENDED,
    RegistrationStatus.NO_SHOW,
)
# Kinds an employer may organise (reviewed by staff before publishing).
EMPLOYER_KINDS = (EventKind.RECRUITMENT, EventKind.SALON)
# Registrations that are still open (one per person and event).
OPEN_STATES = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.PENDING,
    RegistrationStatus.OFFERED,
)

# Policy parameter keys (portal.Parameter), loaded by the data migration.
OFFER_HOURS = "events-offer-hours"
REMINDER_HOURS = "events-reminder-hours"

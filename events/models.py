import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from events.constants import OPEN_STATES, SEAT_STATES, EventKind, EventStatus, RegistrationStatus, VenueKind


class Venue(models.Model):
    """A reusable place: the youth homes (青年之家) in every township and street, the city
    study rooms (城市书房), and others."""

    district = models.ForeignKey(
        "portal.District", on_delete=models.PROTECT, related_name="venues", verbose_name=_("district")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=VenueKind.choices)
    address = models.CharField(_("address"), max_length=200)
    capacity = models.PositiveIntegerField(_("capacity"))

    class Meta:
        ordering = ["district__sort_order", "name"]
        verbose_name = _("venue")
        verbose_name_plural = _("venues")

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """A community event (POLICY.md "Community events") with a fixed number of places."""

    Status = EventStatus

    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices, db_index=True)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"))
    district = models.ForeignKey(
        "portal.District", on_delete=models.PROTECT, related_name="events", verbose_name=_("district")
    )
    venue = models.ForeignKey(
        Venue, on_delete=models.PROTECT, null=True, blank=True, related_name="events", verbose_name=_("venue")
    )
    place = models.CharField(_("place (when not a listed venue)"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("places"))
    registration_opens = models.DateTimeField(_("registration opens"))
    registration_closes = models.DateTimeField(_("registration closes"))
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    graduates_only = models.BooleanField(_("graduates only"), default=False)
    requires_approval = models.BooleanField(_("registration needs approval"), default=False)
    questions = models.JSONField(
        _("registration questions"),
        default=list,
        blank=True,
        help_text=_(
            'A list such as [{"label": "Your major", "type": "text", "required": true}]; types: text, number, choice (with "choices").'
        ),
    )
    volunteer_hours = models.DecimalField(_("volunteer hours credited"), max_digits=5, decimal_places=1, default=0)
    cover = models.ImageField(_("cover image"), upload_to="events/", blank=True, editable=False)
    cover_thumbnail = models.ImageField(_("cover thumbnail"), upload_to="events/", blank=True, editable=False)
    organiser = models.ForeignKey(
        "portal.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("organising employer"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.DRAFT, db_index=True
    )
    status_reason = models.TextField(_("note on the decision"), blank=True)
    no_shows_marked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="event_has_places"),
            models.CheckConstraint(
                condition=models.Q(registration_closes__gt=models.F("registration_opens")),
                name="event_registration_window",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def free_places(self) -> int:
        """Places not held by a confirmed or offered registration (read live)."""
        taken = getattr(self, "taken", None)
        if taken is None:
            taken = self.registrations.filter(status__in=SEAT_STATES).count()
        return max(0, self.capacity - taken)

    @property
    def where(self) -> str:
        return f"{self.venue.name}（{self.venue.address}）" if self.venue_id else self.place


def new_check_in_code() -> str:
    # 8 characters without look-alikes (0/O, 1/I/L): easy to read out and type on a phone.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class Registration(models.Model):
    """One person's place (or place in the queue) at an event."""

    Status = RegistrationStatus

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("event"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_registrations",
        verbose_name=_("participant"),
    )
    status = models.CharField(_("status"), max_length=10, choices=RegistrationStatus.choices, db_index=True)
    # Arrival order: the waiting list is served in this order.
    sequence = models.PositiveIntegerField(_("arrival order"))
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    check_in_code = models.CharField(_("check-in code"), max_length=8, unique=True, default=new_check_in_code)
    offer_expires_at = models.DateTimeField(_("offer open until"), null=True, blank=True, db_index=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    checked_in_at = models.DateTimeField(pgettext_lazy("event attendance", "checked in at"), null=True, blank=True)
    status_reason = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(pgettext_lazy("event registration", "registered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"], condition=models.Q(status__in=list(OPEN_STATES)), name="one_open_registration"
            ),
            models.UniqueConstraint(fields=["event", "sequence"], name="registration_sequence_unique"),
        ]
        indexes = [models.Index(fields=["event", "status", "sequence"], name="registration_queue")]

    def __str__(self) -> str:
        # No personal data: this shows in admin titles, breadcrumbs and the change log.
        return f"{self.event} #{self.sequence}"


class Subscription(models.Model):
    """Follow a district or an event kind (or both) to hear about new events."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_subscriptions", verbose_name=_("user")
    )
    district = models.ForeignKey(
        "portal.District", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("district")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices, blank=True)
    created_at = models.DateTimeField(_("subscribed"), auto_now_add=True)

    class Meta:
        verbose_name = _("event subscription")
        verbose_name_plural = _("event subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "district", "kind"],
                condition=models.Q(district__isnull=False),
                name="one_subscription_per_topic",
            ),
            models.UniqueConstraint(
                fields=["user", "kind"], condition=models.Q(district__isnull=True), name="one_subscription_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.district or '*'} / {self.kind or '*'}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The private token of a user's calendar feed (.ics) of their events."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed", verbose_name=_("user")
    )
    token = models.CharField(max_length=43, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)

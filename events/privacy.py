"""What the events app holds about a person: their data export, their part of an account
deletion and the retention of registrations after the event (ADR 0009)."""

from django.utils import timezone

from events.constants import OPEN_STATES
from events.models import CalendarFeed, Registration, Subscription
from portal.privacy import register_anonymiser, register_exporter, register_retention, register_withdrawal, rows


@register_exporter("events")
def export_events(user) -> dict:
    return {
        "registrations": rows(
            Registration.objects.filter(user=user),
            ["event__title", "event__starts_at", "status", "answers", "created_at", "checked_in_at"],
        ),
        "subscriptions": rows(Subscription.objects.filter(user=user), ["district__name", "kind", "created_at"]),
    }


@register_withdrawal("events")
def withdraw_events(user) -> list[str]:
    """Open registrations of events still to come: the place goes to the next in line.
    A past event's registration stays as it is (attendance is recorded by the organiser)."""
    from events import services
    from portal.services.deletion import withdrawal_reason

    withdrawn = []
    registrations = Registration.objects.filter(user=user, status__in=OPEN_STATES, event__ends_at__gt=timezone.now())
    for registration in registrations:
        services.registration_cancel(registration=registration, actor=user, reason=withdrawal_reason())
        withdrawn.append(f"events.registration #{registration.pk}")
    return withdrawn


@register_anonymiser("events")
def anonymise_events(user) -> dict[str, int]:
    """The answers to the organiser's questions go; status, attendance and times stay. The
    calendar feed and the subscriptions are the person's own settings: removed."""
    return {
        "registrations": Registration.objects.filter(user=user).exclude(answers={}).update(answers={}),
        "subscriptions": Subscription.objects.filter(user=user).delete()[0],
        "calendar_feeds": CalendarFeed.objects.filter(user=user).delete()[0],
    }


@register_retention("events")
def retain_events(*, cutoff, batch_size: int) -> list[tuple[type, int]]:
    due = Registration.objects.filter(event__ends_at__lt=cutoff).exclude(answers={})
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch_size])
    Registration.objects.filter(pk__in=ids).update(answers={})
    return [(Registration, pk) for pk in ids]

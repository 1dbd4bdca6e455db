"""What the events app holds about a person, for their data export."""

from events.models import Registration, Subscription
from portal.privacy import register_exporter, rows


@register_exporter("events")
def export_events(user) -> dict:
    return {
        "registrations": rows(
            Registration.objects.filter(user=user),
            ["event__title", "event__starts_at", "status", "answers", "created_at", "checked_in_at"],
        ),
        "subscriptions": rows(Subscription.objects.filter(user=user), ["district__name", "kind", "created_at"]),
    }

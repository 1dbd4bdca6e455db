from django.utils.translation import gettext_lazy as _

from portal.constants import Channel
from portal.notifications import NotificationKind, register_kind


def _ics_attachment(context: dict) -> list[tuple[str, str, str]]:
    from events.ics import calendar
    from events.models import Event

    event = Event.objects.select_related("venue").filter(pk=context.get("event_id")).first()
    if event is None:
        return []
    return [(f"event-{event.pk}.ics", calendar([event]), "text/calendar; charset=utf-8; method=PUBLISH")]


register_kind(
    NotificationKind(
        code="registration_confirmed",
        title=_("You are registered: {event}"),
        body=_(
            "Your place at “{event}” on {when} at {where} is confirmed. Your check-in code is {code}; the calendar entry is attached."
        ),
        channels=(Channel.EMAIL, Channel.SMS),
        attachments=_ics_attachment,
    )
)
register_kind(
    NotificationKind(
        code="registration_waitlisted",
        title=_("On the waiting list: {event}"),
        body=_("“{event}” is full. You are on the waiting list; we will tell you at once if a place frees."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="registration_pending",
        title=_("Registration received: {event}"),
        body=_("The organiser of “{event}” checks registrations; you will hear when they decide."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="registration_offered",
        title=_("A place is free for you: {event}"),
        body=_("A place at “{event}” on {when} is held for you until {until}. Confirm it on the portal before then."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="registration_cancelled",
        title=_("Registration cancelled: {event}"),
        body=_("Your registration for “{event}” has been cancelled. {reason}"),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="event_reminder",
        title=_("Tomorrow: {event}"),
        body=_("“{event}” starts on {when} at {where}. Your check-in code is {code}."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="event_cancelled",
        title=_("Event cancelled: {event}"),
        body=_("“{event}” on {when} has been cancelled. {reason}"),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="event_published",
        title=_("Event published: {event}"),
        body=_("“{event}” has been approved and is open for registration."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="event_rejected",
        title=_("Event not approved: {event}"),
        body=_("“{event}” was not approved. Reason: {reason}"),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="event_announcement",
        title=_("New event: {event}"),
        body=_("“{event}” on {when} at {where}. Register on the portal."),
        channels=(Channel.EMAIL,),
    )
)

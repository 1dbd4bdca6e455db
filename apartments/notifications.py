from django.utils.translation import gettext_lazy as _

from portal.constants import Channel
from portal.notifications import NotificationKind, register_kind

register_kind(
    NotificationKind(
        code="stay_booked",
        title=_("Youth station booked: {station}"),
        body=_(
            "Your free stay at {station} ({address}) starts on {check_in} for {nights} nights. Check in from 14:00 with your ID card."
        ),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="stay_cancelled",
        title=_("Youth station booking cancelled: {station}"),
        body=_("Your stay at {station} from {check_in} has been cancelled. {reason}"),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="stay_checked_out",
        title=_("Thank you for staying at {station}"),
        body=_("You have checked out of {station}. We will ask in 7 and 30 days how your job search went."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="stay_no_show",
        title=_("Missed check-in: {station}"),
        body=_("You did not check in at {station} on {check_in}. The booking has been released."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="bed_freed",
        title=_("A bed is free at {station}"),
        body=_("A bed became free at {station} for the nights {dates}. Book soon: others may be waiting too."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="station_jobs",
        title=_("New positions for you ({count})"),
        body=_("New positions that match your education and major: {positions}"),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="stay_follow_up",
        title=_("How is your job search going?"),
        body=_("You stayed at {station}. Please answer two short questions: did you find work in Luoyang?"),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)

from django.utils.translation import gettext_lazy as _

from portal.constants import Channel
from portal.notifications import NotificationKind, register_kind

register_kind(
    NotificationKind(
        code="position_published",
        title=_("Position published: {position}"),
        body=_("“{position}” has been approved and is now visible to graduates."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="position_rejected",
        title=_("Position not approved: {position}"),
        body=_("“{position}” was not approved. Reason: {reason}. Edit it and submit it again."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="position_submitted",
        title=_("Position waiting for review: {position}"),
        body=_("{organisation} submitted “{position}” for review."),
        channels=(),
    )
)
register_kind(
    NotificationKind(
        code="application_received",
        title=_("New application for {position}"),
        body=_("{applicant} applied for “{position}”."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="application_status",
        title=_("Your application for {position}: {status}"),
        body=_("{organisation} changed your application for “{position}” to: {status}. {reason}"),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="interview_invited",
        title=_("Interview invitation: {position}"),
        body=_("{organisation} invites you to an interview for “{position}” on {when} at {where}. {note}"),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="application_withdrawn",
        title=_("Application withdrawn: {position}"),
        body=_("{applicant} withdrew the application for “{position}”."),
        channels=(Channel.EMAIL,),
    )
)

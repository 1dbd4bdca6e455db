from django.utils.translation import gettext_lazy as _

from portal.constants import Channel
from portal.notifications import NotificationKind, register_kind

register_kind(
    NotificationKind(
        code="subsidy_eligible",
        title=_("Subsidy check passed: {programme}"),
        body=_(
            "Your application {reference} meets every criterion (amount {amount} CNY). District staff will review it."
        ),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="subsidy_ineligible",
        title=_("Subsidy check not passed: {programme}"),
        body=_(
            "Your application {reference} does not meet every criterion: {reasons}. It is checked again when your details change."
        ),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="subsidy_rejected",
        title=_("Subsidy application rejected: {programme}"),
        body=_("Your application {reference} was rejected. Reason: {reason}"),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="subsidy_notice",
        title=_("Subsidy approved, in public notice: {programme}"),
        body=_(
            "Your application {reference} for {amount} CNY is approved and publicly announced until {notice_ends_on}."
        ),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="subsidy_paid",
        title=_("Subsidy paid: {programme}"),
        body=_("{amount} CNY of your application {reference} has been paid."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="subsidy_referred",
        title=_("Referred to the bank: {programme}"),
        body=_(
            "Your application {reference} has been approved and handed to the partner bank, which will contact you."
        ),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="subsidy_objection",
        title=_("Objection to a subsidy in public notice: {reference}"),
        body=_("An objection was filed against {reference} ({programme}). Please resolve it in the admin."),
        channels=(),
    )
)
register_kind(
    NotificationKind(
        code="subsidy_screening",
        title=_("You may qualify: {programme}"),
        body=_(
            "From the details in your profile you now meet the criteria of {programme} ({amount} CNY). Apply online in a few clicks."
        ),
        channels=(Channel.EMAIL,),
    )
)

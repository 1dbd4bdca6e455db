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

# --- talent apartments and affordable rentals -------------------------------------------------

register_kind(
    NotificationKind(
        code="housing_application_submitted",
        title=_("Housing application received: {project}"),
        body=_("Your application {reference} in {round} has been received. District staff will review it."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="housing_application_approved",
        title=_("Housing application approved: {project}"),
        body=_("Your application {reference} in {round} has been approved and takes part in the draw."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="housing_application_rejected",
        title=_("Housing application not approved: {project}"),
        body=_("Your application {reference} in {round} was not approved. Reason: {reason}"),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="housing_ranked",
        title=_("Draw result: {project}"),
        body=_("The draw of {round} is done. Your application {reference} is number {rank} on the {list}."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="housing_offer",
        title=_("A unit is offered to you: {project}"),
        body=_("Unit {unit} ({unit_type}) at {project} is offered to you. Please accept or decline by {deadline}."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="housing_offer_expired",
        title=_("Offer expired: {project}"),
        body=_(
            "You did not answer the offer of unit {unit} at {project} in time; it has passed to the next applicant."
        ),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="housing_offer_withdrawn",
        title=_("Offer withdrawn: {project}"),
        body=_("The offer of unit {unit} at {project} has been withdrawn. Reason: {reason}"),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="housing_lease",
        title=_("Your lease: {project}"),
        body=_("You accepted unit {unit} at {project}. Your lease and its rent-free months are in My housing."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="housing_lease_renewed",
        title=_("Lease renewed: {project}"),
        body=_("Your lease of unit {unit} at {project} is renewed until {end}, with {rent_free} rent-free months."),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="housing_unsuccessful",
        title=_("No unit this round: {project}"),
        body=_(
            "The round {round} has closed without a unit for your application {reference}. You may apply in the next round."
        ),
        channels=(Channel.EMAIL,),
    )
)
register_kind(
    NotificationKind(
        code="housing_recheck",
        title=_("Yearly check: are you still working in Luoyang?"),
        body=_("You rent unit {unit} at {project}. Please confirm that you still work or run a business in Luoyang."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="housing_recheck_staff",
        title=_("Yearly re-check due: {project} {unit}"),
        body=_("The yearly re-check of the tenant {tenant} of unit {unit} at {project} is due."),
        channels=(),
    )
)

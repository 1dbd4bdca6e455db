"""What the apartments app holds about a person: their data export, their part of an account
deletion and the retention of closed stays, applications and leases (ADR 0009). Leases,
offers and decisions are kept; the person's free texts, papers and facts go."""

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apartments.constants import HousingApplicationStatus, LeaseStatus, OfferStatus, RoundStatus, StayStatus
from apartments.models import BedAlert, FollowUp, HousingApplication, HousingOffer, Lease, LeaseRecheck, Stay
from portal.privacy import (
    ANONYMISED,
    register_anonymiser,
    register_exporter,
    register_obligations,
    register_retention,
    register_withdrawal,
    rows,
    scrub_eligibility,
)

H = HousingApplicationStatus
CLOSED_STAYS = (StayStatus.CHECKED_OUT, StayStatus.CANCELLED, StayStatus.NO_SHOW)
CLOSED_HOUSING = (H.REJECTED, H.WITHDRAWN, H.DECLINED, H.UNSUCCESSFUL)


@register_exporter("youth_stations")
def export_stations(user) -> dict:
    return {
        "stays": rows(
            Stay.objects.filter(applicant=user),
            ["station__name", "check_in", "nights", "status", "status_reason", "created_at", "checked_in_at"],
        ),
        "bed_alerts": rows(BedAlert.objects.filter(user=user), ["station__name", "start", "end", "created_at"]),
        "follow_ups": rows(
            FollowUp.objects.filter(stay__applicant=user),
            ["stage", "due_on", "outcome", "employer", "note", "answered_at"],
        ),
    }


@register_exporter("housing")
def export_housing(user) -> dict:
    return {
        "applications": rows(
            HousingApplication.objects.filter(applicant=user),
            [
                "id",
                "round__project__name",
                "round__name",
                "status",
                "household_size",
                "no_home_declared_at",
                "note",
                "applicant_list",
                "bucket",
                "rank",
                "status_reason",
                "created_at",
            ],
        ),
        "offers": rows(
            HousingOffer.objects.filter(application__applicant=user),
            ["unit__project__name", "unit__number", "status", "deadline", "responded_at"],
        ),
        "leases": rows(
            Lease.objects.filter(tenant=user),
            ["unit__project__name", "unit__number", "start", "end", "monthly_rent", "rent_free_months", "status"],
        ),
        "yearly_rechecks": rows(
            LeaseRecheck.objects.filter(lease__tenant=user), ["due_on", "answer", "employer", "answered_at"]
        ),
    }


@register_obligations("apartments")
def apartment_obligations(user) -> list[str]:
    """A home, a bed or an offer the person holds: each must end or be answered first."""
    messages = []
    for lease in Lease.objects.filter(tenant=user, status=LeaseStatus.ACTIVE).select_related("unit__project"):
        messages.append(
            _("You rent %(unit)s until %(end)s: the lease must end first (district staff record the move-out).")
            % {"unit": lease.unit, "end": lease.end.isoformat()}
        )
    offers = HousingOffer.objects.filter(application__applicant=user, status=OfferStatus.OFFERED).select_related(
        "unit__project"
    )
    for offer in offers:
        messages.append(_("%(unit)s is offered to you: accept or decline the offer first.") % {"unit": offer.unit})
    today = timezone.localdate()
    for stay in Stay.objects.filter(applicant=user, status=StayStatus.CHECKED_IN).select_related("station"):
        messages.append(
            _("You are staying at %(station)s: check out with the station staff first.") % {"station": stay.station}
        )
    missed = Stay.objects.filter(applicant=user, status=StayStatus.BOOKED, check_in__lt=today).select_related("station")
    for stay in missed:
        messages.append(
            _("Your booking at %(station)s from %(date)s waits for the station to record whether you came.")
            % {"station": stay.station, "date": stay.check_in.isoformat()}
        )
    return messages


@register_withdrawal("apartments")
def withdraw_apartments(user) -> list[str]:
    """Future bookings are cancelled (the nights go back to the station) and open housing
    applications withdrawn. After the draw an applicant cannot withdraw (they decline an
    offer instead); with no offer to decline, the portal withdraws for them."""
    from apartments import services
    from portal.services import transition
    from portal.services.deletion import withdrawal_reason

    reason = withdrawal_reason()
    withdrawn = []
    today = timezone.localdate()
    for stay in Stay.objects.filter(applicant=user, status=StayStatus.BOOKED, check_in__gte=today):
        services.stay_cancel(stay=stay, actor=user, reason=reason)
        withdrawn.append(f"apartments.stay #{stay.pk}")
    open_applications = HousingApplication.objects.filter(
        applicant=user, status__in=(H.SUBMITTED, H.APPROVED)
    ).select_related("round")
    for app in open_applications:
        if app.round.status == RoundStatus.OPEN:
            services.housing_application_withdraw(application=app, actor=user, reason=reason)
        else:
            transition(obj=app, to=H.WITHDRAWN, actor=None, reason=reason)
        withdrawn.append(f"apartments.housingapplication #{app.pk}")
    return withdrawn


def _clear_stays(ids: list[int]) -> int:
    stays = list(Stay.objects.filter(pk__in=ids).only("pk", "eligibility"))
    for stay in stays:
        stay.eligibility = scrub_eligibility(stay.eligibility)
        stay.invitation_document = None
    Stay.objects.bulk_update(stays, ["eligibility", "invitation_document"])
    FollowUp.objects.filter(stay_id__in=ids).filter(~Q(employer="") | ~Q(note="")).update(employer="", note="")
    return len(stays)


def _clear_housing(ids: list[int]) -> int:
    apps = list(HousingApplication.objects.filter(pk__in=ids).only("pk", "eligibility"))
    for app in apps:
        app.eligibility = scrub_eligibility(app.eligibility)
        app.note = ""
    HousingApplication.objects.bulk_update(apps, ["eligibility", "note"])
    HousingApplication.documents.through.objects.filter(housingapplication_id__in=ids).delete()
    return len(apps)


def _clear_leases(ids: list[int]) -> int:
    cleared = Lease.objects.filter(pk__in=ids).exclude(move_out_notes="").update(move_out_notes="")
    LeaseRecheck.objects.filter(lease_id__in=ids).exclude(employer="").update(employer="")
    return cleared


@register_anonymiser("apartments")
def anonymise_apartments(user) -> dict[str, int]:
    """Leases (unit, term, rent, rent-free months), offers, ranks and statuses stay."""
    return {
        "stays": _clear_stays(list(Stay.objects.filter(applicant=user).values_list("pk", flat=True))),
        "housing_applications": _clear_housing(
            list(HousingApplication.objects.filter(applicant=user).values_list("pk", flat=True))
        ),
        "lease_notes": _clear_leases(list(Lease.objects.filter(tenant=user).values_list("pk", flat=True))),
        "bed_alerts": BedAlert.objects.filter(user=user).delete()[0],
    }


@register_retention("apartments")
def retain_apartments(*, cutoff, batch_size: int) -> list[tuple[type, int]]:
    stays = Stay.objects.filter(status__in=CLOSED_STAYS, updated_at__lt=cutoff).filter(
        ~Q(eligibility__has_key=ANONYMISED)
        | Q(invitation_document__isnull=False)
        | Exists(FollowUp.objects.filter(stay_id=OuterRef("pk")).filter(~Q(employer="") | ~Q(note="")))
    )
    stay_ids = list(stays.order_by("pk").values_list("pk", flat=True)[:batch_size])
    _clear_stays(stay_ids)

    # A housed applicant's application closes with the last lease of the tenancy.
    housed_and_gone = Q(status=H.HOUSED) & ~Exists(
        Lease.objects.filter(tenant_id=OuterRef("applicant_id"), status=LeaseStatus.ACTIVE)
    )
    applications = HousingApplication.objects.filter(
        Q(status__in=CLOSED_HOUSING) | housed_and_gone, updated_at__lt=cutoff
    ).filter(
        ~Q(eligibility__has_key=ANONYMISED)
        | ~Q(note="")
        | Exists(HousingApplication.documents.through.objects.filter(housingapplication_id=OuterRef("pk")))
    )
    application_ids = list(applications.order_by("pk").values_list("pk", flat=True)[:batch_size])
    _clear_housing(application_ids)

    leases = Lease.objects.filter(status__in=(LeaseStatus.ENDED, LeaseStatus.RENEWED), updated_at__lt=cutoff).filter(
        ~Q(move_out_notes="") | Exists(LeaseRecheck.objects.filter(lease_id=OuterRef("pk")).exclude(employer=""))
    )
    lease_ids = list(leases.order_by("pk").values_list("pk", flat=True)[:batch_size])
    _clear_leases(lease_ids)
    return (
        [(Stay, pk) for pk in stay_ids]
        + [(HousingApplication, pk) for pk in application_ids]
        + [(Lease, pk) for pk in lease_ids]
    )

"""The youth-station and housing sections of "My applications" (``portal.dashboard``): the
graduate's stays, housing applications with their offer and lease, and leases of their own,
read through the app's selectors."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apartments import selectors
from apartments.constants import ACTIVE_STAY_STATES, HousingApplicationStatus, LeaseStatus, OfferStatus, StayStatus
from apartments.models import Lease
from portal.dashboard import Action, Link, Row, Section, when
from portal.models import User

STAY_TONES = {
    StayStatus.BOOKED: "info",
    StayStatus.CHECKED_IN: "ok",
    StayStatus.CHECKED_OUT: "muted",
    StayStatus.CANCELLED: "muted",
    StayStatus.NO_SHOW: "err",
}

HOUSING_TONES = {
    HousingApplicationStatus.SUBMITTED: "info",
    HousingApplicationStatus.APPROVED: "ok",
    HousingApplicationStatus.REJECTED: "err",
    HousingApplicationStatus.WITHDRAWN: "muted",
    HousingApplicationStatus.HOUSED: "ok",
    HousingApplicationStatus.DECLINED: "muted",
    HousingApplicationStatus.UNSUCCESSFUL: "muted",
}

LEASE_TONES = {LeaseStatus.ACTIVE: "ok", LeaseStatus.RENEWED: "muted", LeaseStatus.ENDED: "muted"}

# Waiting for staff or the draw: the application is still in progress.
WAITING_HOUSING_STATES = (HousingApplicationStatus.SUBMITTED, HousingApplicationStatus.APPROVED)


def stays_section(user: User) -> Section:
    """Two queries (the stays, their follow-ups) however many stays."""
    page = reverse("apartments:my_stays")
    rows = []
    for stay in selectors.stays_of(user=user):
        open_follow_ups = [f for f in stay.follow_ups.all() if not f.outcome and f.sent_at]
        action = None
        if open_follow_ups:
            action = Action(_("Answer the follow-up questions about your stay"), page)
        elif stay.status == StayStatus.BOOKED:
            action = Action(
                _("Check in on %(date)s, or cancel the booking in time if your plans change")
                % {"date": when(stay.check_in)},
                page,
            )
        nights = stay.nights_stayed
        details = [
            f"{when(stay.check_in)} → {when(stay.left_on)} · "
            + ngettext("%(n)d night", "%(n)d nights", nights) % {"n": nights}
        ]
        if stay.status_reason:
            details.append(stay.status_reason)
        rows.append(
            Row(
                key=f"stay-{stay.pk}",
                title=stay.station.name,
                url=page,
                status=stay.status,
                status_label=stay.get_status_display(),
                tone=STAY_TONES.get(stay.status, "info"),
                date=stay.check_in,
                date_label=_("Check-in"),
                is_open=stay.status in ACTIVE_STAY_STATES or bool(open_follow_ups),
                changed=stay.updated_at,
                details=details,
                action=action,
            )
        )
    return Section(
        key="stays",
        title=_("Youth stations"),
        rows=rows,
        start=Link(_("Book free nights at a youth station"), reverse("apartments:stations")),
        links=[Link(_("All my stays"), page)],
    )


def _lease_line(lease: Lease) -> str:
    return _("Lease %(start)s – %(end)s: %(status)s") % {
        "start": when(lease.start),
        "end": when(lease.end),
        "status": lease.get_status_display(),
    }


def housing_section(user: User) -> Section:
    """Five queries however many applications: the applications, their unit types and offers
    (the selector's prefetches), the leases, and the yearly re-checks waiting for an answer."""
    now = timezone.now()
    page = reverse("apartments:my_housing")
    leases = list(selectors.leases_of(user=user))
    leases_by_offer = {lease.offer_id: lease for lease in leases if lease.offer_id}
    rechecks = {r.lease_id: r for r in selectors.rechecks_waiting(user=user)}
    shown_leases: set[int] = set()
    rows = []

    def recheck_action(lease: Lease | None) -> Action | None:
        recheck = rechecks.get(lease.pk) if lease else None
        if recheck is None:
            return None
        return Action(_("Answer the yearly re-check by %(date)s") % {"date": when(recheck.due_on)}, page)

    for application in selectors.applications_of(user=user):
        round_ = application.round
        details = [_("Application %(reference)s") % {"reference": application.reference}]
        offers = list(application.offers.all())  # newest first
        offer = offers[0] if offers else None
        lease = None
        action = None
        if offer is not None:
            details.append(
                _("Unit offered: %(unit)s (%(type)s) · %(status)s")
                % {"unit": offer.unit.label, "type": offer.unit.unit_type.name, "status": offer.get_status_display()}
            )
            if offer.status == OfferStatus.OFFERED and offer.deadline > now:
                action = Action(_("Answer the offer by %(date)s") % {"date": when(offer.deadline)}, page)
            lease = leases_by_offer.get(offer.pk)
        if lease is not None:
            shown_leases.add(lease.pk)
            details.append(_lease_line(lease))
            action = action or recheck_action(lease)
        if application.status_reason:
            details.append(application.status_reason)
        rows.append(
            Row(
                key=f"housing-{application.pk}",
                title=f"{round_.project.name} · {round_.name}",
                url=page,
                status=application.status,
                status_label=application.get_status_display(),
                tone=HOUSING_TONES.get(application.status, "info"),
                date=application.created_at,
                date_label=_("Applied on"),
                is_open=application.status in WAITING_HOUSING_STATES
                or action is not None
                or (lease is not None and lease.status == LeaseStatus.ACTIVE),
                changed=max(application.updated_at, lease.updated_at) if lease else application.updated_at,
                details=details,
                action=action,
            )
        )
    # Leases no application above leads to (a renewal, a tenancy entered by staff).
    for lease in leases:
        if lease.pk in shown_leases:
            continue
        rows.append(
            Row(
                key=f"lease-{lease.pk}",
                title=f"{lease.unit.project.name} · {lease.unit.label}",
                url=page,
                status=lease.status,
                status_label=lease.get_status_display(),
                tone=LEASE_TONES.get(lease.status, "info"),
                date=lease.start,
                date_label=_("Lease from"),
                is_open=lease.status == LeaseStatus.ACTIVE,
                changed=lease.updated_at,
                details=[_lease_line(lease)],
                action=recheck_action(lease),
            )
        )
    return Section(
        key="housing",
        title=_("Talent apartments and affordable rentals"),
        rows=rows,
        start=Link(_("See the housing projects"), reverse("apartments:projects")),
        links=[Link(_("My housing"), page)],
    )

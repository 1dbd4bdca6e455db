"""The events section of "My applications" (``portal.dashboard``): the person's event
registrations with their status, waiting-list position and a place to confirm, read through
``selectors.registrations_of``."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from events import selectors
from events.constants import OPEN_STATES, RegistrationStatus
from portal.dashboard import Action, Link, Row, Section, when
from portal.models import User

TONES = {
    RegistrationStatus.CONFIRMED: "ok",
    RegistrationStatus.WAITLISTED: "info",
    RegistrationStatus.PENDING: "info",
    RegistrationStatus.OFFERED: "warn",
    RegistrationStatus.CANCELLED: "muted",
    RegistrationStatus.ATTENDED: "ok",
    RegistrationStatus.NO_SHOW: "err",
}


def section(user: User) -> Section:
    """One query, plus one when a registration is on a waiting list, however many rows."""
    now = timezone.now()
    page = reverse("events:mine")
    rows = []
    for registration in selectors.registrations_of(user=user):
        event = registration.event
        details = [event.where]
        position = getattr(registration, "position", None)
        if position:
            details.append(_("Number %(n)d on the waiting list") % {"n": position})
        action = None
        if registration.status == RegistrationStatus.OFFERED and (
            registration.offer_expires_at is None or registration.offer_expires_at > now
        ):
            text = (
                _("Confirm your place by %(date)s") % {"date": when(registration.offer_expires_at)}
                if registration.offer_expires_at
                else _("Confirm your place")
            )
            action = Action(text, page)
        rows.append(
            Row(
                key=f"registration-{registration.pk}",
                title=event.title,
                url=page,
                status=registration.status,
                status_label=registration.get_status_display(),
                tone=TONES.get(registration.status, "info"),
                date=event.starts_at,
                date_label=_("Event on"),
                is_open=registration.status in OPEN_STATES and event.ends_at >= now,
                # A registration closes at the latest when its event ends.
                changed=max(registration.updated_at, event.ends_at) if event.ends_at < now else registration.updated_at,
                details=details,
                action=action,
            )
        )
    return Section(
        key="events",
        title=_("Community events"),
        rows=rows,
        start=Link(_("See the events"), reverse("events:list")),
        links=[Link(_("My events"), page)],
    )

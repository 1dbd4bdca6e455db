"""The jobs section of "My applications" (``portal.dashboard``): the graduate's job
applications with their status and interview, read through ``selectors.applications_of``."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs import selectors
from jobs.constants import OPEN_APPLICATION_STATES, ApplicationStatus
from portal.dashboard import Action, Link, Row, Section, when
from portal.models import User

TONES = {
    ApplicationStatus.SUBMITTED: "info",
    ApplicationStatus.VIEWED: "info",
    ApplicationStatus.INTERVIEW: "warn",
    ApplicationStatus.OFFERED: "ok",
    ApplicationStatus.HIRED: "ok",
    ApplicationStatus.REJECTED: "err",
    ApplicationStatus.WITHDRAWN: "muted",
}


def section(user: User) -> Section:
    """Two queries (the applications, their interviews) however many applications."""
    now = timezone.now()
    page = reverse("jobs:my_applications")
    rows = []
    for application in selectors.applications_of(user=user):
        position = application.position
        details = [f"{position.organisation.name} · {position.district.name}"]
        action = None
        is_open = application.status in OPEN_APPLICATION_STATES
        upcoming = sorted((i for i in application.interviews.all() if i.starts_at >= now), key=lambda i: i.starts_at)
        if upcoming and is_open:
            interview = upcoming[0]
            where = interview.place or _("online meeting")
            details.append(_("Interview: %(when)s · %(where)s") % {"when": when(interview.starts_at), "where": where})
            action = Action(_("Go to the interview on %(when)s") % {"when": when(interview.starts_at)}, page)
        if application.status_reason and not is_open:
            details.append(application.status_reason)
        rows.append(
            Row(
                key=f"job-{application.pk}",
                title=position.title,
                url=page,
                status=application.status,
                status_label=application.get_status_display(),
                tone=TONES.get(application.status, "info"),
                date=application.created_at,
                date_label=_("Applied on"),
                is_open=is_open,
                changed=application.updated_at,
                details=details,
                action=action,
            )
        )
    return Section(
        key="jobs",
        title=_("Jobs and internships"),
        rows=rows,
        start=Link(_("Find positions"), reverse("jobs:search")),
        links=[Link(_("All job applications"), page)],
    )

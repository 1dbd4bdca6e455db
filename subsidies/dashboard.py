"""The subsidies section of "My applications" (``portal.dashboard``): the graduate's own
subsidy applications with their period, amount, status and public notice, read through
``selectors.applications_of``. Claims an employer makes for a hire are the organisation's,
not the person's: the section only points to them on "My subsidies"."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from portal.dashboard import Action, Link, Row, Section, when
from portal.models import User
from subsidies import selectors
from subsidies.constants import SubsidyStatus

# The colours "My subsidies" gives each status (.subsidies .status-… in portal.css).
TONES = {
    SubsidyStatus.DRAFT: "muted",
    SubsidyStatus.SUBMITTED: "warn",
    SubsidyStatus.ELIGIBLE: "ok",
    SubsidyStatus.INELIGIBLE: "err",
    SubsidyStatus.UNDER_REVIEW: "warn",
    SubsidyStatus.APPROVED: "ok",
    SubsidyStatus.REJECTED: "err",
    SubsidyStatus.NOTICE: "warn",
    SubsidyStatus.PAYABLE: "ok",
    SubsidyStatus.PAID: "ok",
    SubsidyStatus.REFERRED: "ok",
    SubsidyStatus.WITHDRAWN: "muted",
}

# Nothing more happens to these.
CLOSED_STATES = (SubsidyStatus.REJECTED, SubsidyStatus.WITHDRAWN, SubsidyStatus.PAID, SubsidyStatus.REFERRED)


def section(user: User) -> Section:
    """One query however many applications."""
    rows = []
    claims = False
    for app in selectors.applications_of(user=user):
        if app.organisation_id is not None:
            claims = True
            continue
        url = reverse("subsidies:application", args=[app.pk])
        if app.programme.pays_money:
            amount = _("%(amount)s CNY") % {"amount": f"{app.amount:.2f}"}
        else:
            amount = _("referral to the bank, no payment")
        details = [f"{selectors.period_label(app)} · {amount}"]
        if app.status == SubsidyStatus.NOTICE and app.notice_ends_on:
            details.append(_("Public notice until %(date)s") % {"date": when(app.notice_ends_on)})
        if app.status == SubsidyStatus.REJECTED and app.status_reason:
            details.append(app.status_reason)
        action = None
        if app.status == SubsidyStatus.INELIGIBLE:
            action = Action(_("See which criteria are not met"), url)
        rows.append(
            Row(
                key=f"subsidy-{app.pk}",
                title=app.programme.name,
                url=url,
                status=app.status,
                status_label=app.get_status_display(),
                tone=TONES.get(app.status, "info"),
                date=app.created_at,
                date_label=_("Applied on"),
                is_open=app.status not in CLOSED_STATES,
                changed=app.updated_at,
                details=details,
                action=action,
            )
        )
    mine = reverse("subsidies:mine")
    return Section(
        key="subsidies",
        title=_("Subsidies"),
        rows=rows,
        start=Link(_("See the subsidy programmes"), reverse("subsidies:programmes")),
        links=[Link(_("My subsidies"), mine)],
        notes=[Link(_("Claims of my organisations"), mine)] if claims else [],
    )

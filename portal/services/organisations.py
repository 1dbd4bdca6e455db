from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import workflow
from portal.constants import MemberRole, OrganisationStatus, Role
from portal.models import AuditEntry, Membership, Organisation, User
from portal.permissions import can_review_district, is_member
from portal.selectors import district_staff
from portal.validators import validate_credit_code

from .notifications import notify
from .workflow import transition

ORGANISATION_FIELDS = (
    "name",
    "kind",
    "district",
    "industry",
    "size",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "description",
)


def _member_notifications(org: Organisation, entry: AuditEntry, kind: str):
    context = {"organisation": org.name, "reason": entry.reason or "-", "link": "/organisations/"}
    for membership in org.memberships.select_related("user"):
        yield membership.user, kind, context


def _staff_notifications(org: Organisation, entry: AuditEntry | None):
    reviewers = district_staff(district_id=org.district_id)
    context = {
        "organisation": org.name,
        "district": org.district.name,
        "link": f"/admin/portal/organisation/{org.pk}/change/",
    }
    for user in reviewers:
        yield user, "organisation_submitted", context


def _set_verified_at(org: Organisation, actor, reason):
    org.verified_at = timezone.now()
    org.status_reason = ""
    return ["verified_at", "status_reason"]


def _set_reason(org: Organisation, actor, reason):
    org.status_reason = reason
    return ["status_reason"]


def _reviewer(actor: User, org: Organisation) -> bool:
    return actor.is_portal_staff and can_review_district(actor, org.district_id)


workflow.register(
    workflow.Workflow(
        model_label="portal.Organisation",
        transitions=[
            workflow.Transition(
                OrganisationStatus.PENDING,
                OrganisationStatus.VERIFIED,
                allowed=_reviewer,
                apply=_set_verified_at,
                notify=lambda o, e: _member_notifications(o, e, "organisation_verified"),
            ),
            workflow.Transition(
                OrganisationStatus.PENDING,
                OrganisationStatus.REJECTED,
                allowed=_reviewer,
                requires_reason=True,
                apply=_set_reason,
                notify=lambda o, e: _member_notifications(o, e, "organisation_rejected"),
            ),
            workflow.Transition(
                OrganisationStatus.REJECTED,
                OrganisationStatus.PENDING,
                allowed=lambda actor, org: is_member(actor, org),
                notify=_staff_notifications,
            ),
        ],
    )
)

DUPLICATE_CODE = gettext_lazy("An organisation with this unified social credit code is already registered.")


def organisation_register(*, user: User, data: dict[str, Any]) -> Organisation:
    """Register an employer; the registering user becomes its owner and the organisation
    waits for verification by staff of its district."""
    code = validate_credit_code(data.get("credit_code", ""))
    if Organisation.objects.filter(credit_code=code).exists():
        raise ValidationError({"credit_code": str(DUPLICATE_CODE)})
    with transaction.atomic():
        org = Organisation(credit_code=code, **{k: data[k] for k in ORGANISATION_FIELDS if k in data})
        org.full_clean(exclude=["credit_code"])
        try:
            with transaction.atomic():
                org.save()
        except IntegrityError as exc:
            raise ValidationError({"credit_code": str(DUPLICATE_CODE)}) from exc
        Membership.objects.create(organisation=org, user=user, role=MemberRole.OWNER)
        if user.role == Role.GRADUATE:
            user.role = Role.EMPLOYER
            user.save(update_fields=["role"])
        for staff_user, kind, context in _staff_notifications(org, None):
            notify(user=staff_user, kind=kind, context=context)
    return org


def organisation_update(*, organisation: Organisation, actor: User, data: dict[str, Any]) -> Organisation:
    """Members correct their organisation's details. A verified organisation keeps its
    credit code; a rejected one goes back to verification."""
    if not is_member(actor, organisation):
        raise PermissionDenied(_("You are not a member of this organisation."))
    with transaction.atomic():
        org = Organisation.objects.select_for_update().get(pk=organisation.pk)
        for name in ORGANISATION_FIELDS:
            if name in data:
                setattr(org, name, data[name])
        org.full_clean()
        org.save()
        if org.status == OrganisationStatus.REJECTED:
            transition(obj=org, to=OrganisationStatus.PENDING, actor=actor)
    organisation.refresh_from_db()
    return organisation


def organisation_verify(*, organisation: Organisation, actor: User) -> AuditEntry:
    return transition(obj=organisation, to=OrganisationStatus.VERIFIED, actor=actor)


def organisation_reject(*, organisation: Organisation, actor: User, reason: str) -> AuditEntry:
    return transition(obj=organisation, to=OrganisationStatus.REJECTED, actor=actor, reason=reason)

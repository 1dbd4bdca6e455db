"""Every write of the jobs programme: positions from draft to publication and expiry,
traineeship bases, and applications from submission to hire."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs import rules
from jobs.constants import OPEN_APPLICATION_STATES, POSITION_FIELDS, ApplicationStatus, PositionStatus, RejectionReason
from jobs.models import Interview, JobApplication, Position, TraineeshipBase
from portal import selectors as portal_selectors
from portal import services as portal_services
from portal import workflow
from portal.constants import DocumentKind
from portal.models import AuditEntry, Document, Organisation, User
from portal.permissions import can_review_district, is_member, register_document_reader

# --- permissions used by the workflow tables ----------------------------------------------


def _position_member(actor: User, position: Position) -> bool:
    return is_member(actor, position.organisation)


def _position_reviewer(actor: User, position: Position) -> bool:
    return actor.is_portal_staff and can_review_district(actor, position.district_id)


def _member_or_reviewer(actor: User, position: Position) -> bool:
    return _position_member(actor, position) or _position_reviewer(actor, position)


def _application_employer(actor: User, application: JobApplication) -> bool:
    return is_member(actor, application.position.organisation)


def _application_applicant(actor: User, application: JobApplication) -> bool:
    return actor.pk == application.applicant_id


# --- notifications produced by transitions ------------------------------------------------


def _members(organisation: Organisation) -> Iterable[User]:
    return [m.user for m in organisation.memberships.select_related("user")]


def _position_decided(kind: str):
    def produce(position: Position, entry: AuditEntry):
        reason = position.get_rejection_reason_display() if position.rejection_reason else ""
        if entry.reason and entry.reason != reason:
            reason = f"{reason} {entry.reason}".strip()
        context = {
            "position": position.title,
            "reason": reason or "-",
            "link": reverse("jobs:employer_position", args=[position.pk]),
        }
        for user in _members(position.organisation):
            yield user, kind, context

    return produce


def _position_submitted(position: Position, entry: AuditEntry):
    reviewers = portal_selectors.district_staff(district_id=position.district_id)
    context = {
        "position": position.title,
        "organisation": position.organisation.name,
        "link": reverse("admin:jobs_position_change", args=[position.pk]),
    }
    for user in reviewers:
        yield user, "position_submitted", context


def _application_changed(application: JobApplication, entry: AuditEntry):
    position = application.position
    if entry.to_status == ApplicationStatus.WITHDRAWN:
        context = {
            "position": position.title,
            "applicant": _applicant_name(application.applicant),
            "link": reverse("jobs:employer_application", args=[application.pk]),
        }
        for user in _members(position.organisation):
            yield user, "application_withdrawn", context
        return
    if entry.to_status == ApplicationStatus.INTERVIEW:
        return  # the invitation itself sends a richer message
    context = {
        "position": position.title,
        "organisation": position.organisation.name,
        "status": ApplicationStatus(entry.to_status).label,
        "reason": entry.reason,
        "link": reverse("jobs:my_applications"),
    }
    yield application.applicant, "application_status", context


def _applicant_name(user: User) -> str:
    profile = getattr(user, "profile", None)
    return (profile.real_name if profile and profile.real_name else "") or _("A graduate")


def _set_published(position: Position, actor, reason):
    position.published_at = timezone.now()
    position.status_reason = ""
    position.rejection_reason = ""
    return ["published_at", "status_reason", "rejection_reason"]


def _set_reason(obj, actor, reason):
    obj.status_reason = reason
    return ["status_reason"]


def _after_hire(application: JobApplication, actor, reason):
    # A hire is the policy's "graduate retained in Luoyang": the profile records it.
    portal_services.profile_record_employment(
        user=application.applicant, employer=application.position.organisation.name, in_luoyang=True
    )
    application.hired_on = timezone.localdate()
    return ["hired_on"]


P = PositionStatus
workflow.register(
    workflow.Workflow(
        model_label="jobs.Position",
        transitions=[
            workflow.Transition(P.DRAFT, P.PENDING, allowed=_position_member, notify=_position_submitted),
            workflow.Transition(P.REJECTED, P.PENDING, allowed=_position_member, notify=_position_submitted),
            workflow.Transition(
                P.PENDING,
                P.PUBLISHED,
                allowed=_position_reviewer,
                apply=_set_published,
                notify=_position_decided("position_published"),
            ),
            workflow.Transition(
                P.PENDING,
                P.REJECTED,
                allowed=_position_reviewer,
                apply=_set_reason,
                notify=_position_decided("position_rejected"),
            ),
            workflow.Transition(P.PUBLISHED, P.CLOSED, allowed=_member_or_reviewer),
            workflow.Transition(P.PUBLISHED, P.EXPIRED, allowed=_member_or_reviewer),
            workflow.Transition(P.DRAFT, P.CLOSED, allowed=_position_member),
        ],
    )
)

A = ApplicationStatus
_application_transitions = [
    workflow.Transition(A.SUBMITTED, A.VIEWED, allowed=_application_employer, notify=_application_changed),
    workflow.Transition(A.SUBMITTED, A.INTERVIEW, allowed=_application_employer, notify=_application_changed),
    workflow.Transition(A.VIEWED, A.INTERVIEW, allowed=_application_employer, notify=_application_changed),
    workflow.Transition(A.VIEWED, A.OFFERED, allowed=_application_employer, notify=_application_changed),
    workflow.Transition(A.INTERVIEW, A.OFFERED, allowed=_application_employer, notify=_application_changed),
    workflow.Transition(
        A.OFFERED, A.HIRED, allowed=_application_employer, apply=_after_hire, notify=_application_changed
    ),
]
for _state in OPEN_APPLICATION_STATES:
    _application_transitions += [
        workflow.Transition(
            _state, A.REJECTED, allowed=_application_employer, apply=_set_reason, notify=_application_changed
        ),
        workflow.Transition(_state, A.WITHDRAWN, allowed=_application_applicant, notify=_application_changed),
    ]
workflow.register(workflow.Workflow(model_label="jobs.JobApplication", transitions=_application_transitions))


# --- positions ------------------------------------------------------------------------------


def _validate_position(position: Position) -> None:
    errors: dict[str, list[str]] = {}
    if (
        position.salary_min is not None
        and position.salary_max is not None
        and position.salary_max < position.salary_min
    ):
        errors.setdefault("salary_max", []).append(_("The upper end of the pay range is below the lower end."))
    if position.deadline and position.deadline < timezone.localdate():
        errors.setdefault("deadline", []).append(_("The application deadline is in the past."))
    if position.headcount is not None and position.headcount < 1:
        errors.setdefault("headcount", []).append(_("The headcount must be at least 1."))
    if errors:
        raise ValidationError(errors)


def position_create(*, organisation: Organisation, actor: User, data: dict[str, Any]) -> Position:
    """A member of a verified organisation drafts a position."""
    if not is_member(actor, organisation):
        raise PermissionDenied(_("You are not a member of this organisation."))
    if not organisation.is_verified:
        raise ValidationError(
            _("Only verified organisations can post positions. Wait for your district to verify yours.")
        )
    position = Position(organisation=organisation, created_by=actor, status=PositionStatus.DRAFT)
    for name in POSITION_FIELDS:
        if name in data:
            setattr(position, name, data[name])
    _validate_position(position)
    position.search_text = position.compose_search_text()
    position.save()
    return position


def position_update(*, position: Position, actor: User, data: dict[str, Any]) -> Position:
    """Edit a draft or a rejected position (published ones are closed and posted anew)."""
    if not is_member(actor, position.organisation):
        raise PermissionDenied(_("You are not a member of this organisation."))
    with transaction.atomic():
        locked = Position.objects.select_for_update().select_related("organisation").get(pk=position.pk)
        if locked.status not in (PositionStatus.DRAFT, PositionStatus.REJECTED):
            raise ValidationError(_("Only drafts and rejected positions can be edited."))
        for name in POSITION_FIELDS:
            if name in data:
                setattr(locked, name, data[name])
        _validate_position(locked)
        locked.search_text = locked.compose_search_text()
        locked.save()
    return locked


def position_submit(*, position: Position, actor: User) -> AuditEntry:
    if not position.organisation.is_verified:
        raise ValidationError(
            _("Only verified organisations can post positions. Wait for your district to verify yours.")
        )
    return portal_services.transition(obj=position, to=PositionStatus.PENDING, actor=actor)


def position_approve(*, position: Position, actor: User) -> AuditEntry:
    return portal_services.transition(obj=position, to=PositionStatus.PUBLISHED, actor=actor)


def position_reject(*, position: Position, actor: User, reason_code: str, note: str = "") -> AuditEntry:
    """Reject with one of the canned reasons, plus free text (required for "other")."""
    try:
        reason = RejectionReason(reason_code)
    except ValueError:
        raise ValidationError(_("Choose a reason from the list.")) from None
    note = (note or "").strip()
    if reason == RejectionReason.OTHER and not note:
        raise ValidationError(_("Please explain the reason in the note."))
    with transaction.atomic():
        Position.objects.filter(pk=position.pk).update(rejection_reason=reason)
        position.rejection_reason = reason
        text = f"{reason.label}{'：' + note if note else ''}"
        return portal_services.transition(obj=position, to=PositionStatus.REJECTED, actor=actor, reason=text)


def position_close(*, position: Position, actor: User) -> AuditEntry:
    target = PositionStatus.CLOSED
    return portal_services.transition(obj=position, to=target, actor=actor)


def position_expire(*, position: Position, actor: User | None) -> AuditEntry:
    return portal_services.transition(obj=position, to=PositionStatus.EXPIRED, actor=actor)


def positions_expire_due(*, today: dt.date | None = None) -> int:
    """Expire every published position whose deadline has passed (celery beat, hourly)."""
    today = today or timezone.localdate()
    count = 0
    for pk in Position.objects.filter(status=PositionStatus.PUBLISHED, deadline__lt=today).values_list("pk", flat=True):
        position = Position.objects.get(pk=pk)
        try:
            position_expire(position=position, actor=None)
        except ValidationError:
            continue  # closed meanwhile by its employer
        count += 1
    return count


def traineeship_base_designate(*, organisation: Organisation, actor: User, description: str = "") -> TraineeshipBase:
    """Staff designate a verified organisation as a traineeship base (见习基地)."""
    if not (actor.is_portal_staff and can_review_district(actor, organisation.district_id)):
        raise PermissionDenied(_("You may not take this decision."))
    if not organisation.is_verified:
        raise ValidationError(_("Only verified organisations can be traineeship bases."))
    base, _created = TraineeshipBase.objects.update_or_create(
        organisation=organisation, defaults={"active": True, "designated_by": actor, "description": description}
    )
    portal_services.audit_record(
        actor=actor, action="decision", target=organisation, reason="traineeship base designated"
    )
    return base


def traineeship_base_revoke(*, base: TraineeshipBase, actor: User) -> TraineeshipBase:
    if not (actor.is_portal_staff and can_review_district(actor, base.organisation.district_id)):
        raise PermissionDenied(_("You may not take this decision."))
    base.active = False
    base.save(update_fields=["active"])
    portal_services.audit_record(
        actor=actor, action="decision", target=base.organisation, reason="traineeship base revoked"
    )
    return base


# --- applications ---------------------------------------------------------------------------


def job_application_submit(
    *,
    position: Position,
    applicant: User,
    cover_note: str = "",
    cv_upload: UploadedFile | None = None,
    shared_document_ids: Sequence[int] = (),
    today: dt.date | None = None,
) -> JobApplication:
    """Apply from the profile. The rule checks the position is open, the profile complete
    (with consent) and the education level; the database allows one application per
    graduate and position, however many requests arrive at once."""
    today = today or timezone.localdate()
    profile = portal_services.profile_get_or_create(user=applicant)
    completeness = portal_selectors.profile_completeness(profile=profile)
    result = rules.can_apply(
        position=position, completeness=completeness, education_level=profile.education_level, today=today
    )
    if not result.eligible:
        # One error per failed criterion, coded as the rule codes it (position_open,
        # profile_complete, education), so pages and the API can tell them apart.
        raise ValidationError([ValidationError(str(c.message), code=c.code) for c in result.failures])
    if JobApplication.objects.filter(position=position, applicant=applicant).exists():
        raise ValidationError(_("You have already applied for this position."), code="duplicate")
    documents = list(
        Document.objects.filter(owner=applicant, organisation__isnull=True, pk__in=list(shared_document_ids))
    )
    if len(documents) != len(set(shared_document_ids)):
        raise ValidationError(_("You can only share your own documents."))
    cv = None
    if cv_upload is not None:
        cv = portal_services.document_upload(owner=applicant, kind=DocumentKind.CV, upload=cv_upload)
        if cv.content_type != "application/pdf":
            portal_services.document_delete(document=cv, actor=applicant)
            raise ValidationError(_("The CV must be a PDF file."))
    try:
        with transaction.atomic():
            application = JobApplication.objects.create(
                position=position, applicant=applicant, cover_note=(cover_note or "").strip()[:2000], cv=cv
            )
            if documents:
                application.shared_documents.set(documents)
            context = {
                "position": position.title,
                "applicant": _applicant_name(applicant),
                "link": reverse("jobs:employer_application", args=[application.pk]),
            }
            for user in _members(position.organisation):
                portal_services.notify(user=user, kind="application_received", context=context)
    except IntegrityError:
        if cv is not None:
            portal_services.document_delete(document=cv, actor=applicant)
        raise ValidationError(_("You have already applied for this position."), code="duplicate") from None
    return application


def job_application_mark_viewed(*, application: JobApplication, actor: User) -> None:
    """Opening a new application marks it viewed, so the graduate knows it was read."""
    if application.status == ApplicationStatus.SUBMITTED and _application_employer(actor, application):
        with contextlib.suppress(ValidationError):  # moved on meanwhile by a colleague
            portal_services.transition(obj=application, to=ApplicationStatus.VIEWED, actor=actor)


def job_application_invite(
    *,
    application: JobApplication,
    actor: User,
    starts_at: dt.datetime,
    place: str = "",
    online_link: str = "",
    note: str = "",
) -> Interview:
    """Invite to an interview (a record other programmes read: the travel subsidy and
    youth-station eligibility). A second invitation adds another interview."""
    if not _application_employer(actor, application):
        raise PermissionDenied(_("You may not take this decision."))
    place, online_link = (place or "").strip(), (online_link or "").strip()
    if not place and not online_link:
        raise ValidationError(_("Give a place or an online meeting link."))
    if starts_at <= timezone.now():
        raise ValidationError(_("The interview must be in the future."))
    with transaction.atomic():
        application = (
            JobApplication.objects.select_for_update().select_related("position__organisation").get(pk=application.pk)
        )
        if application.status not in (
            ApplicationStatus.SUBMITTED,
            ApplicationStatus.VIEWED,
            ApplicationStatus.INTERVIEW,
        ):
            raise ValidationError(_("This application is no longer open for an interview."))
        if application.status != ApplicationStatus.INTERVIEW:
            portal_services.transition(obj=application, to=ApplicationStatus.INTERVIEW, actor=actor)
        interview = Interview.objects.create(
            application=application,
            starts_at=starts_at,
            place=place,
            online_link=online_link,
            note=note,
            invited_by=actor,
        )
        position = application.position
        portal_services.notify(
            user=application.applicant,
            kind="interview_invited",
            context={
                "position": position.title,
                "organisation": position.organisation.name,
                "when": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
                "where": place or online_link,
                "note": note,
                "link": reverse("jobs:my_applications"),
            },
        )
    return interview


def job_application_offer(*, application: JobApplication, actor: User) -> AuditEntry:
    return portal_services.transition(obj=application, to=ApplicationStatus.OFFERED, actor=actor)


def job_application_hire(*, application: JobApplication, actor: User) -> AuditEntry:
    """Confirm the hire: the graduate now works in Luoyang for this employer."""
    return portal_services.transition(obj=application, to=ApplicationStatus.HIRED, actor=actor)


def job_application_reject(*, application: JobApplication, actor: User, reason: str = "") -> AuditEntry:
    return portal_services.transition(obj=application, to=ApplicationStatus.REJECTED, actor=actor, reason=reason)


def job_application_withdraw(*, application: JobApplication, actor: User) -> AuditEntry:
    return portal_services.transition(obj=application, to=ApplicationStatus.WITHDRAWN, actor=actor)


@register_document_reader
def _employer_reads_shared_documents(user: User, document) -> bool:
    """Members of an employer open the CV and the documents an applicant shared with one of
    its positions, and nothing else of the applicant's."""
    applications = JobApplication.objects.filter(
        applicant_id=document.owner_id,
        position__organisation__memberships__user=user,
        status__in=[*OPEN_APPLICATION_STATES, ApplicationStatus.HIRED],  # not after a withdrawal
    )
    return applications.filter(Q(cv=document) | Q(shared_documents=document)).exists()

"""What the jobs app holds about a person: their data export, their part of an account
deletion and the retention of closed applications (ADR 0009)."""

from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Replace
from django.urls import reverse

from jobs.constants import OPEN_APPLICATION_STATES, ApplicationStatus, PositionStatus
from jobs.models import Interview, JobApplication
from portal.models import ApplicantProfile, Notification, pseudonym_for
from portal.privacy import register_anonymiser, register_exporter, register_retention, register_withdrawal, rows

# An application is closed when it was decided or withdrawn, or its position closed or expired.
CLOSED = Q(status__in=[ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN, ApplicationStatus.HIRED]) | Q(
    position__status__in=[PositionStatus.CLOSED, PositionStatus.EXPIRED]
)


@register_exporter("jobs")
def export_jobs(user) -> dict:
    return {
        "applications": rows(
            JobApplication.objects.filter(applicant=user),
            ["position__title", "position__organisation__name", "status", "cover_note", "created_at", "hired_on"],
        ),
        "interviews": rows(
            Interview.objects.filter(application__applicant=user),
            ["application__position__title", "starts_at", "place", "online_link", "note"],
        ),
    }


@register_withdrawal("jobs")
def withdraw_jobs(user) -> list[str]:
    """Open applications, offers included: deleting the account declines them."""
    from jobs import services

    withdrawn = []
    for application in JobApplication.objects.filter(applicant=user, status__in=OPEN_APPLICATION_STATES):
        services.job_application_withdraw(application=application, actor=user)
        withdrawn.append(f"jobs.jobapplication #{application.pk}")
    return withdrawn


def _clear(applications) -> dict[str, int]:
    """The applicant's texts and papers go; status, dates and the hire stay. The employer's
    interview notes about the person go; the interview's time and place stay."""
    ids = list(applications.values_list("pk", flat=True))
    cleared = JobApplication.objects.filter(pk__in=ids).update(cover_note="", cv=None)
    JobApplication.shared_documents.through.objects.filter(jobapplication_id__in=ids).delete()
    interviews = Interview.objects.filter(application_id__in=ids).exclude(note="").update(note="")
    return {"applications": cleared, "interview_notes": interviews}


def _employer_notifications(user, ids: list[int]) -> int:
    """Employers were told "<name> withdrew" with a link to the application: in their inboxes
    the name becomes the pseudonym (copies already sent by e-mail or SMS are out of reach)."""
    profile = ApplicantProfile.objects.filter(user=user).only("real_name").first()
    name = profile.real_name if profile else ""
    if not name or not ids:
        return 0
    links = [reverse("jobs:employer_application", args=[pk]) for pk in ids]
    pseudonym = pseudonym_for(user.pk)
    return (
        Notification.objects.filter(link__in=links)
        .filter(Q(title__contains=name) | Q(body__contains=name))
        .update(
            title=Replace("title", Value(name), Value(pseudonym)), body=Replace("body", Value(name), Value(pseudonym))
        )
    )


@register_anonymiser("jobs")
def anonymise_jobs(user) -> dict[str, int]:
    applications = JobApplication.objects.filter(applicant=user)
    ids = list(applications.values_list("pk", flat=True))
    return {**_clear(applications), "employer_notifications": _employer_notifications(user, ids)}


def _holds_personal_data():
    return (
        ~Q(cover_note="")
        | Q(cv__isnull=False)
        | Exists(JobApplication.shared_documents.through.objects.filter(jobapplication_id=OuterRef("pk")))
        | Exists(Interview.objects.filter(application_id=OuterRef("pk")).exclude(note=""))
    )


@register_retention("jobs")
def retain_jobs(*, cutoff, batch_size: int) -> list[tuple[type, int]]:
    due = JobApplication.objects.filter(CLOSED, updated_at__lt=cutoff).filter(_holds_personal_data())
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch_size])
    _clear(JobApplication.objects.filter(pk__in=ids))
    return [(JobApplication, pk) for pk in ids]

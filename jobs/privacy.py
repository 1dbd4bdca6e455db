"""What the jobs app holds about a person, for their data export."""

from jobs.models import Interview, JobApplication
from portal.privacy import register_exporter, rows


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

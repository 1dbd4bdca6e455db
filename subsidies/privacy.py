"""What the subsidies app holds about a person, for their data export."""

from django.db.models import Q

from portal.privacy import register_exporter, rows
from subsidies.models import Objection, SubsidyApplication


@register_exporter("subsidies")
def export_subsidies(user) -> dict:
    return {
        "applications": rows(
            SubsidyApplication.objects.filter(Q(applicant=user) | Q(beneficiary=user)),
            [
                "id",
                "programme__code",
                "period_start",
                "period_end",
                "details",
                "amount",
                "status",
                "status_reason",
                "notice_ends_on",
                "created_at",
            ],
        ),
        "objections_filed": rows(
            Objection.objects.filter(filed_by=user), ["application_id", "text", "status", "created_at"]
        ),
    }

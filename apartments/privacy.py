"""What the apartments app holds about a person, for their data export."""

from apartments.models import BedAlert, FollowUp, HousingApplication, HousingOffer, Lease, LeaseRecheck, Stay
from portal.privacy import register_exporter, rows


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

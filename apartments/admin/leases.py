"""Staff admin of housing leases and their yearly re-checks: leases come from accepted
offers; staff renew them or record the move-out with buttons. Names show masked in lists and
exports; opening a lease with the tenant's full name is audited."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apartments import services
from apartments.admin.common import HousingDecisionMixin, RelatedOnly
from apartments.constants import LeaseEndReason, LeaseStatus
from apartments.forms import DateInput
from apartments.models import Lease, LeaseRecheck
from portal.admin import (
    AuditInline,
    Decision,
    PersonalDataAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyStaffInline,
    StaffAdmin,
    csv_text,
    html_lines,
    masked_csv_response,
    person_columns,
    person_masked,
    person_name,
    person_profile,
)


class RenewForm(forms.Form):
    months = forms.IntegerField(
        label=gettext_lazy("Months"),
        min_value=1,
        max_value=60,
        required=False,
        help_text=gettext_lazy("Leave empty for the usual term (the parameter housing-lease-months)."),
    )


class EndForm(forms.Form):
    on = forms.DateField(label=gettext_lazy("Moved out on"), widget=DateInput())
    reason = forms.ChoiceField(label=gettext_lazy("Why it ended"), choices=LeaseEndReason.choices)
    notes = forms.CharField(
        label=gettext_lazy("Move-out notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=gettext_lazy("State of the unit, keys returned, deposit."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


LEASE_DECISIONS = {
    "renew": Decision(
        title=gettext_lazy("Renew"),
        question=gettext_lazy(
            "Renew this lease from the day it ends? Rent-free months continue only up to the total the policy "
            "allows; the tenant is told the new terms."
        ),
        form=RenewForm,
        run=lambda lease, actor, data: services.lease_renew(lease=lease, actor=actor, months=data.get("months")),
        done=gettext_lazy("The lease %(name)s is renewed."),
        offered=lambda lease: lease.status == LeaseStatus.ACTIVE,
        next_url=lambda lease, renewal: reverse("admin:apartments_lease_change", args=[renewal.pk]),
    ),
    "end": Decision(
        title=gettext_lazy("End / move-out"),
        question=gettext_lazy("Record the move-out? The lease ends on the day given and the unit is vacant again."),
        form=EndForm,
        run=lambda lease, actor, data: services.lease_end(
            lease=lease, actor=actor, on=data["on"], reason=data["reason"], notes=data.get("notes", "")
        ),
        done=gettext_lazy("The lease %(name)s has ended; the unit is vacant."),
        offered=lambda lease: lease.status == LeaseStatus.ACTIVE,
        level=messages.WARNING,
    ),
}


class LeaseRecheckInline(ReadOnlyStaffInline, admin.TabularInline):
    model = LeaseRecheck
    extra = 0
    can_delete = False
    fields = ["due_on", "answer", "employer", "answered_at", "created_at"]
    readonly_fields = fields


def _leases_csv(request, queryset):
    rows = list(queryset.select_related("unit__project__district", "unit__unit_type", "tenant__profile"))
    return masked_csv_response(
        request,
        filename="leases.csv",
        model="lease",
        header=[
            _("Project"),
            _("District"),
            _("Unit"),
            _("Unit type"),
            _("Tenant"),
            _("Start"),
            _("End"),
            _("Monthly rent (CNY)"),
            _("Rent-free months"),
            _("Rent after the rent-free months (%)"),
            _("Status"),
            _("Moved out on"),
            _("Why it ended"),
        ],
        rows=[
            [
                csv_text(lease.unit.project.name),
                csv_text(lease.unit.project.district),
                csv_text(lease.unit.label),
                csv_text(lease.unit.unit_type.name),
                csv_text(person_masked(lease.tenant)),
                lease.start.isoformat(),
                lease.end.isoformat(),
                lease.monthly_rent,
                lease.rent_free_months,
                lease.reduced_rent_percent,
                lease.get_status_display(),
                lease.ended_on.isoformat() if lease.ended_on else "",
                lease.get_end_reason_display() if lease.end_reason else "",
            ]
            for lease in rows
        ],
        ids=[lease.pk for lease in rows],
    )


@admin.register(Lease)
class LeaseAdmin(PersonalDataAdminMixin, ReadOnlyAdminMixin, HousingDecisionMixin, StaffAdmin):
    """Leases come from accepted offers; staff renew them or record the move-out."""

    district_path = "unit__project__district"
    decisions = LEASE_DECISIONS
    list_display = [
        "unit",
        "tenant_masked",
        "start",
        "end",
        "monthly_rent",
        "rent_free_months",
        "status",
        "next_recheck_on",
    ]
    list_filter = ["status", "end_reason", ("unit__project", RelatedOnly), ("unit__project__district", RelatedOnly)]
    search_fields = ["tenant__profile__real_name", "unit__number", "unit__project__name"]
    date_hierarchy = "start"
    list_select_related = ["unit__project", "tenant__profile"]
    fields = [
        "unit",
        "tenant_name",
        "tenant_id_number",
        "tenant_phone",
        "offer_link",
        "renewal_of",
        "renewed_by",
        "start",
        "end",
        "monthly_rent",
        "rent_free_months",
        "rent_free_until",
        "reduced_rent_percent",
        "status",
        "terms_lines",
        "next_recheck_on",
        "ended_on",
        "end_reason",
        "move_out_notes",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [LeaseRecheckInline, AuditInline]
    object_select_related = (
        "unit__project__district",
        "unit__unit_type",
        "tenant__profile",
        "offer__application",
        "renewal_of__unit",
    )

    tenant_masked, tenant_name, tenant_id_number, tenant_phone = person_columns("tenant", gettext_lazy("tenant"))

    @admin.display(description=gettext_lazy("offer"))
    def offer_link(self, obj):
        if obj.offer_id is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:apartments_housingoffer_change", args=[obj.offer_id]),
            obj.offer.application.reference,
        )

    @admin.display(description=gettext_lazy("renewed by"))
    def renewed_by(self, obj):
        renewal = Lease.objects.filter(renewal_of=obj).first()
        if renewal is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:apartments_lease_change", args=[renewal.pk]), renewal)

    @admin.display(description=gettext_lazy("rent due again from"))
    def rent_free_until(self, obj):
        return obj.rent_free_until or "-"

    @admin.display(description=gettext_lazy("how the terms were set"))
    def terms_lines(self, obj):
        return html_lines(format_html("{}: {}", key, value) for key, value in sorted((obj.terms or {}).items()))

    def decision_summary(self, obj):
        return [
            (_("Unit"), str(obj.unit)),
            (_("Tenant"), person_name(obj.tenant)),
            (_("Term"), f"{obj.start.isoformat()} – {obj.end.isoformat()}"),
            (_("Rent-free months"), obj.rent_free_months),
            (_("Status"), obj.get_status_display()),
        ]

    def extra_links(self, request, obj):
        return [(reverse("admin:apartments_unit_change", args=[obj.unit_id]), _("Unit"))]

    def viewed(self, obj):
        return person_profile(obj.tenant) or obj, _("Lease"), {"lease": obj.pk}

    def export_csv(self, request, queryset):
        return _leases_csv(request, queryset)

    export_csv.short_description = gettext_lazy("Export selected leases as CSV (masked)")


@admin.register(LeaseRecheck)
class LeaseRecheckAdmin(StaffAdmin):
    """The yearly "still working in Luoyang?" answers; unanswered ones are for staff to follow."""

    district_path = "lease__unit__project__district"
    list_display = ["lease", "tenant_masked", "due_on", "answer", "employer", "answered_at"]
    list_filter = [("answered_at", admin.EmptyFieldListFilter), "answer", ("lease__unit__project", RelatedOnly)]
    search_fields = ["lease__tenant__profile__real_name", "employer", "lease__unit__number"]
    date_hierarchy = "due_on"
    list_select_related = ["lease__unit__project", "lease__tenant__profile"]
    readonly_fields = ["lease", "due_on", "answer", "employer", "answered_at", "created_at"]
    csv_fields = ["lease__unit__project__name", "due_on", "answer", "employer", "answered_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("tenant"))
    def tenant_masked(self, obj):
        return person_masked(obj.lease.tenant)

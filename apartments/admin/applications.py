"""Staff admin of housing applications and unit offers: the review queue (approve, reject
with a reason) before the draw, and the offers the draw makes (withdraw). Names show masked
in lists and exports; opening an application with the full name is audited."""

from __future__ import annotations

import re

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apartments import services
from apartments.admin.common import HousingDecisionMixin, RelatedOnly
from apartments.constants import HousingApplicationStatus, OfferStatus
from apartments.models import HousingApplication, HousingOffer
from apartments.selectors import housing as selectors
from portal.admin import (
    AuditInline,
    Decision,
    EmptyForm,
    PersonalDataAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyStaffInline,
    ReasonForm,
    StaffAdmin,
    criteria_lines,
    csv_text,
    document_link,
    html_lines,
    local_minute,
    masked_csv_response,
    person_columns,
    person_id_masked,
    person_masked,
    person_name,
    person_profile,
)


class RoundFilter(admin.SimpleListFilter):
    """Rounds the staff member oversees, named with their project (one query, unlike a
    related-field filter that would look up each round's project)."""

    title = gettext_lazy("round")
    parameter_name = "round"
    round_path = "round"

    def lookups(self, request, model_admin):
        rounds = selectors.rounds_for_staff(user=request.user).order_by("-opens_at", "-pk")[:50]
        return [(str(r.pk), str(r)) for r in rounds]

    def queryset(self, request, queryset):
        value = self.value()
        if value and str(value).isdigit():
            return queryset.filter(**{f"{self.round_path}__pk": int(value)})
        return queryset


class OfferRoundFilter(RoundFilter):
    round_path = "application__round"


# --- applications --------------------------------------------------------------------------------


APPLICATION_DECISIONS = {
    "approve": Decision(
        title=gettext_lazy("Approve"),
        question=gettext_lazy(
            "Approve this application? You have checked the documents against the profile; the application "
            "takes part in the draw and the graduate is told."
        ),
        form=EmptyForm,
        run=lambda app, actor, data: services.housing_application_approve(application=app, actor=actor),
        done=gettext_lazy("Application %(name)s is approved."),
        offered=lambda app: app.status == HousingApplicationStatus.SUBMITTED,
    ),
    "reject": Decision(
        title=gettext_lazy("Reject with reason"),
        question=gettext_lazy(
            "Reject this application? The graduate is told the reason and may apply again in the window."
        ),
        form=ReasonForm,
        run=lambda app, actor, data: services.housing_application_reject(
            application=app, actor=actor, reason=data["reason"]
        ),
        done=gettext_lazy("Application %(name)s is rejected."),
        offered=lambda app: app.status == HousingApplicationStatus.SUBMITTED,
        level=messages.WARNING,
        help_text=gettext_lazy("The graduate sees this reason."),
    ),
}


class HousingOfferInline(ReadOnlyStaffInline, admin.TabularInline):
    model = HousingOffer
    extra = 0
    can_delete = False
    fields = ["unit", "status", "deadline", "responded_at", "status_reason", "created_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit__project")


def _applications_csv(request, queryset):
    rows = list(
        queryset.select_related("round__project__district", "applicant__profile").order_by("round_id", "rank", "pk")
    )
    return masked_csv_response(
        request,
        filename="housing-applications.csv",
        model="housingapplication",
        header=[
            _("Reference"),
            _("Project"),
            _("District"),
            _("Round"),
            _("Graduate"),
            _("ID number (masked)"),
            _("Status"),
            _("List"),
            _("Priority group"),
            _("Rank"),
            _("Rank in group"),
            _("Household size"),
            _("Applied"),
            _("Reviewed"),
        ],
        rows=[
            [
                app.reference,
                csv_text(app.round.project.name),
                csv_text(app.round.project.district),
                csv_text(app.round.name),
                csv_text(person_masked(app.applicant)),
                csv_text(person_id_masked(app.applicant)),
                app.get_status_display(),
                app.get_applicant_list_display(),
                app.get_bucket_display() if app.bucket else "",
                app.rank or "",
                app.bucket_rank or "",
                app.household_size,
                local_minute(app.created_at),
                local_minute(app.reviewed_at),
            ]
            for app in rows
        ],
        ids=[app.pk for app in rows],
    )


REFERENCE = re.compile(r"^R?(\d+)-(\d+)$", re.IGNORECASE)


@admin.register(HousingApplication)
class HousingApplicationAdmin(PersonalDataAdminMixin, ReadOnlyAdminMixin, HousingDecisionMixin, StaffAdmin):
    """The review queue. Applications are made by graduates; staff approve or reject them
    with the buttons, before the draw."""

    district_path = "round__project__district"
    decisions = APPLICATION_DECISIONS
    list_display = [
        "reference_display",
        "applicant_masked",
        "round",
        "status",
        "applicant_list",
        "bucket",
        "rank",
        "created_at",
    ]
    list_filter = ["status", RoundFilter, "applicant_list", "bucket", ("round__project__district", RelatedOnly)]
    search_fields = ["applicant__profile__real_name"]
    search_help_text = gettext_lazy("A reference such as R3-00042, or the applicant's name.")
    date_hierarchy = "created_at"
    list_select_related = ["round__project", "applicant__profile"]
    fields = [
        "reference_display",
        "applicant_name",
        "applicant_id_number",
        "applicant_phone",
        "round_link",
        "status",
        "status_reason",
        "applicant_list",
        "bucket",
        "rank",
        "bucket_rank",
        "ticket",
        "unit_types_list",
        "household_size",
        "no_home_declared_at",
        "eligibility_lines",
        "documents_links",
        "note",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [HousingOfferInline, AuditInline]
    object_select_related = ("round__project__district", "applicant__profile", "reviewed_by")
    object_prefetch_related = ("unit_types", "documents")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        match = REFERENCE.match(term)
        if match:
            return queryset.filter(round_id=int(match[1]), pk=int(match[2])), False
        if term.isdigit():
            return queryset.filter(pk=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    # --- columns and read-only fields

    @admin.display(description=gettext_lazy("reference"), ordering="pk")
    def reference_display(self, obj):
        return obj.reference

    applicant_masked, applicant_name, applicant_id_number, applicant_phone = person_columns(
        "applicant", gettext_lazy("graduate")
    )

    @admin.display(description=gettext_lazy("round"))
    def round_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:apartments_allocationround_change", args=[obj.round_id]), obj.round
        )

    @admin.display(description=gettext_lazy("acceptable unit types"))
    def unit_types_list(self, obj):
        return ", ".join(str(t) for t in obj.unit_types.all()) or "-"

    @admin.display(description=gettext_lazy("eligibility when applied"))
    def eligibility_lines(self, obj):
        return criteria_lines(obj.eligibility)

    @admin.display(description=gettext_lazy("documents"))
    def documents_links(self, obj):
        return html_lines(document_link(d) for d in obj.documents.all())

    def decision_summary(self, obj):
        return [
            (_("Reference"), obj.reference),
            (_("Graduate"), person_name(obj.applicant)),
            (_("ID number"), person_id_masked(obj.applicant)),
            (_("Round"), str(obj.round)),
            (_("Status"), obj.get_status_display()),
            (_("Eligibility when applied"), self.eligibility_lines(obj)),
            (_("Documents"), self.documents_links(obj)),
        ]

    def extra_links(self, request, obj):
        return [(reverse("admin:apartments_allocationround_change", args=[obj.round_id]), _("Round"))]

    # --- personal data: opening and exporting are recorded

    def viewed(self, obj):
        return person_profile(obj.applicant) or obj, _("Housing application"), {"housing_application": obj.pk}

    def export_csv(self, request, queryset):
        return _applications_csv(request, queryset)

    export_csv.short_description = gettext_lazy("Export selected applications as CSV (masked)")


# --- offers --------------------------------------------------------------------------------------


OFFER_DECISIONS = {
    "withdraw": Decision(
        title=gettext_lazy("Withdraw the offer"),
        question=gettext_lazy(
            "Withdraw this offer? The unit is free again and goes to the next in rank; the applicant is told the "
            "reason. If the unit needs repairs, set it to maintenance first."
        ),
        form=ReasonForm,
        run=lambda offer, actor, data: services.housing_offer_withdraw(offer=offer, actor=actor, reason=data["reason"]),
        done=gettext_lazy("The offer %(name)s is withdrawn."),
        offered=lambda offer: offer.status == OfferStatus.OFFERED,
        level=messages.WARNING,
        help_text=gettext_lazy("The applicant sees this reason."),
    ),
}


def _offers_csv(request, queryset):
    rows = list(
        queryset.select_related(
            "application__applicant__profile", "application__round", "unit__project", "unit__unit_type"
        )
    )
    return masked_csv_response(
        request,
        filename="housing-offers.csv",
        model="housingoffer",
        header=[
            _("Reference"),
            _("Graduate"),
            _("Project"),
            _("Unit"),
            _("Unit type"),
            _("Status"),
            _("Offered"),
            _("Answer by"),
            _("Answered"),
        ],
        rows=[
            [
                o.application.reference,
                csv_text(person_masked(o.application.applicant)),
                csv_text(o.unit.project.name),
                csv_text(o.unit.label),
                csv_text(o.unit.unit_type.name),
                o.get_status_display(),
                local_minute(o.created_at),
                local_minute(o.deadline),
                local_minute(o.responded_at),
            ]
            for o in rows
        ],
        ids=[o.pk for o in rows],
    )


@admin.register(HousingOffer)
class HousingOfferAdmin(ReadOnlyAdminMixin, HousingDecisionMixin, StaffAdmin):
    """Offers are made by the draw and passed down the ranks by the services; staff may only
    withdraw one."""

    district_path = "application__round__project__district"
    decisions = OFFER_DECISIONS
    list_display = [
        "reference",
        "applicant_masked",
        "unit",
        "unit_type",
        "status",
        "deadline",
        "responded_at",
        "created_at",
    ]
    list_filter = ["status", OfferRoundFilter, ("unit__project", RelatedOnly)]
    search_fields = ["application__applicant__profile__real_name", "unit__number", "unit__project__name"]
    date_hierarchy = "created_at"
    list_select_related = ["application__applicant__profile", "unit__project", "unit__unit_type"]
    fields = [
        "reference",
        "applicant_masked",
        "application_link",
        "unit",
        "unit_type",
        "status",
        "deadline",
        "responded_at",
        "status_reason",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [AuditInline]
    object_select_related = (
        "application__applicant__profile",
        "application__round__project",
        "unit__project",
        "unit__unit_type",
    )

    @admin.display(description=gettext_lazy("reference"), ordering="application_id")
    def reference(self, obj):
        return obj.application.reference

    @admin.display(description=gettext_lazy("graduate"))
    def applicant_masked(self, obj):
        return person_masked(obj.application.applicant)

    @admin.display(description=gettext_lazy("unit type"))
    def unit_type(self, obj):
        return obj.unit.unit_type

    @admin.display(description=gettext_lazy("application"))
    def application_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:apartments_housingapplication_change", args=[obj.application_id]),
            obj.application.reference,
        )

    def decision_summary(self, obj):
        return [
            (_("Reference"), obj.application.reference),
            (_("Graduate"), person_masked(obj.application.applicant)),
            (_("Unit"), str(obj.unit)),
            (_("Status"), obj.get_status_display()),
            (_("Answer by"), local_minute(obj.deadline)),
        ]

    def extra_links(self, request, obj):
        return [
            (
                reverse("admin:apartments_housingapplication_change", args=[obj.application_id]),
                _("Housing application"),
            ),
            (reverse("admin:apartments_unit_change", args=[obj.unit_id]), _("Unit")),
        ]

    def export_csv(self, request, queryset):
        return _offers_csv(request, queryset)

    export_csv.short_description = gettext_lazy("Export selected offers as CSV (masked)")

"""Staff admin of the subsidy programmes (POLICY.md "Subsidies"): the programme rows city
staff edit, the review queue by programme with the stored check and its reasons, the
decisions (start review, approve, second approval, reject with a reason, record the
payment), objections filed during the public notice, the payout ledger with finance's
reconciliation CSV, and the budget use of each programme for a year.

District staff see and decide the applications, objections and ledger rows of their own
districts; budgets are city-wide, so every staff member reads the budget page. Every
decision goes through ``subsidies.services``; a refusal (the budget would be overspent,
the second approval comes from the same person) is a message on the page, never an error
page. Names show masked in lists and exports; opening an application is audited."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import selectors as portal_selectors
from portal.admin import (
    AuditInline,
    Decision,
    DecisionAdminMixin,
    EmptyForm,
    PersonalDataAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyStaffInline,
    ReasonForm,
    StaffAdmin,
    criteria_lines,
    csv_response,
    csv_text,
    document_link,
    export_audit,
    html_lines,
    local_minute,
    masked_csv_response,
    person_id_masked,
    person_masked,
    person_name,
    person_phone_masked,
    person_profile,
    statistics_year,
)
from portal.constants import DocumentKind
from subsidies import constants as c
from subsidies import selectors, services
from subsidies.constants import ObjectionStatus, RuleCode, SubsidyStatus
from subsidies.models import EligibilityCheck, LedgerEntry, Objection, Programme, SubsidyApplication

S = SubsidyStatus
RelatedOnly = admin.RelatedOnlyFieldListFilter
# "S000123", "s123" or "123": an application's reference.
REFERENCE = re.compile(r"^S?0*(\d+)$", re.IGNORECASE)
# Applications that wait for staff: a review, a second approval, a payment.
WAITING_STATES = (S.ELIGIBLE, S.UNDER_REVIEW, S.APPROVED, S.PAYABLE)


def _money(value) -> str:
    """For pages: 1,234.50."""
    return f"{Decimal(value or 0):,.2f}"


def _amount(value) -> str:
    """For CSV files: 1234.50, whatever the database's sum returns."""
    return f"{Decimal(value or 0):.2f}"


def _person(app: SubsidyApplication):
    """The graduate concerned: the applicant of a graduate programme, the trainee or hire of
    an employer's claim; none for a claim about the employer itself (a university–enterprise
    base), whose beneficiary is the member who claimed."""
    if app.organisation_id is None:
        return app.beneficiary if app.beneficiary_id else app.applicant
    if app.beneficiary_id and app.beneficiary_id != app.applicant_id:
        return app.beneficiary
    return None


def _masked(app: SubsidyApplication) -> str:
    person = _person(app)
    return person_masked(person) if person is not None else "-"


def _with_person(show, app: SubsidyApplication) -> str:
    person = _person(app)
    return show(person) if person is not None else "-"


def _period(app: SubsidyApplication) -> str:
    if app.period_start == app.period_end:
        return f"{app.period_start:%Y-%m-%d}"
    return f"{app.period_start:%Y-%m-%d} – {app.period_end:%Y-%m-%d}"


def _check_counts(eligibility: dict | None) -> tuple[int, int]:
    """(criteria met, criteria not met) of a stored check."""
    criteria = (eligibility or {}).get("criteria") or []
    passed = sum(1 for c in criteria if c.get("passed"))
    return passed, len(criteria) - passed


def _reference_search(queryset, term: str, pk_path: str):
    """Rows of the application with the reference ``term`` ("S000123"), or None."""
    match = REFERENCE.match(term.strip())
    if not match:
        return None
    return queryset.filter(**{pk_path: int(match[1])})


def _run(call):
    """A decision's service call; a parameter without a value in force is a refusal too."""
    try:
        return call()
    except LookupError as exc:
        raise ValidationError(
            _("A policy parameter has no value in force (%(error)s): city staff must enter it first.") % {"error": exc}
        ) from exc


class SubsidyDecisionMixin(DecisionAdminMixin):
    """The subsidy decision pages: a summary of the record above the question, links to
    related pages beside the buttons, and a note on the change page."""

    decision_template = "admin/portal/decision.html"
    change_form_template = "admin/subsidies/change_form.html"

    def decision_summary(self, obj) -> list[tuple]:
        return [(_("Status"), obj.get_status_display())]

    def decision_context(self, request, obj, name):
        return {"summary": self.decision_summary(obj), "status_label": obj.get_status_display()}

    def extra_links(self, request, obj) -> list[tuple[str, str]]:
        return []

    def status_note(self, obj) -> str:
        return ""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["extra_links"] = self.extra_links(request, obj) if obj is not None else []
        context["status_note"] = self.status_note(obj) if obj is not None else ""
        return super().render_change_form(request, context, add, change, form_url, obj)


class ListLinksMixin:
    """Links to the related pages above a change list (``admin/subsidies/change_list.html``)."""

    change_list_template = "admin/subsidies/change_list.html"

    def list_links(self, request) -> list[tuple[str, str]]:
        return []

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "list_links": self.list_links(request)}
        return super().changelist_view(request, extra_context)


def _budget_links() -> list[tuple[str, str]]:
    return [
        (reverse("admin:subsidies_ledgerentry_budget"), _("Budget use")),
        (reverse("admin:subsidies_ledgerentry_changelist"), _("Payout ledger")),
    ]


# --- programmes ----------------------------------------------------------------------------------


class ProgrammeForm(forms.ModelForm):
    required_documents = forms.MultipleChoiceField(
        label=gettext_lazy("required documents"),
        choices=DocumentKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Kinds of uploaded documents the applicant attaches."),
    )

    class Meta:
        model = Programme
        fields = [
            "name_zh",
            "name_en",
            "description_zh",
            "description_en",
            "opens_on",
            "closes_on",
            "yearly_budget",
            "required_documents",
            "excludes",
            "active",
            "sort_order",
        ]
        widgets = {
            "excludes": forms.CheckboxSelectMultiple,
            "opens_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "closes_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "excludes" in self.fields and self.instance.pk:
            self.fields["excludes"].queryset = Programme.objects.exclude(pk=self.instance.pk)

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_on"), data.get("closes_on")
        if opens and closes and closes < opens:
            self.add_error("closes_on", _("Applications cannot close before they open."))
        if data.get("yearly_budget") is not None and data["yearly_budget"] < 0:
            self.add_error("yearly_budget", _("The budget cannot be negative."))
        return data


@admin.register(Programme)
class ProgrammeAdmin(ListLinksMixin, StaffAdmin):
    """Programmes are rows loaded by a data migration. City staff edit their names, window,
    budget, papers and combinations; the rule, who applies and how often belong to the
    code and stay read-only. District staff read them."""

    district_path = None
    form = ProgrammeForm
    list_display = [
        "name_zh",
        "name_en",
        "rule_code",
        "applicant_kind",
        "period_kind",
        "window",
        "budget_display",
        "waiting_link",
        "active",
    ]
    list_filter = ["active", "applicant_kind", "period_kind"]
    search_fields = ["code", "name_zh", "name_en"]
    readonly_fields = ["code", "rule_code", "applicant_kind", "period_kind", "pays_money"]
    fieldsets = (
        (None, {"fields": ("code", "name_zh", "name_en", "rule_code", "applicant_kind", "period_kind", "pays_money")}),
        (gettext_lazy("For applicants"), {"fields": ("description_zh", "description_en", "required_documents")}),
        (gettext_lazy("Window and budget"), {"fields": ("opens_on", "closes_on", "yearly_budget", "active")}),
        (gettext_lazy("Combinations"), {"fields": ("excludes",)}),
        (gettext_lazy("Order"), {"fields": ("sort_order",)}),
    )
    change_form_template = "admin/subsidies/change_form.html"
    csv_fields = ["code", "name_zh", "name_en", "rule_code", "opens_on", "closes_on", "yearly_budget", "active"]

    def get_queryset(self, request):
        # As the queue's "anything staff must do": a decision, or an open objection.
        waiting = Q(applications__status__in=WAITING_STATES) | Q(
            applications__status=S.NOTICE, applications__objections__status=ObjectionStatus.OPEN
        )
        ids = portal_selectors.staff_district_ids(request.user)
        if ids is not None:
            waiting &= Q(applications__district__in=ids)
        return (
            super().get_queryset(request).annotate(waiting_total=Count("applications", filter=waiting, distinct=True))
        )

    def has_add_permission(self, request):
        return False  # each rule the code knows has its row, loaded by the data migration

    def has_delete_permission(self, request, obj=None):
        return False  # applications and the ledger refer to it

    def get_fieldsets(self, request, obj=None):
        if request.user.is_city_staff:
            return self.fieldsets
        # Read-only: the papers by name instead of the stored codes.
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        ("required_documents_list" if f == "required_documents" else f) for f in options["fields"]
                    ],
                },
            )
            for name, options in self.fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_city_staff:
            return self.readonly_fields
        return [*self.readonly_fields, "required_documents_list"]

    @admin.display(description=gettext_lazy("applications from – until"))
    def window(self, obj):
        if not obj.opens_on and not obj.closes_on:
            return _("all year")
        return f"{obj.opens_on or '…'} – {obj.closes_on or '…'}"

    @admin.display(description=gettext_lazy("yearly budget (CNY)"), ordering="yearly_budget")
    def budget_display(self, obj):
        return _money(obj.yearly_budget) if obj.pays_money else "-"

    @admin.display(description=gettext_lazy("waiting for staff"), ordering="waiting_total")
    def waiting_link(self, obj):
        n = getattr(obj, "waiting_total", 0)
        url = reverse("admin:subsidies_subsidyapplication_changelist") + f"?programme__id__exact={obj.pk}&todo=all"
        return format_html('<a href="{}">{}</a>', url, n)

    @admin.display(description=gettext_lazy("required documents"))
    def required_documents_list(self, obj):
        labels = dict(DocumentKind.choices)
        return ", ".join(str(labels.get(k, k)) for k in obj.required_documents or []) or "-"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["extra_links"] = [
                (
                    reverse("admin:subsidies_subsidyapplication_changelist") + f"?programme__id__exact={obj.pk}",
                    _("Applications"),
                ),
                (reverse("admin:subsidies_ledgerentry_budget"), _("Budget use")),
                (reverse("admin:portal_parameter_changelist") + "?q=subsidy-", _("Parameters")),
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def list_links(self, request):
        return _budget_links()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and "excludes" in form.changed_data:
            # Which programmes cannot be combined is a criterion of every rule: the open
            # applications are checked again.
            services.subsidies_recheck(all_open=True, reason="programme")


# --- applications --------------------------------------------------------------------------------


class ApproveForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (CNY)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
    )


class PaymentForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Payment reference"),
        max_length=60,
        help_text=gettext_lazy("The bank's or the finance office's reference of the transfer."),
    )


def _is_base(app: SubsidyApplication) -> bool:
    return app.programme.rule_code == RuleCode.UNIVERSITY_BASE


def _approve(app: SubsidyApplication, actor, data):
    amount = data.get("amount") if _is_base(app) else None
    result = _run(lambda: services.subsidy_approve(application=app, actor=actor, amount=amount))
    values = {"name": result.reference, "amount": _money(result.amount)}
    if result.status == S.REFERRED:
        return _("Application %(name)s is referred to the bank.") % values, messages.SUCCESS
    if result.status == S.APPROVED:
        return (
            _(
                "Application %(name)s is approved for %(amount)s CNY. The amount needs a second approval by another "
                "staff member before the public notice starts."
            )
            % values,
            messages.WARNING,
        )
    values["until"] = f"{result.notice_ends_on:%Y-%m-%d}" if result.notice_ends_on else "-"
    return (
        _("Application %(name)s is approved for %(amount)s CNY; the public notice runs until %(until)s.") % values,
        messages.SUCCESS,
    )


def _second_approve(app: SubsidyApplication, actor, data):
    result = _run(lambda: services.subsidy_second_approve(application=app, actor=actor))
    until = f"{result.notice_ends_on:%Y-%m-%d}" if result.notice_ends_on else "-"
    return _("Second approval of %(name)s recorded; the public notice runs until %(until)s.") % {
        "name": result.reference,
        "until": until,
    }


APPLICATION_DECISIONS = {
    "review": Decision(
        title=gettext_lazy("Start review"),
        question=gettext_lazy(
            "Start reviewing this application? It shows as under review to the applicant and to other staff."
        ),
        form=EmptyForm,
        run=lambda app, actor, data: services.subsidy_review_start(application=app, actor=actor),
        done=gettext_lazy("Application %(name)s is under review."),
        offered=lambda app: app.status == S.ELIGIBLE,
    ),
    "approve": Decision(
        title=gettext_lazy("Approve"),
        question=gettext_lazy(
            "Approve this application? The rule is run again on today's facts, the amount is committed against "
            "the programme's budget for this year, and the public notice starts (amounts above the configured "
            "limit first need a second approval by another staff member)."
        ),
        form=ApproveForm,
        run=_approve,
        done=gettext_lazy("Application %(name)s is approved."),
        offered=lambda app: app.status in (S.ELIGIBLE, S.UNDER_REVIEW),
    ),
    "second_approve": Decision(
        title=gettext_lazy("Second approval"),
        question=gettext_lazy(
            "Confirm this approval as the second staff member? The public notice starts and the applicant is told. "
            "The staff member who approved it cannot confirm it."
        ),
        form=EmptyForm,
        run=_second_approve,
        done=gettext_lazy("Second approval of %(name)s recorded."),
        offered=lambda app: app.status == S.APPROVED and not app.second_approved_by_id,
    ),
    "reject": Decision(
        title=gettext_lazy("Reject with reason"),
        question=gettext_lazy(
            "Reject this application? Money committed for it goes back to the budget, and the applicant is told "
            "the reason."
        ),
        form=ReasonForm,
        run=lambda app, actor, data: services.subsidy_reject(application=app, actor=actor, reason=data["reason"]),
        done=gettext_lazy("Application %(name)s is rejected."),
        offered=lambda app: app.status in (S.ELIGIBLE, S.INELIGIBLE, S.UNDER_REVIEW, S.APPROVED, S.NOTICE),
        level=messages.WARNING,
        help_text=gettext_lazy("The applicant sees this reason."),
    ),
    "pay": Decision(
        title=gettext_lazy("Record payment"),
        question=gettext_lazy(
            "Record that finance has paid this application? The ledger keeps the payment reference, the time and "
            "who recorded it; the applicant is told."
        ),
        form=PaymentForm,
        run=lambda app, actor, data: services.subsidy_pay(application=app, actor=actor, reference=data["reference"]),
        done=gettext_lazy("The payment of %(name)s is recorded."),
        offered=lambda app: app.status == S.PAYABLE,
    ),
}


class ToDoFilter(admin.SimpleListFilter):
    """What waits for staff: a review, a second approval, an objection, a payment."""

    title = gettext_lazy("waiting for")
    parameter_name = "todo"

    def lookups(self, request, model_admin):
        return [
            ("all", _("Anything staff must do")),
            ("review", _("Review")),
            ("second", _("Second approval")),
            ("objection", _("An open objection")),
            ("payment", _("Payment")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        open_objection = Q(status=S.NOTICE, objections__status=ObjectionStatus.OPEN)
        if value == "review":
            return queryset.filter(status__in=[S.ELIGIBLE, S.UNDER_REVIEW])
        if value == "second":
            return queryset.filter(status=S.APPROVED)
        if value == "payment":
            return queryset.filter(status=S.PAYABLE)
        if value == "objection":
            return queryset.filter(open_objection).distinct()
        if value == "all":
            return queryset.filter(Q(status__in=WAITING_STATES) | open_objection).distinct()
        return queryset


class EligibilityCheckInline(ReadOnlyStaffInline, admin.TabularInline):
    """Every run of the rule: when, the outcome, the rule's version and the parameter values
    it used."""

    model = EligibilityCheck
    extra = 0
    can_delete = False
    fields = [
        "created_at",
        "sequence",
        "eligible",
        "criteria_count",
        "amount",
        "rule_version",
        "parameters_used",
        "reason_label",
    ]
    readonly_fields = fields
    ordering = ["-sequence"]

    @admin.display(description=gettext_lazy("criteria"))
    def criteria_count(self, obj):
        passed, failed = _check_counts(obj.result)
        return f"✓ {passed} · ✗ {failed}"

    @admin.display(description=gettext_lazy("parameters used"))
    def parameters_used(self, obj):
        return html_lines(format_html("{} = {}", key, value) for key, value in obj.values)

    @admin.display(description=gettext_lazy("why it ran"))
    def reason_label(self, obj):
        return obj.reason_label


class ObjectionInline(ReadOnlyStaffInline, admin.TabularInline):
    model = Objection
    extra = 0
    can_delete = False
    fields = ["created_at", "filer", "text", "status", "resolution", "resolved_by", "resolved_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("filed_by__profile", "resolved_by")

    @admin.display(description=gettext_lazy("filed by"))
    def filer(self, obj):
        return person_masked(obj.filed_by)


def _applications_csv(request, queryset):
    rows = list(
        queryset.select_related(
            "programme", "district", "organisation", "beneficiary__profile", "applicant__profile", "reviewed_by"
        ).order_by("programme__sort_order", "pk")
    )
    return masked_csv_response(
        request,
        filename="subsidy-applications.csv",
        model="subsidyapplication",
        header=[
            _("Reference"),
            _("Programme"),
            _("District"),
            _("Graduate"),
            _("ID number (masked)"),
            _("Employer"),
            _("Period from"),
            _("Period until"),
            _("Amount (CNY)"),
            _("Status"),
            _("Criteria met"),
            _("Criteria not met"),
            _("Public notice until"),
            _("Submitted"),
        ],
        rows=[
            [
                app.reference,
                csv_text(app.programme.name),
                csv_text(app.district),
                csv_text(_masked(app)),
                csv_text(_with_person(person_id_masked, app)),
                csv_text(app.organisation.name if app.organisation_id else ""),
                f"{app.period_start:%Y-%m-%d}",
                f"{app.period_end:%Y-%m-%d}",
                _amount(app.amount),
                app.get_status_display(),
                *_check_counts(app.eligibility),
                f"{app.notice_ends_on:%Y-%m-%d}" if app.notice_ends_on else "",
                local_minute(app.submitted_at),
            ]
            for app in rows
        ],
        ids=[app.pk for app in rows],
    )


@admin.register(SubsidyApplication)
class SubsidyApplicationAdmin(
    PersonalDataAdminMixin, ReadOnlyAdminMixin, ListLinksMixin, SubsidyDecisionMixin, StaffAdmin
):
    """The review queue by programme. Applications and claims are made by graduates and
    employers and checked by the rule; staff decide them with the buttons."""

    district_path = "district"
    decisions = APPLICATION_DECISIONS
    list_display = [
        "reference_display",
        "programme",
        "graduate_masked",
        "organisation_name",
        "period",
        "amount_display",
        "status",
        "check_result",
        "notice_ends_on",
    ]
    list_filter = [ToDoFilter, "programme", "status", ("district", RelatedOnly)]
    search_fields = [
        "beneficiary__profile__real_name",
        "applicant__profile__real_name",
        "organisation__name",
        "organisation__credit_code",
    ]
    search_help_text = gettext_lazy("A reference such as S000123, a name (张 or 张**) or an employer.")
    date_hierarchy = "created_at"
    list_select_related = ["programme", "district", "organisation", "beneficiary__profile", "applicant__profile"]
    ordering = ["programme__sort_order", "-created_at", "-pk"]
    fields = [
        "reference_display",
        "programme",
        "district",
        "status",
        "status_reason",
        "graduate_name",
        "graduate_id_number",
        "graduate_phone",
        "applicant_line",
        "organisation_name",
        "period",
        "amount_display",
        "details_lines",
        "eligibility_lines",
        "documents_links",
        "reviewed_by",
        "second_approval",
        "notice_ends_on",
        "ledger_line",
        "submitted_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [EligibilityCheckInline, ObjectionInline, AuditInline]
    object_select_related = (
        "programme",
        "district",
        "organisation",
        "beneficiary__profile",
        "applicant__profile",
        "reviewed_by",
        "second_approved_by",
        "ledger_entry__paid_by",
    )
    object_prefetch_related = ("documents",)

    def get_search_results(self, request, queryset, search_term):
        found = _reference_search(queryset, search_term, "pk")
        if found is not None:
            return found, False
        term = search_term.strip()
        if "*" in term:  # a masked name as the list shows it: search by the family name
            family = term.replace("*", "").strip()
            if family:
                return queryset.filter(
                    Q(beneficiary__profile__real_name__startswith=family)
                    | Q(beneficiary__isnull=True, applicant__profile__real_name__startswith=family)
                ), False
        return super().get_search_results(request, queryset, search_term)

    # --- columns and read-only fields

    @admin.display(description=gettext_lazy("reference"), ordering="pk")
    def reference_display(self, obj):
        return obj.reference

    @admin.display(description=gettext_lazy("graduate"), ordering="beneficiary__profile__real_name")
    def graduate_masked(self, obj):
        return _masked(obj)

    @admin.display(description=gettext_lazy("graduate"))
    def graduate_name(self, obj):
        return _with_person(person_name, obj)

    @admin.display(description=gettext_lazy("ID number"))
    def graduate_id_number(self, obj):
        return _with_person(person_id_masked, obj)

    @admin.display(description=gettext_lazy("contact phone"))
    def graduate_phone(self, obj):
        return _with_person(person_phone_masked, obj)

    @admin.display(description=gettext_lazy("applied by"))
    def applicant_line(self, obj):
        if obj.organisation_id is None:
            return _("the graduate")
        return _("%(account)s for the employer") % {"account": obj.applicant}

    @admin.display(description=gettext_lazy("employer"), ordering="organisation__name")
    def organisation_name(self, obj):
        return obj.organisation.name if obj.organisation_id else "-"

    @admin.display(description=gettext_lazy("period"), ordering="period_start")
    def period(self, obj):
        return _period(obj)

    @admin.display(description=gettext_lazy("amount (CNY)"), ordering="amount")
    def amount_display(self, obj):
        return _money(obj.amount)

    @admin.display(description=gettext_lazy("check"))
    def check_result(self, obj):
        if not (obj.eligibility or {}).get("criteria"):
            return "-"
        passed, failed = _check_counts(obj.eligibility)
        return format_html(
            '<span title="{}">✓ {} · ✗ {}</span>',
            _("criteria met · not met"),
            passed,
            failed,
        )

    @admin.display(description=gettext_lazy("last check"))
    def eligibility_lines(self, obj):
        return criteria_lines(obj.eligibility)

    @admin.display(description=gettext_lazy("details"))
    def details_lines(self, obj):
        details = obj.details or {}
        return html_lines(format_html("{}: {}", key, value) for key, value in sorted(details.items()) if value != "")

    @admin.display(description=gettext_lazy("documents"))
    def documents_links(self, obj):
        return html_lines(document_link(d) for d in obj.documents.all())

    @admin.display(description=gettext_lazy("second approval"))
    def second_approval(self, obj):
        if obj.second_approved_by_id:
            return str(obj.second_approved_by)
        if obj.status == S.APPROVED:
            return _("Waiting for a second approval by another staff member.")
        return "-"

    @admin.display(description=gettext_lazy("ledger"))
    def ledger_line(self, obj):
        entry = getattr(obj, "ledger_entry", None)
        if entry is None:
            return "-"
        if entry.released:
            state = _("released")
        elif entry.paid_at:
            state = _("paid %(when)s, reference %(reference)s") % {
                "when": local_minute(entry.paid_at),
                "reference": entry.payment_reference,
            }
        else:
            state = _("committed, not paid yet")
        return _("%(amount)s CNY of the %(year)d budget: %(state)s") % {
            "amount": _money(entry.amount),
            "year": entry.budget_year,
            "state": state,
        }

    # --- decisions

    def status_note(self, obj):
        if obj.status == S.APPROVED and not obj.second_approved_by_id:
            return _(
                "Approved by %(who)s: waiting for a second approval by another staff member before the public "
                "notice starts."
            ) % {"who": obj.reviewed_by or "-"}
        if obj.status == S.NOTICE:
            return _("In public notice until %(until)s.") % {"until": obj.notice_ends_on}
        return ""

    def decision_summary(self, obj):
        rows = [
            (_("Reference"), obj.reference),
            (_("Programme"), obj.programme.name),
            (_("Graduate"), _masked(obj)),
            (_("Employer"), obj.organisation.name if obj.organisation_id else "-"),
            (_("Period"), _period(obj)),
            (_("Amount (CNY)"), _money(obj.amount)),
            (_("Status"), obj.get_status_display()),
            (_("Last check"), criteria_lines(obj.eligibility)),
        ]
        if obj.reviewed_by_id:
            rows.append((_("Approved by"), str(obj.reviewed_by)))
        if obj.status == S.APPROVED and not obj.second_approved_by_id:
            rows.append((_("Second approval"), _("Waiting for a second approval by another staff member.")))
        return rows

    def decision_page(self, request, obj, name, form, extra=None):
        if name == "approve" and "amount" in form.fields:
            if _is_base(obj):
                low, high = self._base_range()
                field = form.fields["amount"]
                field.initial = obj.amount
                field.help_text = _(
                    "Set by the base's scale and results, between %(low)s and %(high)s; empty approves the amount shown."
                ) % {"low": low, "high": high}
            else:
                del form.fields["amount"]  # set by the programme's rule
        return super().decision_page(request, obj, name, form, extra)

    @staticmethod
    def _base_range() -> tuple[str, str]:
        try:
            values = selectors.parameters_in_force(
                keys=[c.BASE_MIN, c.BASE_MAX], on=timezone.localdate(), district_id=None
            )
        except LookupError:
            return "?", "?"
        return _money(values[c.BASE_MIN]), _money(values[c.BASE_MAX])

    def extra_links(self, request, obj):
        links = [
            (
                reverse("admin:subsidies_subsidyapplication_changelist") + f"?programme__id__exact={obj.programme_id}",
                _("Queue of this programme"),
            ),
        ]
        if obj.objections.exists():
            links.append(
                (reverse("admin:subsidies_objection_changelist") + f"?q={obj.reference}", _("Objections")),
            )
        if getattr(obj, "ledger_entry", None) is not None:
            links.append((reverse("admin:subsidies_ledgerentry_change", args=[obj.ledger_entry.pk]), _("Ledger entry")))
        return links

    def list_links(self, request):
        base = reverse("admin:subsidies_subsidyapplication_changelist")
        return [
            (f"{base}?todo=all", _("Waiting for staff")),
            (reverse("admin:subsidies_objection_changelist") + "?status__exact=open", _("Open objections")),
            *_budget_links(),
        ]

    # --- personal data: opening and exporting are recorded

    def viewed(self, obj):
        person = _person(obj)
        profile = person_profile(person) if person is not None else None
        return profile or obj, _("Subsidy application"), {"subsidy_application": obj.pk}

    def export_csv(self, request, queryset):
        return _applications_csv(request, queryset)

    export_csv.short_description = gettext_lazy("Export selected applications as CSV (masked)")


# --- objections ----------------------------------------------------------------------------------


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[
            ("upheld", gettext_lazy("Upheld: the application is rejected and its money released")),
            ("dismissed", gettext_lazy("Dismissed: the public notice runs on")),
        ],
        widget=forms.RadioSelect,
    )
    resolution = forms.CharField(
        label=gettext_lazy("Resolution"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=gettext_lazy("What was checked and found. The applicant sees it if the objection is upheld."),
    )


def _resolve(objection: Objection, actor, data):
    upheld = data["outcome"] == "upheld"
    services.objection_resolve(objection=objection, actor=actor, upheld=upheld, resolution=data["resolution"])
    values = {"name": objection.application.reference}
    if upheld:
        return _("The objection is upheld; application %(name)s is rejected.") % values, messages.WARNING
    return _("The objection to %(name)s is dismissed.") % values, messages.SUCCESS


OBJECTION_DECISIONS = {
    "resolve": Decision(
        title=gettext_lazy("Resolve"),
        question=gettext_lazy(
            "Resolve this objection? Upheld rejects the application and releases its money; dismissed lets the "
            "public notice run to its end."
        ),
        form=ResolveForm,
        run=_resolve,
        done=gettext_lazy("The objection to %(name)s is resolved."),
        offered=lambda objection: objection.status == ObjectionStatus.OPEN,
    ),
}


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdminMixin, SubsidyDecisionMixin, StaffAdmin):
    """Objections filed during the public notice, open ones first; staff resolve them with
    the button."""

    district_path = "application__district"
    decisions = OBJECTION_DECISIONS
    list_display = [
        "application_reference",
        "programme",
        "text_start",
        "status",
        "created_at",
        "notice_until",
        "resolved_by",
        "resolved_at",
    ]
    list_filter = ["status", ("application__programme", RelatedOnly), ("application__district", RelatedOnly)]
    search_fields = ["text", "resolution"]
    search_help_text = gettext_lazy("An application's reference such as S000123, or words of the objection.")
    date_hierarchy = "created_at"
    list_select_related = ["application__programme", "resolved_by"]
    fields = [
        "application_link",
        "programme",
        "application_status",
        "notice_until",
        "filer",
        "created_at",
        "text",
        "status",
        "resolution",
        "resolved_by",
        "resolved_at",
    ]
    readonly_fields = fields
    object_select_related = ("application__programme", "filed_by__profile", "resolved_by")
    csv_fields = ["application", "status", "created_at", "text", "resolution", "resolved_at"]

    def get_ordering(self, request):
        open_first = Case(
            When(status=ObjectionStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return [open_first.asc(), "-created_at", "-pk"]

    def get_search_results(self, request, queryset, search_term):
        found = _reference_search(queryset, search_term, "application_id")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=gettext_lazy("application"), ordering="application_id")
    def application_reference(self, obj):
        return obj.application.reference

    @admin.display(description=gettext_lazy("programme"))
    def programme(self, obj):
        return obj.application.programme.name

    @admin.display(description=gettext_lazy("objection"))
    def text_start(self, obj):
        return obj.text if len(obj.text) <= 60 else obj.text[:60] + "…"

    @admin.display(description=gettext_lazy("public notice until"))
    def notice_until(self, obj):
        return obj.application.notice_ends_on or "-"

    @admin.display(description=gettext_lazy("application"))
    def application_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:subsidies_subsidyapplication_change", args=[obj.application_id]),
            obj.application.reference,
        )

    @admin.display(description=gettext_lazy("status of the application"))
    def application_status(self, obj):
        return obj.application.get_status_display()

    @admin.display(description=gettext_lazy("filed by"))
    def filer(self, obj):
        return person_masked(obj.filed_by)

    def decision_values(self, obj):
        return {"name": obj.application.reference}

    def export_csv(self, request, queryset):
        # Objections are people's words about a person: who took them is recorded.
        export_audit(request, model="objection", ids=list(queryset.values_list("pk", flat=True)))
        return super().export_csv(request, queryset)

    export_csv.short_description = StaffAdmin.export_csv.short_description

    def decision_summary(self, obj):
        app = obj.application
        return [
            (_("Subsidy application"), app.reference),
            (_("Programme"), app.programme.name),
            (_("Status of the application"), app.get_status_display()),
            (_("Public notice until"), app.notice_ends_on or "-"),
            (_("Filed"), local_minute(obj.created_at)),
            (_("Objection"), obj.text),
            (_("Status"), obj.get_status_display()),
        ]

    def extra_links(self, request, obj):
        return [
            (
                reverse("admin:subsidies_subsidyapplication_change", args=[obj.application_id]),
                _("Subsidy application"),
            )
        ]


# --- ledger and budget ---------------------------------------------------------------------------


class PaidFilter(admin.SimpleListFilter):
    title = gettext_lazy("paid")
    parameter_name = "paid"

    def lookups(self, request, model_admin):
        return [("yes", _("Paid")), ("no", _("Committed, not paid"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(paid_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(paid_at__isnull=True, released=False)
        return queryset


def _ledger_csv(request, queryset, *, filename: str):
    """Ledger rows for finance: masked names only; the export is audited."""
    rows = list(
        queryset.select_related(
            "programme",
            "application__district",
            "application__organisation",
            "application__beneficiary__profile",
            "application__applicant__profile",
            "paid_by",
        ).order_by("paid_at", "pk")
    )
    return masked_csv_response(
        request,
        filename=filename,
        model="ledgerentry",
        header=[
            _("Reference"),
            _("Programme"),
            _("District"),
            _("Graduate"),
            _("Employer"),
            _("Budget year"),
            _("Amount (CNY)"),
            _("Paid at"),
            _("Payment reference"),
            _("Recorded by"),
        ],
        rows=[
            [
                e.application.reference,
                csv_text(e.programme.name),
                csv_text(e.application.district),
                csv_text(_masked(e.application)),
                csv_text(e.application.organisation.name if e.application.organisation_id else ""),
                e.budget_year,
                _amount(e.amount),
                local_minute(e.paid_at),
                csv_text(e.payment_reference),
                csv_text(e.paid_by or ""),
            ]
            for e in rows
        ],
        ids=[e.pk for e in rows],
    )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, ListLinksMixin, StaffAdmin):
    """The money of each programme's yearly budget: committed by an approval, released by a
    later rejection, paid when finance pays. Written only by the services; staff read it,
    export it for finance and see the budget use."""

    district_path = "application__district"
    list_display = [
        "application_link",
        "programme",
        "budget_year",
        "graduate_masked",
        "amount_display",
        "released",
        "paid_at",
        "payment_reference",
        "paid_by",
    ]
    list_filter = ["budget_year", "programme", PaidFilter, "released"]
    search_fields = ["payment_reference"]
    search_help_text = gettext_lazy("An application's reference such as S000123, or a payment reference.")
    date_hierarchy = "created_at"
    list_select_related = [
        "programme",
        "application__beneficiary__profile",
        "application__applicant__profile",
        "paid_by",
    ]
    fields = [
        "application_link",
        "programme",
        "budget_year",
        "graduate_masked",
        "amount_display",
        "released",
        "created_at",
        "paid_at",
        "paid_by",
        "payment_reference",
    ]
    readonly_fields = fields
    object_select_related = (
        "programme",
        "application__beneficiary__profile",
        "application__applicant__profile",
        "paid_by",
    )

    def get_search_results(self, request, queryset, search_term):
        found = _reference_search(queryset, search_term, "application_id")
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=gettext_lazy("application"), ordering="application_id")
    def application_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:subsidies_subsidyapplication_change", args=[obj.application_id]),
            obj.application.reference,
        )

    @admin.display(description=gettext_lazy("graduate"))
    def graduate_masked(self, obj):
        return _masked(obj.application)

    @admin.display(description=gettext_lazy("amount (CNY)"), ordering="amount")
    def amount_display(self, obj):
        return _money(obj.amount)

    def export_csv(self, request, queryset):
        return _ledger_csv(request, queryset, filename="subsidy-ledger.csv")

    export_csv.short_description = gettext_lazy("Export selected ledger rows as CSV (masked)")

    def list_links(self, request):
        chosen = request.GET.get("budget_year__exact", "")
        year = int(chosen) if chosen.isdigit() else timezone.localdate().year
        return [
            (reverse("admin:subsidies_ledgerentry_budget"), _("Budget use")),
            (
                reverse("admin:subsidies_ledgerentry_reconciliation") + f"?year={year}",
                _("Reconciliation CSV %(year)d") % {"year": year},
            ),
        ]

    # --- extra pages

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("budget/", view(self.budget_view), name="subsidies_ledgerentry_budget"),
            path("budget.csv", view(self.budget_csv_view), name="subsidies_ledgerentry_budget_csv"),
            path("reconciliation.csv", view(self.reconciliation_view), name="subsidies_ledgerentry_reconciliation"),
        ] + super().get_urls()

    def _budget(self, year: int) -> tuple[list[dict], dict]:
        """Each paying programme's budget use in ``year`` (city-wide), with the total."""
        rows = selectors.budget_use(year=year, programmes=Programme.objects.filter(pays_money=True))
        total = {key: sum((r[key] for r in rows), Decimal("0")) for key in ("budget", "committed", "paid", "left")}
        for item in [*rows, total]:
            budget = item["budget"]
            item["percent"] = round(100 * item["committed"] / budget) if budget else 0
            item["paid_pct"] = min(100, round(100 * item["paid"] / budget)) if budget else 0
            # The bar: paid, then committed but not paid yet, within the budget.
            item["unpaid_pct"] = max(0, min(100, item["percent"]) - item["paid_pct"])
            item["over"] = item["committed"] > budget
            item["text"] = {key: _money(item[key]) for key in ("budget", "committed", "paid", "left")}
        return rows, total

    def budget_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        year, years = statistics_year(request)
        rows, total = self._budget(year)
        context = self.page_context(
            request,
            _("Subsidy budget use %(year)d") % {"year": year},
            year=year,
            years=years,
            rows=rows,
            total=total,
            city_wide=not request.user.is_city_staff,
            csv_url=reverse("admin:subsidies_ledgerentry_budget_csv") + f"?year={year}",
            reconciliation_url=reverse("admin:subsidies_ledgerentry_reconciliation") + f"?year={year}",
            ledger_url=reverse("admin:subsidies_ledgerentry_changelist") + f"?budget_year__exact={year}",
        )
        return TemplateResponse(request, "admin/subsidies/budget.html", context)

    def budget_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        year, _years = statistics_year(request)
        rows, _total = self._budget(year)
        return csv_response(
            filename=f"subsidy-budget-{year}.csv",
            header=[
                _("Programme"),
                _("Budget year"),
                _("Budget (CNY)"),
                _("Committed (CNY)"),
                _("Paid (CNY)"),
                _("Left (CNY)"),
                _("Used (%)"),
            ],
            rows=[
                [
                    csv_text(row["programme"].name),
                    year,
                    _amount(row["budget"]),
                    _amount(row["committed"]),
                    _amount(row["paid"]),
                    _amount(row["left"]),
                    row["percent"],
                ]
                for row in rows
            ],
        )

    def reconciliation_view(self, request):
        """Finance's reconciliation: the paid entries of a budget year in the staff member's
        districts, with the bank references."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        year, _years = statistics_year(request)
        queryset = self.get_queryset(request).filter(budget_year=year, paid_at__isnull=False, released=False)
        return _ledger_csv(request, queryset, filename=f"subsidy-reconciliation-{year}.csv")

"""Staff admin of housing allocation rounds: a round is prepared as a draft (window, method,
priority groups, units per type) and is then run with buttons: publish, the public random
value, the draw (its progress shown live) and close.

District staff run the rounds of their own districts' projects; city staff see all. Every
decision goes through ``apartments.services``; a refusal is a message on the page."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apartments import services
from apartments.admin.common import (
    HousingDecisionMixin,
    RelatedOnly,
    StaffRunsInline,
    portal_staff,
    unit_type_field,
)
from apartments.constants import (
    DEFAULT_PRIORITY_ORDER,
    HOUSING_GRADUATE_SHARE,
    HOUSING_OFFER_DAYS,
    HousingApplicationStatus,
    OfferStatus,
    PriorityBucket,
    ProjectKind,
    RoundStatus,
)
from apartments.forms import DateInput
from apartments.models import AllocationRound, HousingApplication, HousingOffer, HousingProject, RoundUnitType, UnitType
from portal.admin import AuditInline, Decision, EmptyForm, StaffAdmin
from portal.selectors import parameter_value, scope_to_districts

PRIORITY_CHOICES = [c for c in PriorityBucket if c != PriorityBucket.OTHER]


AFFORDABLE_ONLY = ("graduate_share", "spill_over_on")


class PriorityOrderWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        blank = [("", "---------")]
        widgets = [
            forms.Select(
                choices=blank + [(c.value, c.label) for c in PRIORITY_CHOICES],
                attrs={
                    "aria-label": format_lazy(gettext_lazy("Place {n}"), n=i + 1),
                    "style": "display:block;margin:2px 0",
                },
            )
            for i in range(len(PRIORITY_CHOICES))
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value):
        return list(value or [])


class PriorityOrderField(forms.MultiValueField):
    """The groups that come first, in order: one select per place, blanks ignored."""

    widget = PriorityOrderWidget

    def __init__(self, **kwargs):
        choices = [(c.value, c.label) for c in PRIORITY_CHOICES]
        fields = [forms.ChoiceField(choices=choices, required=False) for _ in PRIORITY_CHOICES]
        super().__init__(fields=fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        order = [code for code in data_list if code]
        if len(order) != len(set(order)):
            raise ValidationError(_("Each group may be listed once."))
        return order


class AllocationRoundForm(forms.ModelForm):
    priority_order = PriorityOrderField(
        label=gettext_lazy("Priority groups in order"),
        required=False,
        help_text=gettext_lazy(
            "From the first to the last group that comes first; leave the remaining places empty. Everyone else "
            "follows. Ignored when the method is a lottery only."
        ),
    )

    class Meta:
        model = AllocationRound
        fields = [
            "project",
            "name",
            "opens_at",
            "closes_at",
            "method",
            "priority_order",
            "graduate_share",
            "spill_over_on",
            "offer_days",
            "move_in_on",
        ]
        widgets = {"spill_over_on": DateInput(), "move_in_on": DateInput()}

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("Applications must close after they open."))
        if data.get("offer_days") is not None and data["offer_days"] < 1:
            self.add_error("offer_days", _("Give applicants at least one day to answer."))
        project = data.get("project")
        if project is not None and project.kind == ProjectKind.AFFORDABLE_RENTAL:
            share = data.get("graduate_share")
            try:
                least = int(parameter_value(key=HOUSING_GRADUATE_SHARE, district_id=project.district_id))
            except LookupError:
                least = None
            if share is not None and least is not None and share < least:
                self.add_error(
                    "graduate_share",
                    _("Affordable rentals set aside at least %(n)d%% of the units for graduates.") % {"n": least},
                )
        if closes and data.get("spill_over_on") and data["spill_over_on"] < timezone.localtime(closes).date():
            self.add_error("spill_over_on", _("The spill-over day comes after the application window closes."))
        return data


class RoundUnitTypeFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        project_id = self.instance.project_id
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            unit_type = form.cleaned_data.get("unit_type")
            if unit_type is not None and project_id and unit_type.project_id != project_id:
                form.add_error("unit_type", _("Choose a unit type of the round's project."))


class RoundUnitTypeInline(StaffRunsInline, admin.TabularInline):
    """How many units of each type the round offers; fixed once the round is published."""

    model = RoundUnitType
    formset = RoundUnitTypeFormSet
    extra = 1
    fields = ["unit_type", "units"]

    def _draft(self, obj) -> bool:
        return obj is None or obj.status == RoundStatus.DRAFT

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._draft(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._draft(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._draft(obj)

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if self._draft(obj) else 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit_type__project")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit_type":
            round = getattr(request, "_housing_round", None)
            if round is not None:
                kwargs["queryset"] = UnitType.objects.filter(project_id=round.project_id)
            else:
                return unit_type_field(db_field, request, super().formfield_for_foreignkey, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SeedForm(forms.Form):
    public_seed = forms.CharField(
        label=gettext_lazy("Public random value"),
        max_length=100,
        help_text=gettext_lazy("Exactly as published, e.g. the winning numbers “03 17 22 28 31 + 09”."),
    )
    source = forms.CharField(
        label=gettext_lazy("Where anyone can check it"),
        max_length=200,
        help_text=gettext_lazy("e.g. the name and number of a public lottery draw held after the window closed."),
    )


def _round_draw(round: AllocationRound, actor, data):
    before = round.status
    services.round_draw_start(round=round, actor=actor)
    if before != RoundStatus.OPEN:
        return _("The draw of this round was started before; nothing was changed."), messages.WARNING
    return None


ROUND_DECISIONS = {
    "publish": Decision(
        title=gettext_lazy("Publish"),
        question=gettext_lazy(
            "Publish this round? Graduates can apply in its window, and the window, the units and the rules can "
            "no longer be changed."
        ),
        form=EmptyForm,
        run=lambda round, actor, data: services.round_publish(round=round, actor=actor),
        done=gettext_lazy("“%(name)s” is published."),
        offered=lambda round: round.status == RoundStatus.DRAFT,
    ),
    "seed": Decision(
        title=gettext_lazy("Publish the random value"),
        question=gettext_lazy(
            "Fix the public random value that seeds the lottery? It can be given once, after the application "
            "window closes, and is shown on the round's public page so anyone can repeat the draw."
        ),
        form=SeedForm,
        run=lambda round, actor, data: services.round_publish_seed(
            round=round, actor=actor, public_seed=data["public_seed"], source=data["source"]
        ),
        done=gettext_lazy("The random value of “%(name)s” is published."),
        offered=lambda round: round.status == RoundStatus.OPEN and not round.seed_published_at,
    ),
    "draw": Decision(
        title=gettext_lazy("Draw"),
        question=gettext_lazy(
            "Run the draw? Every approved application is ranked from the public random value; the first in rank "
            "are offered units at once. This cannot be undone."
        ),
        form=EmptyForm,
        run=_round_draw,
        done=gettext_lazy("The draw of “%(name)s” has started; this page shows its progress."),
        offered=lambda round: round.status == RoundStatus.OPEN and bool(round.seed_published_at),
    ),
    "close": Decision(
        title=gettext_lazy("Close round"),
        question=gettext_lazy(
            "Close this round? Approved applicants who got no unit are told so; no more offers are made."
        ),
        form=EmptyForm,
        run=lambda round, actor, data: services.round_close(round=round, actor=actor),
        done=gettext_lazy("“%(name)s” is closed."),
        offered=lambda round: round.status == RoundStatus.DRAWN,
        level=messages.WARNING,
    ),
}


@admin.register(AllocationRound)
class AllocationRoundAdmin(HousingDecisionMixin, StaffAdmin):
    """Rounds are prepared as drafts (window, method, groups, units per type) and are read
    only once published; publish, the random value, the draw and close are buttons."""

    district_path = "project__district"
    district_staff_may_change = True
    form = AllocationRoundForm
    decisions = ROUND_DECISIONS
    list_display = [
        "name",
        "project",
        "status",
        "opens_at",
        "closes_at",
        "method",
        "applications_count",
        "draw_progress",
    ]
    list_filter = ["status", "method", ("project__district", RelatedOnly), ("project", RelatedOnly)]
    search_fields = ["name", "project__name"]
    date_hierarchy = "opens_at"
    list_select_related = ["project__district"]
    readonly_fields = [
        "priority_groups",
        "status",
        "draw_progress",
        "public_seed",
        "seed_source",
        "seed_published_at",
        "drawn_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = (
        (None, {"fields": ("project", "name", "opens_at", "closes_at")}),
        (
            gettext_lazy("Allocation"),
            {"fields": ("method", "priority_order", "graduate_share", "spill_over_on", "offer_days", "move_in_on")},
        ),
        (
            gettext_lazy("Draw"),
            {"fields": ("status", "public_seed", "seed_source", "seed_published_at", "draw_progress", "drawn_at")},
        ),
        (gettext_lazy("Dates"), {"fields": ("created_by", "created_at", "updated_at")}),
    )
    inlines = [RoundUnitTypeInline, AuditInline]
    change_form_template = "admin/apartments/allocationround/change_form.html"
    csv_fields = ["project__name", "name", "status", "opens_at", "closes_at", "method", "public_seed", "seed_source"]
    object_select_related = ("project__district", "created_by")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(applications_total=Count("applications"))

    def has_add_permission(self, request):
        return portal_staff(request)

    def has_change_permission(self, request, obj=None):
        # A published round is fixed: its page is read-only and the buttons decide.
        if obj is not None and obj.status != RoundStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._housing_round = obj
        return super().get_form(request, obj, change, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else [RoundUnitTypeInline]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("priority_order", list(DEFAULT_PRIORITY_ORDER))
        try:
            initial.setdefault("offer_days", int(parameter_value(key=HOUSING_OFFER_DAYS)))
            initial.setdefault("graduate_share", int(parameter_value(key=HOUSING_GRADUATE_SHARE)))
        except LookupError:
            pass
        return initial

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":
            kwargs["queryset"] = scope_to_districts(HousingProject.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.status = RoundStatus.DRAFT
        super().save_model(request, obj, form, change)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.project.kind == ProjectKind.TALENT_APARTMENT:
            # The graduates' share and its spill-over day belong to affordable rentals.
            fieldsets = [
                (name, {**options, "fields": [f for f in options["fields"] if f not in AFFORDABLE_ONLY]})
                for name, options in fieldsets
            ]
        if obj is None or obj.status == RoundStatus.DRAFT:
            return fieldsets
        # Read-only: the groups by name, in order, instead of the stored codes.
        return [
            (
                name,
                {**options, "fields": [("priority_groups" if f == "priority_order" else f) for f in options["fields"]]},
            )
            for name, options in fieldsets
        ]

    @admin.display(description=gettext_lazy("priority groups in order"))
    def priority_groups(self, obj):
        return " → ".join(str(PriorityBucket(code).label) for code in obj.buckets)

    @admin.display(description=gettext_lazy("applications"), ordering="applications_total")
    def applications_count(self, obj):
        return getattr(obj, "applications_total", "-")

    # --- buttons, progress

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", view(self.progress_view), name="apartments_allocationround_progress"),
        ] + super().get_urls()

    def decision_summary(self, obj):
        rows = [
            (_("Project"), f"{obj.project.name} · {obj.project.district}"),
            (_("Round"), obj.name),
            (
                _("Applications"),
                f"{timezone.localtime(obj.opens_at):%Y-%m-%d %H:%M} – {timezone.localtime(obj.closes_at):%Y-%m-%d %H:%M}",
            ),
            (_("Status"), obj.get_status_display()),
            (_("Approved applications"), self._counts(obj).get(HousingApplicationStatus.APPROVED, 0)),
            (_("Waiting for review"), self._counts(obj).get(HousingApplicationStatus.SUBMITTED, 0)),
        ]
        if obj.status == RoundStatus.OPEN and timezone.now() < obj.closes_at:
            rows.append(
                (
                    _("Note"),
                    _("The application window is still open: the random value and the draw come after it closes."),
                )
            )
        return rows

    @staticmethod
    def _counts(obj) -> dict[str, int]:
        cached = getattr(obj, "_status_counts", None)
        if cached is None:
            rows = HousingApplication.objects.filter(round=obj).values("status").annotate(n=Count("pk")).order_by()
            cached = obj._status_counts = {row["status"]: row["n"] for row in rows}
        return cached

    def progress_view(self, request, pk):
        round = self.staff_object(request, pk)
        return JsonResponse(
            {
                "status": round.status,
                "status_label": str(round.get_status_display()),
                "progress": round.draw_progress,
                "drawn_at": round.drawn_at.isoformat() if round.drawn_at else None,
            },
            headers={"Cache-Control": "no-store"},
        )

    def extra_links(self, request, obj):
        links = [
            (
                reverse("admin:apartments_housingapplication_changelist") + f"?round={obj.pk}",
                _("Applications of this round"),
            ),
            (reverse("admin:apartments_housingoffer_changelist") + f"?round={obj.pk}", _("Offers")),
        ]
        if obj.status != RoundStatus.DRAFT:
            links.append((reverse("apartments:round_results", args=[obj.pk]), _("Public results page")))
        return links

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            counts = self._counts(obj)
            offers = dict(
                HousingOffer.objects.filter(application__round=obj)
                .values_list("status")
                .annotate(n=Count("pk"))
                .order_by()
            )
            base = reverse("admin:apartments_housingapplication_changelist")
            context["round_summary"] = {
                "round": obj,
                "drawing": obj.status == RoundStatus.DRAWING,
                "progress_url": reverse("admin:apartments_allocationround_progress", args=[obj.pk]),
                "results_url": reverse("apartments:round_results", args=[obj.pk])
                if obj.status != RoundStatus.DRAFT
                else "",
                "applications_url": f"{base}?round={obj.pk}",
                "window_open": timezone.now() < obj.closes_at,
                "counts": [
                    (status.label, counts.get(status.value, 0), f"{base}?round={obj.pk}&status__exact={status.value}")
                    for status in HousingApplicationStatus
                ],
                "total": sum(counts.values()),
                "offers": [(status.label, offers.get(status.value, 0)) for status in OfferStatus],
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

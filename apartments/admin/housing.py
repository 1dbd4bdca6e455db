"""Staff admin of talent apartments (青年人才公寓) and affordable rentals (保障性租赁住房):
projects with their unit types, photos and units (added floor by floor), application rounds
with publish, the public random value, the draw (its progress shown live) and close as
buttons, the review queue of applications (approve, reject with a reason), offers (withdraw),
leases (renew, move-out) with their yearly re-checks, and the occupancy figures.

District staff see and run the projects of their own districts; city staff see all. Every
decision goes through ``apartments.services``; a refusal is a message on the page, never an
error page. Personal data shows masked in lists and exports; opening a record with the full
name writes an audit entry."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from apartments import services
from apartments.constants import (
    DEFAULT_PRIORITY_ORDER,
    HOUSING_AFFORDABLE_MAX_AREA,
    HOUSING_GRADUATE_SHARE,
    HOUSING_OFFER_DAYS,
    HousingApplicationStatus,
    LeaseEndReason,
    LeaseStatus,
    OfferStatus,
    PriorityBucket,
    ProjectKind,
    RoundStatus,
    UnitState,
)
from apartments.forms import DateInput
from apartments.models import (
    AllocationRound,
    HousingApplication,
    HousingOffer,
    HousingProject,
    Lease,
    LeaseRecheck,
    ProjectPhoto,
    RoundUnitType,
    Unit,
    UnitType,
)
from apartments.selectors import housing as selectors
from portal import services as portal_services
from portal.admin import AuditInline, ReadOnlyStaffInline, RefusalMixin, StaffAdmin, csv_cell
from portal.constants import AuditAction
from portal.models import District, User
from portal.permissions import staff_district_ids
from portal.selectors import parameter_value, scope_to_districts
from portal.validators import mask_name, mask_phone

RelatedOnly = admin.RelatedOnlyFieldListFilter

# Units are offered while they are vacant; staff take them out for repairs and back. Offered
# and let are the states the offer and lease services set.
STAFF_UNIT_STATES = services.STAFF_UNIT_STATES
MAX_UNITS_AT_ONCE = services.MAX_UNITS_AT_ONCE


def _error_text(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)]).strip() or _("You may not take this decision.")


def _profile(user):
    # Reverse one-to-one: a user without a profile raises RelatedObjectDoesNotExist, an
    # AttributeError.
    return getattr(user, "profile", None)


def _masked_account(user) -> str:
    if user.email and "@" in user.email:
        local, domain = user.email.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return mask_phone(user.phone) or f"#{user.pk}"


def person_masked(user) -> str:
    """张** for lists and exports: the family name only."""
    profile = _profile(user)
    return (mask_name(profile.real_name) if profile else "") or _masked_account(user)


def person_name(user) -> str:
    """The full name, for a record's own page (opening it is audited)."""
    profile = _profile(user)
    return (profile.real_name if profile else "") or _masked_account(user)


def person_id_masked(user) -> str:
    profile = _profile(user)
    return (profile.id_number_masked if profile else "") or "-"


def person_phone_masked(user) -> str:
    profile = _profile(user)
    return mask_phone((profile.phone if profile else "") or user.phone) or "-"


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _number(value) -> str:
    """70.0000 → 70, 45.50 → 45.5."""
    return format(Decimal(value).normalize(), "f")


def _cell(value) -> str:
    return csv_cell("" if value is None else str(value))


def _lines(items) -> str:
    items = list(items)
    return format_html("<br>".join(["{}"] * len(items)), *items) if items else "-"


def _csv_response(request, *, filename: str, model: str, header: list, rows: list[list], ids: list[int]):
    """A CSV download with masked personal data; who exported which rows is audited."""
    portal_services.audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        target=request.user,
        detail={"model": model, "rows": len(ids), "ids": ids[:5000], "at": timezone.now().isoformat()},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # Excel opens UTF-8 Chinese correctly with a BOM
    writer = csv.writer(response)
    writer.writerow([str(h) for h in header])
    writer.writerows(rows)
    return response


def _scoped_districts(request, kwargs: dict) -> None:
    ids = staff_district_ids(request.user)
    if ids is not None:
        kwargs["queryset"] = District.objects.filter(pk__in=ids)


def _portal_staff(request) -> bool:
    return request.user.is_active and request.user.is_portal_staff


class StaffRunsInline:
    """Inlines that district staff edit for the projects of their districts (the parent
    admin already limits which projects they open)."""

    def has_view_permission(self, request, obj=None):
        return _portal_staff(request)

    def has_add_permission(self, request, obj=None):
        return _portal_staff(request)

    def has_change_permission(self, request, obj=None):
        return _portal_staff(request)

    def has_delete_permission(self, request, obj=None):
        return _portal_staff(request)


# --- decisions: buttons on the change page that lead to a confirmation page ---------------------


class EmptyForm(forms.Form):
    pass


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


@dataclass(frozen=True)
class Decision:
    title: Any
    question: Any
    form: type[forms.Form]
    # run(obj, actor, cleaned_data) calls the service; it may return the message to show
    # as text or as (text, level), else ``done`` is shown.
    run: Callable[[Any, User, dict], Any]
    done: Any
    offered: Callable[[Any], bool]
    level: int = messages.SUCCESS
    help_text: Any = ""
    # Where to go afterwards, from (obj, result); the object's change page by default.
    next_url: Callable[[Any, Any], str] | None = None


class DecisionAdminMixin:
    """Each decision gets a URL ``<pk>/<name>/`` (named ``apartments_<model>_<name>``): the
    object comes through the admin's own queryset (another district's object answers 404),
    GET shows what is decided and asks, POST calls the service."""

    decisions: dict[str, Decision] = {}
    decision_template = "admin/apartments/housing/decision.html"
    change_form_template = "admin/apartments/housing/change_form.html"

    def _url_name(self, name: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{name}"

    def _change_url(self, obj) -> str:
        return reverse(f"admin:{self._url_name('change')}", args=[obj.pk])

    def decision_urls(self):
        view = self.admin_site.admin_view

        def make(name):
            def decide(request, pk):
                return self._decide(request, pk, name)

            decide.__name__ = f"{name}_view"
            return decide

        return [
            path(f"<int:pk>/{name.replace('_', '-')}/", view(make(name)), name=self._url_name(name))
            for name in self.decisions
        ]

    def _get(self, request, pk):
        if not _portal_staff(request):
            raise PermissionDenied
        obj = self.get_object(request, str(pk))
        if obj is None:  # another district's object answers 404, like a missing one
            raise Http404
        return obj

    def decision_summary(self, obj) -> list[tuple[Any, Any]]:
        """(label, value) rows shown above the question."""
        return [(_("Status"), obj.get_status_display())]

    def _decide(self, request, pk, name: str):
        obj = self._get(request, pk)
        spec = self.decisions[name]
        form = spec.form(request.POST if request.method == "POST" else None)
        if spec.help_text and "reason" in form.fields:
            form.fields["reason"].help_text = spec.help_text
        if request.method == "POST" and form.is_valid():
            try:
                result = spec.run(obj, request.user, form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
                return HttpResponseRedirect(self._change_url(obj))
            text, level = spec.done % {"name": str(obj)}, spec.level
            if isinstance(result, tuple):
                text, level = result
            elif isinstance(result, str):
                text = result
            self.message_user(request, text, level)
            return HttpResponseRedirect(spec.next_url(obj, result) if spec.next_url else self._change_url(obj))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": spec.title,
            "object": obj,
            "change_url": self._change_url(obj),
            "summary": self.decision_summary(obj),
            "question": spec.question,
            "button": spec.title,
            "form": form,
            "allowed": spec.offered(obj),
            "status_label": obj.get_status_display(),
        }
        return TemplateResponse(request, self.decision_template, context)

    def decision_buttons(self, request, obj) -> list[tuple[str, Any]]:
        if obj is None or not _portal_staff(request):
            return []
        return [
            (reverse(f"admin:{self._url_name(name)}", args=[obj.pk]), spec.title)
            for name, spec in self.decisions.items()
            if spec.offered(obj)
        ]

    def extra_links(self, request, obj) -> list[tuple[str, Any]]:
        return []

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["decision_buttons"] = self.decision_buttons(request, obj)
        context["extra_links"] = self.extra_links(request, obj) if obj is not None else []
        return super().render_change_form(request, context, add, change, form_url, obj)


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


# --- projects, unit types, photos ----------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several pictures at once; each is checked and re-encoded by ``project_photo_add``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        single = super().clean
        return [single(item, initial) for item in (data if isinstance(data, list | tuple) else [data])]

    def has_changed(self, initial, data):
        return bool(data)


class HousingProjectForm(forms.ModelForm):
    photo_uploads = MultiplePhotoField(
        label=gettext_lazy("Add photos"),
        required=False,
        help_text=gettext_lazy("JPEG or PNG, several at once; stored re-encoded without location data."),
    )

    class Meta:
        model = HousingProject
        fields = [
            "district",
            "name",
            "kind",
            "address",
            "description",
            "rules",
            "amenities",
            "contact_phone",
            "published",
        ]


def affordable_max_area(district_id: int | None):
    """The largest area an affordable-rental unit type may have, as in force today."""
    return parameter_value(key=HOUSING_AFFORDABLE_MAX_AREA, district_id=district_id)


class UnitTypeFormSet(forms.BaseInlineFormSet):
    """Affordable rentals are small units: every type of such a project must stay within
    the parameter ``housing-affordable-max-area`` (70 m² by the policy)."""

    def clean(self):
        super().clean()
        project = self.instance
        if project.kind != ProjectKind.AFFORDABLE_RENTAL:
            return
        try:
            limit = affordable_max_area(project.district_id)
        except LookupError:
            raise ValidationError(
                _("The parameter %(key)s is not set: city staff must enter it first.")
                % {"key": HOUSING_AFFORDABLE_MAX_AREA}
            )
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            area = form.cleaned_data.get("area")
            if area is not None and area > limit:
                form.add_error(
                    "area",
                    _("Affordable rental units must not be larger than %(limit)s m²; this type has %(area)s m².")
                    % {"limit": _number(limit), "area": _number(area)},
                )


class UnitTypeInline(StaffRunsInline, admin.TabularInline):
    model = UnitType
    formset = UnitTypeFormSet
    extra = 0
    fields = ["name", "area", "rooms", "furnished", "monthly_rent", "unit_counts"]
    readonly_fields = ["unit_counts"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(total_units=Count("units"), vacant_units=Count("units", filter=Q(units__state=UnitState.VACANT)))
        )

    @admin.display(description=gettext_lazy("units (vacant / all)"))
    def unit_counts(self, obj):
        if obj.pk is None:
            return "-"
        return f"{getattr(obj, 'vacant_units', '-')} / {getattr(obj, 'total_units', '-')}"


class ProjectPhotoInline(StaffRunsInline, admin.TabularInline):
    """The pictures of the project: caption and order are edited here; new pictures come
    through the "Add photos" field above, which re-encodes them."""

    model = ProjectPhoto
    extra = 0
    fields = ["preview", "caption", "sort_order"]
    readonly_fields = ["preview"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("photo"))
    def preview(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("apartments:project_photo", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" style="max-height:90px"></a>',
            url,
            url,
            obj.caption,
        )


class AddUnitsForm(forms.Form):
    unit_type = forms.ModelChoiceField(label=gettext_lazy("Unit type"), queryset=UnitType.objects.none())
    building = forms.CharField(
        label=gettext_lazy("Building"), max_length=20, required=False, help_text=gettext_lazy("e.g. 3 or A")
    )
    floor_from = forms.IntegerField(label=gettext_lazy("From floor"), min_value=1, max_value=99, initial=1)
    floor_to = forms.IntegerField(label=gettext_lazy("To floor"), min_value=1, max_value=99)
    units_per_floor = forms.IntegerField(
        label=gettext_lazy("Units of this type per floor"),
        min_value=1,
        max_value=99,
        help_text=gettext_lazy("Units are numbered floor by floor: 301, 302, … on the 3rd floor."),
    )

    def __init__(self, *args, project: HousingProject, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_type"].queryset = UnitType.objects.filter(project=project)

    def clean(self):
        data = super().clean()
        low, high, per_floor = data.get("floor_from"), data.get("floor_to"), data.get("units_per_floor")
        if low is not None and high is not None:
            if high < low:
                self.add_error("floor_to", _("The last floor cannot be below the first."))
            elif per_floor and (high - low + 1) * per_floor > MAX_UNITS_AT_ONCE:
                self.add_error(None, _("Add at most %(n)d units at once.") % {"n": MAX_UNITS_AT_ONCE})
        data["building"] = (data.get("building") or "").strip()
        return data


@admin.register(HousingProject)
class HousingProjectAdmin(RefusalMixin, StaffAdmin):
    district_path = "district"
    district_staff_may_change = True
    form = HousingProjectForm
    list_display = ["name", "kind", "district", "units_total", "units_vacant", "published", "created_at"]
    list_filter = ["kind", "published", "district"]
    search_fields = ["name", "address"]
    list_select_related = ["district"]
    readonly_fields = ["created_at"]
    fieldsets = (
        (None, {"fields": ("district", "name", "kind", "address", "published")}),
        (gettext_lazy("For applicants"), {"fields": ("description", "rules", "amenities", "contact_phone")}),
        (gettext_lazy("Photos"), {"fields": ("photo_uploads",)}),
        (gettext_lazy("Dates"), {"fields": ("created_at",)}),
    )
    inlines = [UnitTypeInline, ProjectPhotoInline, AuditInline]
    change_list_template = "admin/apartments/housingproject/change_list.html"
    change_form_template = "admin/apartments/housingproject/change_form.html"
    csv_fields = ["name", "kind", "district__name", "address", "published", "contact_phone"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                total_units=Count("units", distinct=True),
                vacant_units=Count("units", filter=Q(units__state=UnitState.VACANT), distinct=True),
            )
        )

    def has_add_permission(self, request):
        return _portal_staff(request)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else [UnitTypeInline, ProjectPhotoInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "district":
            _scoped_districts(request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("units"), ordering="total_units")
    def units_total(self, obj):
        return getattr(obj, "total_units", "-")

    @admin.display(description=gettext_lazy("vacant"), ordering="vacant_units")
    def units_vacant(self, obj):
        return getattr(obj, "vacant_units", "-")

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProjectPhoto:
            return super().save_formset(request, form, formset, change)
        # Deleted photos go through the service, which removes their files from storage.
        instances = formset.save(commit=False)
        for photo in formset.deleted_objects:
            services.project_photo_delete(photo=photo, actor=request.user)
        for photo in instances:
            photo.save()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for upload in form.cleaned_data.get("photo_uploads") or []:
            try:
                upload.seek(0)
                services.project_photo_add(project=form.instance, actor=request.user, upload=upload)
            except (ValidationError, PermissionDenied) as exc:
                self._refused(
                    request,
                    _("The photo %(name)s was not added: %(error)s") % {"name": upload.name, "error": _error_text(exc)},
                )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["add_units_url"] = reverse("admin:apartments_housingproject_add_units", args=[obj.pk])
            context["units_url"] = reverse("admin:apartments_unit_changelist") + f"?project__id__exact={obj.pk}"
            context["rounds_url"] = reverse("admin:apartments_allocationround_changelist") + f"?project={obj.pk}"
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- extra pages

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("occupancy/", view(self.occupancy_view), name="apartments_housingproject_occupancy"),
            path("occupancy.csv", view(self.occupancy_csv_view), name="apartments_housingproject_occupancy_csv"),
            path("<int:pk>/add-units/", view(self.add_units_view), name="apartments_housingproject_add_units"),
        ] + super().get_urls()

    def add_units_view(self, request, pk):
        if not _portal_staff(request):
            raise PermissionDenied
        project = self.get_queryset(request).filter(pk=pk).first()
        if project is None:
            raise Http404
        change_url = reverse("admin:apartments_housingproject_change", args=[project.pk])
        form = AddUnitsForm(request.POST if request.method == "POST" else None, project=project)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                made, skipped = services.units_add(
                    project=project,
                    actor=request.user,
                    unit_type=data["unit_type"],
                    building=data["building"],
                    floors=range(data["floor_from"], data["floor_to"] + 1),
                    per_floor=data["units_per_floor"],
                )
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            except IntegrityError:  # someone added the same numbers at this very moment
                self.message_user(request, _("Some of these units were added meanwhile; try again."), messages.ERROR)
            else:
                text = ngettext("%(n)d unit added.", "%(n)d units added.", made) % {"n": made}
                if skipped:
                    text += " " + _("These numbers exist already and were left as they are: %(numbers)s") % {
                        "numbers": ", ".join(skipped[:30]) + (" …" if len(skipped) > 30 else "")
                    }
                self.message_user(request, text, messages.SUCCESS if made else messages.WARNING)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Add units to %(project)s") % {"project": project.name},
            "object": project,
            "change_url": change_url,
            "form": form,
            "types": selectors.unit_types_with_vacancies().filter(project=project),
        }
        return TemplateResponse(request, "admin/apartments/housingproject/add_units.html", context)

    def _occupancy(self, request):
        rows = selectors.occupancy_by_project(user=request.user)
        keys = ("total", "vacant", "offered", "let", "maintenance")
        districts: dict[str, dict] = {}
        total = dict.fromkeys(keys, 0) | {"district": ""}
        for row in rows:
            bucket = districts.setdefault(row["district"], dict.fromkeys(keys, 0) | {"district": row["district"]})
            for key in keys:
                bucket[key] += row[key]
                total[key] += row[key]
        by_district = list(districts.values())
        for item in [*rows, *by_district, total]:
            n = item["total"]
            for key in ("vacant", "offered", "let", "maintenance"):
                item[f"{key}_pct"] = round(100 * item[key] / n, 1) if n else 0
            item["occupancy"] = round(100 * item["let"] / n) if n else 0
        return rows, by_district, total

    def occupancy_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows, by_district, total = self._occupancy(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Housing occupancy"),
            "rows": rows,
            "by_district": by_district,
            "total": total,
            "today": timezone.localdate(),
        }
        return TemplateResponse(request, "admin/apartments/housingproject/occupancy.html", context)

    def occupancy_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows, _by_district, _total = self._occupancy(request)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="housing-occupancy.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(
            [
                _("District"),
                _("Project"),
                _("Kind"),
                _("Units"),
                pgettext("housing unit", "Let"),
                pgettext("housing unit", "Offered"),
                pgettext("housing unit", "Vacant"),
                pgettext("housing unit", "Maintenance"),
                _("Occupancy (%)"),
            ]
        )
        for row in rows:
            project = row["project"]
            writer.writerow(
                [
                    _cell(row["district"]),
                    _cell(project.name),
                    project.get_kind_display(),
                    row["total"],
                    row["let"],
                    row["offered"],
                    row["vacant"],
                    row["maintenance"],
                    row["occupancy"],
                ]
            )
        return response


# --- units ---------------------------------------------------------------------------------------


def _unit_type_field(db_field, request, make, **kwargs):
    """Before the project is known: the unit types of every project in the staff member's
    districts, named with their project (the same type names recur across projects)."""
    kwargs["queryset"] = scope_to_districts(
        UnitType.objects.select_related("project").order_by("project__name", "-area"), request.user, "project__district"
    )
    field = make(db_field, request, **kwargs)
    if field is not None:
        field.label_from_instance = lambda unit_type: f"{unit_type.project.name} · {unit_type}"
    return field


class UnitAdminForm(forms.ModelForm):
    """Staff take a vacant unit out for repairs and back; offered and let belong to the
    offer and lease services and cannot be chosen here."""

    class Meta:
        model = Unit
        fields = ["project", "unit_type", "building", "floor", "number", "state"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "state" in self.fields:
            self.fields["state"].choices = [(s.value, s.label) for s in STAFF_UNIT_STATES]

    def clean(self):
        data = super().clean()
        project = data.get("project") or (self.instance.project if self.instance.project_id else None)
        unit_type = data.get("unit_type")
        if project is not None and unit_type is not None and unit_type.project_id != project.pk:
            self.add_error("unit_type", _("Choose a unit type of this project."))
        number = data.get("number")
        if project is not None and number:
            clash = Unit.objects.filter(project=project, building=data.get("building", ""), number=number)
            if clash.exclude(pk=self.instance.pk).exists():
                self.add_error("number", _("This project already has a unit with this number in this building."))
        return data


@admin.register(Unit)
class UnitAdmin(RefusalMixin, StaffAdmin):
    district_path = "project__district"
    district_staff_may_change = True
    form = UnitAdminForm
    list_display = ["__str__", "project", "unit_type", "building", "floor", "number", "state"]
    list_filter = ["state", ("project", RelatedOnly), "project__kind", ("project__district", RelatedOnly)]
    search_fields = ["number", "building", "project__name"]
    list_select_related = ["project", "unit_type"]
    ordering = ["project", "building", "floor", "number"]
    csv_fields = ["project__name", "unit_type__name", "building", "floor", "number", "state"]

    def has_add_permission(self, request):
        return _portal_staff(request)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = ["project"]
        if obj.state not in STAFF_UNIT_STATES:
            fields += ["unit_type", "state"]
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":
            kwargs["queryset"] = scope_to_districts(HousingProject.objects.all(), request.user)
        elif db_field.name == "unit_type":
            unit = getattr(request, "_housing_unit", None)
            if unit is not None:
                kwargs["queryset"] = UnitType.objects.filter(project_id=unit.project_id)
            else:
                return _unit_type_field(db_field, request, super().formfield_for_foreignkey, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._housing_unit = obj
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        others = [f for f in form.changed_data if f != "state"]
        if others:
            obj.save(update_fields=others)
        if "state" in form.changed_data:
            try:
                services.unit_set_state(unit=obj, actor=request.user, state=obj.state)
            except ValidationError as exc:
                self._refused(request, _error_text(exc))
                obj.refresh_from_db(fields=["state"])


# --- rounds --------------------------------------------------------------------------------------

PRIORITY_CHOICES = [c for c in PriorityBucket if c != PriorityBucket.OTHER]


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
                return _unit_type_field(db_field, request, super().formfield_for_foreignkey, **kwargs)
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
        gettext_lazy("Publish"),
        gettext_lazy(
            "Publish this round? Graduates can apply in its window, and the window, the units and the rules can "
            "no longer be changed."
        ),
        EmptyForm,
        lambda round, actor, data: services.round_publish(round=round, actor=actor),
        gettext_lazy("“%(name)s” is published."),
        lambda round: round.status == RoundStatus.DRAFT,
    ),
    "seed": Decision(
        gettext_lazy("Publish the random value"),
        gettext_lazy(
            "Fix the public random value that seeds the lottery? It can be given once, after the application "
            "window closes, and is shown on the round's public page so anyone can repeat the draw."
        ),
        SeedForm,
        lambda round, actor, data: services.round_publish_seed(
            round=round, actor=actor, public_seed=data["public_seed"], source=data["source"]
        ),
        gettext_lazy("The random value of “%(name)s” is published."),
        lambda round: round.status == RoundStatus.OPEN and not round.seed_published_at,
    ),
    "draw": Decision(
        gettext_lazy("Draw"),
        gettext_lazy(
            "Run the draw? Every approved application is ranked from the public random value; the first in rank "
            "are offered units at once. This cannot be undone."
        ),
        EmptyForm,
        _round_draw,
        gettext_lazy("The draw of “%(name)s” has started; this page shows its progress."),
        lambda round: round.status == RoundStatus.OPEN and bool(round.seed_published_at),
    ),
    "close": Decision(
        gettext_lazy("Close round"),
        gettext_lazy("Close this round? Approved applicants who got no unit are told so; no more offers are made."),
        EmptyForm,
        lambda round, actor, data: services.round_close(round=round, actor=actor),
        gettext_lazy("“%(name)s” is closed."),
        lambda round: round.status == RoundStatus.DRAWN,
        messages.WARNING,
    ),
}


@admin.register(AllocationRound)
class AllocationRoundAdmin(DecisionAdminMixin, StaffAdmin):
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

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(applications_total=Count("applications"))

    def has_add_permission(self, request):
        return _portal_staff(request)

    def has_change_permission(self, request, obj=None):
        # A published round is fixed: its page is read-only and the buttons decide.
        if obj is not None and obj.status != RoundStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        try:
            return self.get_queryset(request).select_related("project__district", "created_by").get(pk=int(object_id))
        except (AllocationRound.DoesNotExist, ValueError, TypeError):
            return None

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
            *self.decision_urls(),
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
        round = self._get(request, pk)
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


# --- applications --------------------------------------------------------------------------------


APPLICATION_DECISIONS = {
    "approve": Decision(
        gettext_lazy("Approve"),
        gettext_lazy(
            "Approve this application? You have checked the documents against the profile; the application "
            "takes part in the draw and the graduate is told."
        ),
        EmptyForm,
        lambda app, actor, data: services.housing_application_approve(application=app, actor=actor),
        gettext_lazy("Application %(name)s is approved."),
        lambda app: app.status == HousingApplicationStatus.SUBMITTED,
    ),
    "reject": Decision(
        gettext_lazy("Reject with reason"),
        gettext_lazy("Reject this application? The graduate is told the reason and may apply again in the window."),
        ReasonForm,
        lambda app, actor, data: services.housing_application_reject(
            application=app, actor=actor, reason=data["reason"]
        ),
        gettext_lazy("Application %(name)s is rejected."),
        lambda app: app.status == HousingApplicationStatus.SUBMITTED,
        messages.WARNING,
        gettext_lazy("The graduate sees this reason."),
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
    return _csv_response(
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
                _cell(app.round.project.name),
                _cell(app.round.project.district),
                _cell(app.round.name),
                _cell(person_masked(app.applicant)),
                _cell(person_id_masked(app.applicant)),
                app.get_status_display(),
                app.get_applicant_list_display(),
                app.get_bucket_display() if app.bucket else "",
                app.rank or "",
                app.bucket_rank or "",
                app.household_size,
                _when(app.created_at),
                _when(app.reviewed_at),
            ]
            for app in rows
        ],
        ids=[app.pk for app in rows],
    )


REFERENCE = re.compile(r"^R?(\d+)-(\d+)$", re.IGNORECASE)


@admin.register(HousingApplication)
class HousingApplicationAdmin(DecisionAdminMixin, StaffAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only page; decisions are the buttons

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        queryset = (
            self.get_queryset(request)
            .select_related("round__project__district", "applicant__profile", "reviewed_by")
            .prefetch_related("unit_types", "documents")
        )
        try:
            return queryset.get(pk=int(object_id))
        except (HousingApplication.DoesNotExist, ValueError, TypeError):
            return None

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

    @admin.display(description=gettext_lazy("graduate"), ordering="applicant__profile__real_name")
    def applicant_masked(self, obj):
        return person_masked(obj.applicant)

    @admin.display(description=gettext_lazy("graduate"))
    def applicant_name(self, obj):
        return person_name(obj.applicant)

    @admin.display(description=gettext_lazy("ID number"))
    def applicant_id_number(self, obj):
        return person_id_masked(obj.applicant)

    @admin.display(description=gettext_lazy("contact phone"))
    def applicant_phone(self, obj):
        return person_phone_masked(obj.applicant)

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
        criteria = (obj.eligibility or {}).get("criteria") or []
        return _lines(format_html("{} {}", "✓" if c.get("passed") else "✗", c.get("message", "")) for c in criteria)

    @admin.display(description=gettext_lazy("documents"))
    def documents_links(self, obj):
        return _lines(
            format_html(
                '<a href="{}" target="_blank" rel="noopener">{}</a>',
                reverse("portal:document_download", args=[d.pk]),
                d.get_kind_display(),
            )
            for d in obj.documents.all()
        )

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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            portal_services.audit_record(
                actor=request.user,
                action=AuditAction.PII_VIEW,
                target=_profile(obj.applicant) or obj,
                reason=_("Housing application"),
                detail={"housing_application": obj.pk},
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return self.decision_urls() + super().get_urls()

    def export_csv(self, request, queryset):
        return _applications_csv(request, queryset)

    export_csv.short_description = gettext_lazy("Export selected applications as CSV (masked)")


# --- offers --------------------------------------------------------------------------------------


OFFER_DECISIONS = {
    "withdraw": Decision(
        gettext_lazy("Withdraw the offer"),
        gettext_lazy(
            "Withdraw this offer? The unit is free again and goes to the next in rank; the applicant is told the "
            "reason. If the unit needs repairs, set it to maintenance first."
        ),
        ReasonForm,
        lambda offer, actor, data: services.housing_offer_withdraw(offer=offer, actor=actor, reason=data["reason"]),
        gettext_lazy("The offer %(name)s is withdrawn."),
        lambda offer: offer.status == OfferStatus.OFFERED,
        messages.WARNING,
        gettext_lazy("The applicant sees this reason."),
    ),
}


def _offers_csv(request, queryset):
    rows = list(
        queryset.select_related(
            "application__applicant__profile", "application__round", "unit__project", "unit__unit_type"
        )
    )
    return _csv_response(
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
                _cell(person_masked(o.application.applicant)),
                _cell(o.unit.project.name),
                _cell(o.unit.label),
                _cell(o.unit.unit_type.name),
                o.get_status_display(),
                _when(o.created_at),
                _when(o.deadline),
                _when(o.responded_at),
            ]
            for o in rows
        ],
        ids=[o.pk for o in rows],
    )


@admin.register(HousingOffer)
class HousingOfferAdmin(DecisionAdminMixin, StaffAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(
            "application__applicant__profile", "application__round__project", "unit__project", "unit__unit_type"
        )
        try:
            return queryset.get(pk=int(object_id))
        except (HousingOffer.DoesNotExist, ValueError, TypeError):
            return None

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
            (_("Answer by"), _when(obj.deadline)),
        ]

    def extra_links(self, request, obj):
        return [
            (
                reverse("admin:apartments_housingapplication_change", args=[obj.application_id]),
                _("Housing application"),
            ),
            (reverse("admin:apartments_unit_change", args=[obj.unit_id]), _("Unit")),
        ]

    def get_urls(self):
        return self.decision_urls() + super().get_urls()

    def export_csv(self, request, queryset):
        return _offers_csv(request, queryset)

    export_csv.short_description = gettext_lazy("Export selected offers as CSV (masked)")


# --- leases --------------------------------------------------------------------------------------


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
        gettext_lazy("Renew"),
        gettext_lazy(
            "Renew this lease from the day it ends? Rent-free months continue only up to the total the policy "
            "allows; the tenant is told the new terms."
        ),
        RenewForm,
        lambda lease, actor, data: services.lease_renew(lease=lease, actor=actor, months=data.get("months")),
        gettext_lazy("The lease %(name)s is renewed."),
        lambda lease: lease.status == LeaseStatus.ACTIVE,
        next_url=lambda lease, renewal: reverse("admin:apartments_lease_change", args=[renewal.pk]),
    ),
    "end": Decision(
        gettext_lazy("End / move-out"),
        gettext_lazy("Record the move-out? The lease ends on the day given and the unit is vacant again."),
        EndForm,
        lambda lease, actor, data: services.lease_end(
            lease=lease, actor=actor, on=data["on"], reason=data["reason"], notes=data.get("notes", "")
        ),
        gettext_lazy("The lease %(name)s has ended; the unit is vacant."),
        lambda lease: lease.status == LeaseStatus.ACTIVE,
        messages.WARNING,
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
    return _csv_response(
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
                _cell(lease.unit.project.name),
                _cell(lease.unit.project.district),
                _cell(lease.unit.label),
                _cell(lease.unit.unit_type.name),
                _cell(person_masked(lease.tenant)),
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
class LeaseAdmin(DecisionAdminMixin, StaffAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(
            "unit__project__district", "unit__unit_type", "tenant__profile", "offer__application", "renewal_of__unit"
        )
        try:
            return queryset.get(pk=int(object_id))
        except (Lease.DoesNotExist, ValueError, TypeError):
            return None

    @admin.display(description=gettext_lazy("tenant"), ordering="tenant__profile__real_name")
    def tenant_masked(self, obj):
        return person_masked(obj.tenant)

    @admin.display(description=gettext_lazy("tenant"))
    def tenant_name(self, obj):
        return person_name(obj.tenant)

    @admin.display(description=gettext_lazy("ID number"))
    def tenant_id_number(self, obj):
        return person_id_masked(obj.tenant)

    @admin.display(description=gettext_lazy("contact phone"))
    def tenant_phone(self, obj):
        return person_phone_masked(obj.tenant)

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
        return _lines(format_html("{}: {}", key, value) for key, value in sorted((obj.terms or {}).items()))

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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            portal_services.audit_record(
                actor=request.user,
                action=AuditAction.PII_VIEW,
                target=_profile(obj.tenant) or obj,
                reason=_("Lease"),
                detail={"lease": obj.pk},
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return self.decision_urls() + super().get_urls()

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


__all__ = [
    "AllocationRoundAdmin",
    "HousingApplicationAdmin",
    "HousingOfferAdmin",
    "HousingProjectAdmin",
    "LeaseAdmin",
    "LeaseRecheckAdmin",
    "UnitAdmin",
]

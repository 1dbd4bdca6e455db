"""Staff admin of housing projects: talent apartments (青年人才公寓) and affordable rentals
(保障性租赁住房) with their unit types and photos, the units (added floor by floor, taken out
for repairs and back) and the occupancy figures by project and district.

District staff see and run the projects of their own districts; city staff see all. Every
write with a rule goes through ``apartments.services``; a refusal is a message on the page,
never an error page."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from apartments import services
from apartments.admin.common import RelatedOnly, StaffRunsInline, portal_staff, unit_type_field
from apartments.constants import HOUSING_AFFORDABLE_MAX_AREA, ProjectKind, UnitState
from apartments.models import HousingProject, ProjectPhoto, Unit, UnitType
from apartments.selectors import housing as selectors
from portal.admin import AuditInline, RefusalMixin, StaffAdmin, csv_response, csv_text, error_text
from portal.selectors import parameter_value, scope_to_districts

# Units are offered while they are vacant; staff take them out for repairs and back. Offered
# and let are the states the offer and lease services set.
STAFF_UNIT_STATES = services.STAFF_UNIT_STATES
MAX_UNITS_AT_ONCE = services.MAX_UNITS_AT_ONCE


def _number(value) -> str:
    """70.0000 → 70, 45.50 → 45.5."""
    return format(Decimal(value).normalize(), "f")


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
    own_districts_only = True
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
        return portal_staff(request)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else [UnitTypeInline, ProjectPhotoInline]

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
                    _("The photo %(name)s was not added: %(error)s") % {"name": upload.name, "error": error_text(exc)},
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
        if not portal_staff(request):
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
                self.message_user(request, error_text(exc), messages.ERROR)
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
        context = self.page_context(
            request,
            _("Add units to %(project)s") % {"project": project.name},
            object=project,
            change_url=change_url,
            form=form,
            types=selectors.unit_types_with_vacancies().filter(project=project),
        )
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
        context = self.page_context(
            request,
            _("Housing occupancy"),
            rows=rows,
            by_district=by_district,
            total=total,
            today=timezone.localdate(),
        )
        return TemplateResponse(request, "admin/apartments/housingproject/occupancy.html", context)

    def occupancy_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows, _by_district, _total = self._occupancy(request)
        return csv_response(
            filename="housing-occupancy.csv",
            header=[
                _("District"),
                _("Project"),
                _("Kind"),
                _("Units"),
                pgettext("housing unit", "Let"),
                pgettext("housing unit", "Offered"),
                pgettext("housing unit", "Vacant"),
                pgettext("housing unit", "Maintenance"),
                _("Occupancy (%)"),
            ],
            rows=[
                [
                    csv_text(row["district"]),
                    csv_text(row["project"].name),
                    row["project"].get_kind_display(),
                    row["total"],
                    row["let"],
                    row["offered"],
                    row["vacant"],
                    row["maintenance"],
                    row["occupancy"],
                ]
                for row in rows
            ],
        )


# --- units ---------------------------------------------------------------------------------------


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
        return portal_staff(request)

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
                return unit_type_field(db_field, request, super().formfield_for_foreignkey, **kwargs)
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
                self._refused(request, error_text(exc))
                obj.refresh_from_db(fields=["state"])

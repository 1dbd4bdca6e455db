"""The Django admin for district and city staff. District staff see only the rows of their
districts; decisions are buttons on the change page that call the same services as the
rest of the portal; opening or unmasking personal data is audited."""

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import selectors, services
from portal.constants import AuditAction, OrganisationStatus, Role
from portal.forms import RejectForm
from portal.models import (
    ApplicantProfile,
    AuditEntry,
    Consent,
    DeletionRequest,
    Delivery,
    District,
    Document,
    Membership,
    Notification,
    Organisation,
    Parameter,
    User,
)
from portal.validators import mask_name, mask_phone

admin.site.site_header = gettext_lazy("Luoyang youth talent portal: staff")
admin.site.site_title = gettext_lazy("Portal staff")
admin.site.index_title = gettext_lazy("Review and administration")


class StaffInline:
    """Inlines follow the portal roles like ``StaffAdmin``, not Django's per-model
    permissions (which staff accounts do not hold, so the inlines would never show):
    every portal staff member reads them, city staff also edit where editing is allowed."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_portal_staff

    def has_add_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_city_staff

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_city_staff

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_city_staff


class ReadOnlyStaffInline(StaffInline):
    """A record's history or children shown beside it: staff read, nobody edits here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- CSV exports ---------------------------------------------------------------------------------

# A leading = @ tab or CR, or + - not followed by a plain number, makes a spreadsheet read
# the cell as a formula (OWASP "CSV injection").
_FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?![\d*\s()]*$))")


def csv_cell(text: str) -> str:
    """The cell as text a spreadsheet will not run: formulas get a leading apostrophe."""
    return "'" + text if _FORMULA.match(text) else text


def csv_text(value) -> str:
    """Any value as a safe cell; None is empty."""
    return csv_cell("" if value is None else str(value))


def csv_response(*, filename: str, header: Iterable, rows: Iterable[Iterable]) -> HttpResponse:
    """A CSV download that Excel opens with Chinese text intact."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel opens UTF-8 Chinese correctly with a BOM
    writer = csv.writer(response)
    writer.writerow([str(h) for h in header])
    writer.writerows(rows)
    return response


def export_audit(request, *, model: str, ids: list[int]) -> None:
    """Which people's data left the portal, and who took it."""
    services.audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        target=request.user,
        detail={"model": model, "rows": len(ids), "ids": ids[:5000], "at": timezone.now().isoformat()},
    )


def masked_csv_response(request, *, filename: str, model: str, header: Iterable, rows: Iterable[Iterable], ids):
    """A CSV download of people's rows (masked by the caller): the export is audited and the
    file is not cached."""
    export_audit(request, model=model, ids=ids)
    response = csv_response(filename=filename, header=header, rows=rows)
    response["Cache-Control"] = "no-store"
    return response


# --- people on staff pages: masked in lists and exports, in full on a record's own page ----------


def person_profile(user) -> ApplicantProfile | None:
    # Reverse one-to-one: a user without a profile raises RelatedObjectDoesNotExist, an
    # AttributeError.
    return getattr(user, "profile", None)


def _masked_account(user) -> str:
    """Who it is, for someone without a real name in a profile: the account's e-mail or
    phone, masked like the rest of the personal data on these pages."""
    if user.email and "@" in user.email:
        local, domain = user.email.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return mask_phone(user.phone) or f"#{user.pk}"


def person_masked(user) -> str:
    """张** for lists and exports: the family name only."""
    profile = person_profile(user)
    return (mask_name(profile.real_name) if profile else "") or _masked_account(user)


def person_name(user) -> str:
    """The full name, for a record's own page (opening it is audited)."""
    profile = person_profile(user)
    return (profile.real_name if profile else "") or _masked_account(user)


def person_id_masked(user) -> str:
    profile = person_profile(user)
    return (profile.id_number_masked if profile else "") or "-"


def person_phone_masked(user) -> str:
    profile = person_profile(user)
    return mask_phone((profile.phone if profile else "") or user.phone) or "-"


def person_columns(path: str, label) -> tuple:
    """The admin columns of the person at ``path`` ("applicant", "tenant"), to unpack in the
    class body: the name masked (lists and exports), the name in full, the ID number masked
    and the phone masked (a record's own page, whose opening is audited)."""

    def person(obj):
        for name in path.split("__"):
            obj = getattr(obj, name)
        return obj

    by_name = f"{path}__profile__real_name"

    @admin.display(description=label, ordering=by_name)
    def masked(self, obj):
        return person_masked(person(obj))

    @admin.display(description=label, ordering=by_name)
    def full_name(self, obj):
        return person_name(person(obj))

    @admin.display(description=gettext_lazy("ID number"))
    def id_number(self, obj):
        return person_id_masked(person(obj))

    @admin.display(description=gettext_lazy("contact phone"))
    def phone(self, obj):
        return person_phone_masked(person(obj))

    return masked, full_name, id_number, phone


# --- small helpers of staff pages ----------------------------------------------------------------


def error_text(exc: Exception) -> str:
    """A service's refusal (ValidationError or PermissionDenied) as one message line."""
    return " ".join(getattr(exc, "messages", None) or [str(exc)]).strip() or _("You may not take this decision.")


def statistics_year(request) -> tuple[int, list[int]]:
    """The year a figures page shows (``?year=``, this one by default, 2021 to next year) and
    the years it offers, latest first."""
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year") or this_year)
    except ValueError:
        year = this_year
    return max(2021, min(year, this_year + 1)), list(range(this_year + 1, 2020, -1))


def local_minute(value) -> str:
    """A moment in local time to the minute, empty for none."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def html_lines(items) -> str:
    """Items one per line; "-" for none."""
    items = list(items)
    return format_html("<br>".join(["{}"] * len(items)), *items) if items else "-"


def criteria_lines(eligibility: dict | None) -> str:
    """The eligibility check stored with a booking or an application, ✓/✗ per criterion."""
    criteria = (eligibility or {}).get("criteria") or []
    return html_lines(format_html("{} {}", "✓" if c.get("passed") else "✗", c.get("message", "")) for c in criteria)


def document_link(document: Document) -> str:
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>',
        reverse("portal:document_download", args=[document.pk]),
        document.get_kind_display(),
    )


class AuditInline(ReadOnlyStaffInline, GenericTabularInline):
    model = AuditEntry
    ct_field = "content_type"
    ct_fk_field = "object_id"
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "action", "from_label", "to_label", "reason"]
    readonly_fields = fields
    ordering = ["-created_at"]
    verbose_name_plural = gettext_lazy("Audit trail")

    @admin.display(description=gettext_lazy("from"))
    def from_label(self, obj):
        return obj.from_label

    @admin.display(description=gettext_lazy("to"))
    def to_label(self, obj):
        return obj.to_label

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "content_type")


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget looks the initial value up while drawing the form; a
    hand-typed ``?organisation=abc`` would crash it. Values that are not ids are dropped."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if v in (None, "") or str(v).isdigit()], attr)


class RefusalMixin:
    """A service may refuse a save the form could not foresee (a place taken meanwhile, fewer
    beds than guests, a district the staff member does not serve): the refusal is shown as an
    error and the page stays open instead of claiming success. Call ``_refused`` from
    ``save_model``."""

    def _refused(self, request, text: str) -> None:
        self.message_user(request, text, messages.ERROR)
        request._portal_refused = True

    def response_change(self, request, obj):
        if getattr(request, "_portal_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_portal_refused", False):
            if obj.pk is None:  # nothing was added: the form again
                return HttpResponseRedirect(request.path)
            opts = obj._meta  # added, but part of it refused: its change page
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def log_addition(self, request, obj, message):
        if obj.pk is None:  # refused: nothing was added
            return None
        return super().log_addition(request, obj, message)


# --- decisions: buttons on the change page that lead to a confirmation page ----------------------


class EmptyForm(forms.Form):
    """A decision that needs nothing but the button."""


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


@dataclass(frozen=True, kw_only=True)
class Decision:
    title: Any  # the button and the confirmation page's title
    form: type[forms.Form]
    # run(obj, actor, cleaned_data) calls the service; it may return the message to show as
    # text or as (text, level), else ``done`` is shown, formatted with ``decision_values``.
    run: Callable[[Any, User, dict], Any]
    done: Any
    offered: Callable[[Any], bool]  # whether the change page shows the button
    question: Any = ""
    level: int = messages.SUCCESS
    help_text: Any = ""  # shown under the reason field
    # Where to go after the decision, from (obj, result); ``decision_back_url`` by default.
    next_url: Callable[[Any, Any], str] | None = None


class DecisionAdminMixin:
    """Decisions for a ``StaffAdmin``: each gets a URL ``<pk>/<name>/`` named
    ``<app>_<model>_<name>``. The object comes through the admin's own queryset (another
    district's object answers 404); GET shows what is decided and asks, POST calls the
    service, and a refusal is an error message. The change page gets the offered decisions
    as ``decision_buttons``."""

    decisions: dict[str, Decision] = {}
    decision_template: str = ""

    def _url_name(self, name: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{name}"

    def object_change_url(self, obj) -> str:
        return reverse(f"admin:{self._url_name('change')}", args=[obj.pk])

    def decision_urls(self):
        view = self.admin_site.admin_view

        def make(name):
            def decide(request, pk):
                return self.decide(request, pk, name)

            decide.__name__ = f"{name}_view"
            return decide

        return [
            path(f"<int:pk>/{name.replace('_', '-')}/", view(make(name)), name=self._url_name(name))
            for name in self.decisions
        ]

    def has_decide_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_portal_staff

    def staff_object(self, request, pk):
        """The object of a decision or of another page of its own, for staff who decide."""
        if not self.has_decide_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, str(pk))
        if obj is None:  # another district's object answers 404, like a missing one
            raise Http404
        return obj

    def decision_values(self, obj) -> dict:
        """What ``Decision.done`` is formatted with."""
        return {"name": str(obj)}

    def decision_message(self, obj, spec: Decision, result) -> tuple[Any, int]:
        if isinstance(result, tuple):
            return result
        if isinstance(result, str):
            return result, spec.level
        return spec.done % self.decision_values(obj), spec.level

    def decision_back_url(self, request, obj) -> str:
        return self.object_change_url(obj)

    def decision_context(self, request, obj, name: str) -> dict:
        """What the confirmation page shows beyond the question and the form."""
        return {}

    def decision_page(self, request, obj, name: str, form, extra: dict | None = None):
        """The confirmation page; ``extra`` overrides what ``decision_context`` gives."""
        spec = self.decisions[name]
        details = {
            "object": obj,
            "decision": name,
            "change_url": self.object_change_url(obj),
            "question": spec.question,
            "button": spec.title,
            "form": form,
            "allowed": spec.offered(obj),
            **self.decision_context(request, obj, name),
            **(extra or {}),
        }
        return TemplateResponse(request, self.decision_template, self.page_context(request, spec.title, **details))

    def decide(self, request, pk, name: str):
        obj = self.staff_object(request, pk)
        spec = self.decisions[name]
        form = spec.form(request.POST if request.method == "POST" else None)
        if spec.help_text and "reason" in form.fields:
            form.fields["reason"].help_text = spec.help_text
        if request.method != "POST" or not form.is_valid():
            return self.decision_page(request, obj, name, form)
        try:
            result = spec.run(obj, request.user, form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(self.decision_back_url(request, obj))
        self.message_user(request, *self.decision_message(obj, spec, result))
        return HttpResponseRedirect(
            spec.next_url(obj, result) if spec.next_url else self.decision_back_url(request, obj)
        )

    def get_urls(self):
        return self.decision_urls() + super().get_urls()

    def decision_buttons(self, request, obj) -> list[tuple[str, Any]]:
        if obj is None or not self.has_decide_permission(request):
            return []
        return [
            (reverse(f"admin:{self._url_name(name)}", args=[obj.pk]), spec.title)
            for name, spec in self.decisions.items()
            if spec.offered(obj)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["decision_buttons"] = self.decision_buttons(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


class PersonalDataAdminMixin:
    """Opening a record's page that shows a person's data in full writes an audit entry,
    on the person's profile where there is one."""

    def viewed(self, obj) -> tuple[Any, str, dict]:
        """(target, reason, detail) of the audit entry for opening ``obj``."""
        raise NotImplementedError

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            target, reason, detail = self.viewed(obj)
            services.audit_record(
                actor=request.user, action=AuditAction.PII_VIEW, target=target, reason=reason, detail=detail
            )
        return super().change_view(request, object_id, form_url, extra_context)


class CityStaffRecordsMixin:
    """Records only city staff read (the audit trail, who waits for a bed); nobody adds or
    changes them here."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_city_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_city_staff

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class ReadOnlyAdminMixin:
    """Records that people and the services make (bookings, applications, offers, leases):
    staff read them and act through the decision buttons; nobody adds, edits or deletes
    them here (deleting one would silently free what it holds)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffAdmin(admin.ModelAdmin):
    """Base for every portal admin: staff only, scoped to their districts through
    ``district_path``; district staff read, city staff also edit reference data."""

    district_path: str | None = "district"
    district_staff_may_change = False
    # The ``district`` field of the form offers district staff only their own districts.
    own_districts_only = False
    # What the change page (and the decision pages) read with the object, beyond the list.
    object_select_related: tuple[str, ...] = ()
    object_prefetch_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.district_path is None:
            return qs
        return selectors.scope_to_districts(qs, request.user, self.district_path)

    def get_object(self, request, object_id, from_field=None):
        if not (self.object_select_related or self.object_prefetch_related):
            return super().get_object(request, object_id, from_field)
        queryset = (
            self.get_queryset(request)
            .select_related(*self.object_select_related)
            .prefetch_related(*self.object_prefetch_related)
        )
        try:
            return queryset.get(pk=int(object_id))
        except (self.model.DoesNotExist, ValueError, TypeError):
            return None

    def page_context(self, request, title, **extra) -> dict:
        """The context of a page of this admin's own beyond Django's (a confirmation, figures)."""
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_portal_staff

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if self.own_districts_only and db_field.name == "district":
            ids = selectors.staff_district_ids(request.user)
            if ids is not None:
                kwargs["queryset"] = District.objects.filter(pk__in=ids)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_portal_staff

    def has_change_permission(self, request, obj=None):
        user = request.user
        return user.is_active and (user.is_city_staff or (self.district_staff_may_change and user.is_district_staff))

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_city_staff

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def export_csv(self, request, queryset):
        fields = self.csv_fields
        return csv_response(
            filename=f"{self.model._meta.model_name}.csv",
            header=[self._csv_header(f) for f in fields],
            rows=([self._csv_value(obj, f) for f in fields] for obj in queryset),
        )

    export_csv.short_description = gettext_lazy("Export selected rows as CSV")

    csv_fields: list[str] = []
    actions = ["export_csv"]

    def _csv_header(self, name: str) -> str:
        """The column's label in the reader's language: "district__name" → "district"."""
        model, label = self.model, name
        for part in name.split("__"):
            try:
                field = model._meta.get_field(part)
            except Exception:  # a property or method: keep the name
                return label
            if field.is_relation and field.related_model is not None and part != name.split("__")[-1]:
                label = str(field.verbose_name)
                model = field.related_model
                continue
            return label if "__" in name else str(field.verbose_name)
        return label

    @staticmethod
    def _csv_value(obj, name):
        value = obj
        for part in name.split("__"):
            display = getattr(value, f"get_{part}_display", None)
            value = display() if display else getattr(value, part, "")
            if value is None:
                return ""
        return csv_cell(str(value))


@admin.register(District)
class DistrictAdmin(StaffAdmin):
    district_path = None
    list_display = ["name", "name_en", "kind", "wage_tier", "sort_order"]
    list_filter = ["kind", "wage_tier"]
    search_fields = ["name", "name_en", "code"]
    csv_fields = ["code", "name", "name_en", "kind", "wage_tier"]


class MembershipInline(StaffInline, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Organisation)
class OrganisationAdmin(StaffAdmin):
    list_display = ["name", "credit_code", "district", "industry", "status", "created_at"]
    list_filter = ["status", "district", "industry", "kind"]
    search_fields = ["name", "credit_code"]
    date_hierarchy = "created_at"
    list_select_related = ["district"]
    readonly_fields = ["status", "status_reason", "verified_at", "created_at", "updated_at", "documents_links"]
    inlines = [MembershipInline, AuditInline]
    change_form_template = "admin/portal/organisation/change_form.html"
    csv_fields = ["name", "credit_code", "district__name", "industry", "size", "status", "contact_name", "created_at"]

    @admin.display(description=gettext_lazy("Documents"))
    def documents_links(self, obj):
        links = [document_link(d) for d in obj.documents.all()]
        return format_html(" · ".join(["{}"] * len(links)), *links) if links else "-"

    def get_urls(self):
        return [
            path("<int:pk>/verify/", self.admin_site.admin_view(self.verify_view), name="portal_organisation_verify"),
            path("<int:pk>/reject/", self.admin_site.admin_view(self.reject_view), name="portal_organisation_reject"),
        ] + super().get_urls()

    def _get_for_decision(self, request, pk):
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None:
            raise Http404
        if not request.user.is_portal_staff:
            raise PermissionDenied
        return obj

    def verify_view(self, request, pk):
        obj = self._get_for_decision(request, pk)
        if request.method == "POST":
            try:
                services.organisation_verify(organisation=obj, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            else:
                self.message_user(request, _("%(name)s has been verified.") % {"name": obj.name}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:portal_organisation_change", args=[obj.pk]))
        context = self.page_context(request, _("Verify organisation"), object=obj, decision="verify")
        return TemplateResponse(request, "admin/portal/organisation/decision.html", context)

    def reject_view(self, request, pk):
        obj = self._get_for_decision(request, pk)
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.organisation_reject(organisation=obj, actor=request.user, reason=form.cleaned_data["reason"])
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            else:
                self.message_user(request, _("%(name)s has been rejected.") % {"name": obj.name}, messages.WARNING)
            return HttpResponseRedirect(reverse("admin:portal_organisation_change", args=[obj.pk]))
        context = self.page_context(request, _("Reject organisation"), object=obj, decision="reject", form=form)
        return TemplateResponse(request, "admin/portal/organisation/decision.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_decide"] = bool(obj and obj.status == OrganisationStatus.PENDING and request.user.is_portal_staff)
        if not request.user.is_city_staff:
            # District staff decide with the buttons above; every field is read-only for them.
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_change_permission(self, request, obj=None):
        # District staff open the change page to decide; the fields stay read-only for them.
        return request.user.is_active and request.user.is_portal_staff

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_city_staff:
            return self.readonly_fields
        return [f.name for f in self.model._meta.fields] + ["documents_links"]


@admin.register(ApplicantProfile)
class ApplicantProfileAdmin(StaffAdmin):
    list_display = [
        "__str__",
        "id_number_masked",
        "education_level",
        "school",
        "graduation_date",
        "district",
        "hukou_city",
    ]
    list_filter = ["district", "education_level", "works_in_luoyang"]
    search_fields = ["real_name", "school", "major", "user__email", "user__phone"]
    list_select_related = ["user", "district"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "user",
        "id_number_masked",
        "birth_date",
        "gender",
        "created_at",
        "updated_at",
        "documents_links",
    ]
    exclude = ["id_number_encrypted", "id_number_hash"]
    inlines = [AuditInline]
    change_form_template = "admin/portal/applicantprofile/change_form.html"
    csv_fields = [
        "real_name",
        "id_number_masked",
        "education_level",
        "school",
        "major",
        "graduation_date",
        "district__name",
        "hukou_city",
    ]

    def get_search_results(self, request, queryset, search_term):
        # An exact ID number finds the profile through its keyed hash, never by plaintext.
        from portal import crypto
        from portal.validators import normalise_id_number

        qs, distinct = super().get_search_results(request, queryset, search_term)
        term = normalise_id_number(search_term)
        if len(term) == 18:
            qs = qs | queryset.filter(id_number_hash=crypto.keyed_hash(term))
        return qs, distinct

    @admin.display(description=gettext_lazy("Documents"))
    def documents_links(self, obj):
        links = [document_link(d) for d in Document.objects.filter(owner_id=obj.user_id, organisation__isnull=True)]
        return format_html(" · ".join(["{}"] * len(links)), *links) if links else "-"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            services.audit_record(actor=request.user, action=AuditAction.PII_VIEW, target=obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/unmask/", self.admin_site.admin_view(self.unmask_view), name="portal_applicantprofile_unmask"
            ),
        ] + super().get_urls()

    def unmask_view(self, request, pk):
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None:
            raise Http404
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:portal_applicantprofile_change", args=[pk]))
        number = services.profile_unmask_id_number(
            profile=obj, actor=request.user, reason=request.POST.get("reason", "")
        )
        context = self.page_context(request, _("Full ID number"), object=obj, number=number)
        response = render(request, "admin/portal/applicantprofile/unmasked.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def export_csv(self, request, queryset):
        export_audit(request, model="applicantprofile", ids=list(queryset.values_list("pk", flat=True)))
        return super().export_csv(request, queryset)

    export_csv.short_description = StaffAdmin.export_csv.short_description


@admin.register(User)
class UserAdmin(DjangoUserAdmin, StaffAdmin):
    district_path = None
    list_display = ["__str__", "email", "masked_phone", "role", "is_active", "date_joined"]
    list_filter = ["role", "is_active", "districts"]
    search_fields = ["email", "phone", "username"]
    ordering = ["-date_joined"]
    filter_horizontal = ["districts"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Contact"), {"fields": ("email", "phone", "phone_verified", "language")}),
        (gettext_lazy("Role"), {"fields": ("role", "districts", "is_active", "is_staff", "is_superuser")}),
        (gettext_lazy("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "phone", "role", "password1", "password2")}),)
    csv_fields = ["email", "masked_phone", "role", "date_joined"]
    actions = ["export_csv"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_city_staff:
            return qs
        return qs.filter(pk=request.user.pk)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        if user.role in (Role.DISTRICT_STAFF, Role.CITY_STAFF) and (
            user.role != Role.DISTRICT_STAFF or user.districts.exists()
        ):
            services.staff_role_set(user=user, role=user.role, districts=user.districts.all())


@admin.register(Document)
class DocumentAdmin(StaffAdmin):
    district_path = "owner__profile__district"
    list_display = ["__str__", "owner", "kind", "content_type", "size", "created_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["original_name", "owner__email", "owner__phone"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["owner", "organisation", "kind", "content_type", "size", "original_name", "sha256", "created_at"]
    exclude = ["file"]
    csv_fields = ["owner", "kind", "content_type", "size", "created_at"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        ids = selectors.staff_district_ids(request.user)
        if ids is None:
            return qs
        from django.db.models import Q

        return qs.filter(
            Q(owner__profile__district__in=ids, organisation__isnull=True) | Q(organisation__district__in=ids)
        )

    def has_add_permission(self, request):
        return False  # created only by the person: an upload, a consent


class DeliveryInline(ReadOnlyStaffInline, admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(StaffAdmin):
    district_path = None
    list_display = ["title", "user", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "user__email", "user__phone"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = ["user", "kind", "title", "body", "link", "created_at", "read_at"]
    inlines = [DeliveryInline]
    csv_fields = ["user", "kind", "title", "created_at", "read_at"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_city_staff

    has_view_permission = lambda self, request, obj=None: request.user.is_active and request.user.is_city_staff  # noqa: E731

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(CityStaffRecordsMixin, StaffAdmin):
    district_path = None
    list_display = ["created_at", "actor", "action", "content_type", "object_id", "from_status", "to_status"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_id", "actor__email", "reason"]
    list_select_related = ["actor", "content_type"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "actor",
        "action",
        "content_type",
        "object_id",
        "from_status",
        "to_status",
        "reason",
        "detail",
    ]
    csv_fields = ["created_at", "actor", "action", "object_id", "from_status", "to_status", "reason"]


@admin.register(Consent)
class ConsentAdmin(StaffAdmin):
    district_path = "user__profile__district"
    list_display = ["user", "version", "granted_at", "withdrawn_at"]
    list_filter = ["version"]
    list_select_related = ["user"]
    readonly_fields = ["user", "version", "granted_at", "withdrawn_at"]
    search_fields = ["user__email", "user__phone"]
    csv_fields = ["user", "version", "granted_at", "withdrawn_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False  # created only by the person: an upload, a consent


@admin.register(Parameter)
class ParameterAdmin(StaffAdmin):
    """Policy numbers with effective dates. City staff add a row when the policy changes;
    old rows stay, so decisions made under them can be explained."""

    district_path = None
    list_display = ["key", "value", "effective_from", "district", "note", "created_by"]
    list_filter = ["key", "district"]
    search_fields = ["key", "note"]
    list_select_related = ["district", "created_by"]
    date_hierarchy = "effective_from"
    readonly_fields = ["created_by", "created_at"]
    csv_fields = ["key", "value", "effective_from", "district__name", "note"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(DeletionRequest)
class DeletionRequestAdmin(ReadOnlyAdminMixin, StaffAdmin):
    """Accounts their owners deleted (ADR 0009): staff of the person's district read when it
    was asked and finished and what it withdrew; only the pseudonym is left to show."""

    list_display = ["pseudonym", "district", "status", "requested_at", "completed_at"]
    list_filter = ["status", "district"]
    search_fields = ["pseudonym"]
    list_select_related = ["district"]
    date_hierarchy = "requested_at"
    readonly_fields = ["pseudonym", "district", "status", "requested_at", "completed_at", "withdrawn", "summary"]
    fields = readonly_fields
    inlines = [AuditInline]
    csv_fields = ["pseudonym", "district__name", "status", "requested_at", "completed_at"]

"""What the apartments admin pages share: inlines that district staff edit, the housing
decision pages with a summary of the record, and the unit-type choice named with its
project."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext as _

from apartments.models import UnitType
from portal.admin import DecisionAdminMixin
from portal.selectors import scope_to_districts

RelatedOnly = admin.RelatedOnlyFieldListFilter


def portal_staff(request) -> bool:
    return request.user.is_active and request.user.is_portal_staff


class StaffRunsInline:
    """Inlines that district staff edit for the projects and stations of their districts
    (the parent admin already limits which ones they open)."""

    def has_view_permission(self, request, obj=None):
        return portal_staff(request)

    def has_add_permission(self, request, obj=None):
        return portal_staff(request)

    def has_change_permission(self, request, obj=None):
        return portal_staff(request)

    def has_delete_permission(self, request, obj=None):
        return portal_staff(request)


class HousingDecisionMixin(DecisionAdminMixin):
    """The housing decision pages: a summary of the record above the question, and links to
    related pages beside the buttons."""

    decision_template = "admin/portal/decision.html"
    change_form_template = "admin/apartments/housing/change_form.html"

    def decision_summary(self, obj) -> list[tuple[Any, Any]]:
        """(label, value) rows shown above the question."""
        return [(_("Status"), obj.get_status_display())]

    def decision_context(self, request, obj, name):
        return {"summary": self.decision_summary(obj), "status_label": obj.get_status_display()}

    def extra_links(self, request, obj) -> list[tuple[str, Any]]:
        return []

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["extra_links"] = self.extra_links(request, obj) if obj is not None else []
        return super().render_change_form(request, context, add, change, form_url, obj)


def unit_type_field(db_field, request, make, **kwargs):
    """Before the project is known: the unit types of every project in the staff member's
    districts, named with their project (the same type names recur across projects)."""
    kwargs["queryset"] = scope_to_districts(
        UnitType.objects.select_related("project").order_by("project__name", "-area"), request.user, "project__district"
    )
    field = make(db_field, request, **kwargs)
    if field is not None:
        field.label_from_instance = lambda unit_type: f"{unit_type.project.name} · {unit_type}"
    return field

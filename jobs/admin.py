"""Staff moderation of positions (district-scoped), traineeship bases, applications and the
yearly figures against the plan's targets."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from jobs import selectors, services
from jobs.constants import PositionStatus
from jobs.forms import PositionRejectForm
from jobs.models import Interview, JobApplication, Position, TraineeshipBase
from portal.admin import AuditInline, StaffAdmin


@admin.register(Position)
class PositionAdmin(StaffAdmin):
    list_display = ["title", "organisation", "kind", "district", "status", "deadline", "published_at"]
    list_filter = ["status", "kind", "district", "industry"]
    search_fields = ["title", "organisation__name"]
    date_hierarchy = "created_at"
    list_select_related = ["organisation", "district"]
    autocomplete_fields = ["organisation"]
    readonly_fields = [
        "status",
        "status_reason",
        "rejection_reason",
        "published_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    exclude = ["search_text"]
    inlines = [AuditInline]
    change_form_template = "admin/jobs/position/change_form.html"
    change_list_template = "admin/jobs/position/change_list.html"
    actions = ["export_csv", "expire_selected"]
    csv_fields = [
        "title",
        "organisation__name",
        "kind",
        "district__name",
        "industry",
        "headcount",
        "salary_min",
        "salary_max",
        "deadline",
        "status",
        "published_at",
    ]

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_portal_staff

    def has_add_permission(self, request):
        # Positions come from employers through position_create; staff moderate them.
        return False

    def get_readonly_fields(self, request, obj=None):
        # Staff moderate; the employer owns the content.
        return [f.name for f in self.model._meta.fields if f.name != "search_text"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", view(self.approve_view), name="jobs_position_approve"),
            path("<int:pk>/reject/", view(self.reject_view), name="jobs_position_reject"),
            path("statistics/", view(self.statistics_view), name="jobs_position_statistics"),
        ] + super().get_urls()

    def _get(self, request, pk):
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None:
            raise Http404
        return obj

    def _back(self, obj):
        return HttpResponseRedirect(reverse("admin:jobs_position_change", args=[obj.pk]))

    def approve_view(self, request, pk):
        obj = self._get(request, pk)
        if request.method == "POST":
            try:
                services.position_approve(position=obj, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request,
                    " ".join(getattr(exc, "messages", [str(exc)])) or _("You may not take this decision."),
                    messages.ERROR,
                )
            else:
                self.message_user(request, _("“%(title)s” is published.") % {"title": obj.title}, messages.SUCCESS)
            return self._back(obj)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "object": obj,
            "title": _("Approve position"),
            "decision": "approve",
        }
        return TemplateResponse(request, "admin/jobs/position/decision.html", context)

    def reject_view(self, request, pk):
        obj = self._get(request, pk)
        form = PositionRejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.position_reject(
                    position=obj,
                    actor=request.user,
                    reason_code=form.cleaned_data["reason_code"],
                    note=form.cleaned_data["note"],
                )
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request,
                    " ".join(getattr(exc, "messages", [str(exc)])) or _("You may not take this decision."),
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, _("“%(title)s” was sent back to the employer.") % {"title": obj.title}, messages.WARNING
                )
            return self._back(obj)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "object": obj,
            "title": _("Reject position"),
            "decision": "reject",
            "form": form,
        }
        return TemplateResponse(request, "admin/jobs/position/decision.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_moderate"] = bool(obj and obj.status == PositionStatus.PENDING and request.user.is_portal_staff)
        # Every field is the employer's and read-only here: no save buttons that save nothing.
        context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description=gettext_lazy("Expire the selected published positions"))
    def expire_selected(self, request, queryset):
        done = failed = 0
        for position in queryset.filter(status=PositionStatus.PUBLISHED):
            try:
                services.position_expire(position=position, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied):
                failed += 1
        self.message_user(
            request,
            ngettext("%(done)d position expired", "%(done)d positions expired", done) % {"done": done}
            + (" · " + ngettext("%(n)d skipped", "%(n)d skipped", failed) % {"n": failed} if failed else ""),
        )

    def statistics_view(self, request):
        try:
            year = int(request.GET.get("year") or timezone.localdate().year)
        except ValueError:
            year = timezone.localdate().year
        year = max(2021, min(year, timezone.localdate().year + 1))
        stats = selectors.job_statistics(user=request.user, year=year)
        peak = max([1] + [max(r["positions"], r["hires"]) for r in stats.by_district])
        for row in stats.by_district:
            row["positions_pct"] = round(100 * row["positions"] / peak)
            row["hires_pct"] = round(100 * row["hires"] / peak)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Jobs figures %(year)d") % {"year": year},
            "stats": stats,
            "positions_pct": min(100, round(100 * stats.positions_total / stats.positions_target))
            if stats.positions_target
            else 0,
            "hires_pct": min(100, round(100 * stats.hires_total / stats.hires_target)) if stats.hires_target else 0,
            "years": list(range(timezone.localdate().year, 2020, -1)),
        }
        return TemplateResponse(request, "admin/jobs/position/statistics.html", context)


@admin.register(TraineeshipBase)
class TraineeshipBaseAdmin(StaffAdmin):
    district_path = "organisation__district"
    list_display = ["organisation", "active", "designated_by", "designated_at"]
    list_filter = ["active", "organisation__district"]
    search_fields = ["organisation__name"]
    list_select_related = ["organisation", "designated_by"]
    autocomplete_fields = ["organisation"]
    readonly_fields = ["designated_by", "designated_at"]
    csv_fields = ["organisation__name", "active", "designated_at"]
    district_staff_may_change = True

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_portal_staff

    def get_exclude(self, request, obj=None):
        # Adding designates; "active" only matters on an existing base (untick to revoke).
        return ["active"] if obj is None else []

    def save_model(self, request, obj, form, change):
        try:
            if obj.active or not change:
                base = services.traineeship_base_designate(
                    organisation=obj.organisation, actor=request.user, description=obj.description
                )
            else:
                base = services.traineeship_base_revoke(base=obj, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            return
        # The service wrote the row: the admin's log entry and its "added" link must point at it.
        obj.pk = base.pk
        obj.designated_by = base.designated_by
        obj.designated_at = base.designated_at
        obj._state.adding = False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        field = form.base_fields.get("organisation")
        if field is not None:
            from portal.selectors import organisations_for_staff

            field.queryset = organisations_for_staff(user=request.user).filter(status="verified")
        return form


class InterviewInline(admin.TabularInline):
    model = Interview
    extra = 0
    can_delete = False
    fields = ["starts_at", "place", "online_link", "note", "invited_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JobApplication)
class JobApplicationAdmin(StaffAdmin):
    district_path = "position__district"
    list_display = ["__str__", "position", "status", "created_at"]
    list_filter = ["status", "position__kind", "position__district"]
    search_fields = ["position__title", "position__organisation__name", "applicant__profile__real_name"]
    list_select_related = ["position", "applicant"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "position",
        "applicant",
        "status",
        "cover_note",
        "cv",
        "status_reason",
        "created_at",
        "updated_at",
    ]
    exclude = ["shared_documents"]
    inlines = [InterviewInline, AuditInline]
    csv_fields = ["position__title", "position__organisation__name", "status", "created_at"]

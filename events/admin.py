"""Staff admin of the events programme, district-scoped: venues, events (created and changed
through the services; publish, reject, cancel and announce as buttons that lead to
confirmation pages), registrations (approval of pending ones, masked CSV export), the
attendance of each event and the year's figures.

District staff see and run the events of their own districts; city staff see all. Every
write goes through ``events.services``; a refusal is a message or a form error, never an
error page."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from events import selectors, services
from events.constants import SEAT_STATES, EventStatus, RegistrationStatus
from events.models import Event, Registration, Venue
from portal.admin import (
    AuditInline,
    Decision,
    DecisionAdminMixin,
    EmptyForm,
    PersonalDataAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyStaffInline,
    ReasonForm,
    RefusalMixin,
    StaffAdmin,
    csv_text,
    error_text,
    html_lines,
    local_minute,
    masked_csv_response,
    person_columns,
    person_id_masked,
    person_name,
    person_phone_masked,
    person_profile,
    statistics_year,
)
from portal.constants import AuditAction
from portal.models import AuditEntry
from portal.selectors import scope_to_districts

RelatedOnly = admin.RelatedOnlyFieldListFilter


# --- venues --------------------------------------------------------------------------------------


@admin.register(Venue)
class VenueAdmin(StaffAdmin):
    """The youth homes and city study rooms of the staff member's districts."""

    district_path = "district"
    district_staff_may_change = True
    own_districts_only = True
    list_display = ["name", "kind", "district", "capacity", "address"]
    list_filter = ["kind", "district"]
    search_fields = ["name", "address"]
    list_select_related = ["district"]
    csv_fields = ["name", "kind", "district__name", "address", "capacity"]

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_portal_staff


# --- events --------------------------------------------------------------------------------------


class EventAdminForm(forms.ModelForm):
    """The event's fields; the rules are the services' (checked here as well, so that a
    mistake shows on its field instead of after the save)."""

    cover_upload = forms.ImageField(
        label=gettext_lazy("Cover picture"),
        required=False,
        help_text=gettext_lazy("JPEG or PNG; stored re-encoded, with a thumbnail for the event list."),
    )

    class Meta:
        model = Event
        fields = list(services.EVENT_FIELDS)

    def clean(self):
        data = super().clean()
        probe = copy.copy(self.instance)  # the stored values, changed as the form says
        for name in services.EVENT_FIELDS:
            if name in data:
                setattr(probe, name, data[name])
        try:
            services.event_validate(probe)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items() if hasattr(exc, "error_dict") else [(None, exc.error_list)]:
                self.add_error(field if field in self.fields else None, errors)
        if self.instance.pk and probe.capacity:
            taken = Registration.objects.filter(event_id=self.instance.pk, status__in=SEAT_STATES).count()
            if probe.capacity < taken and "capacity" not in self.errors:
                self.add_error("capacity", _("%(n)d places are already taken.") % {"n": taken})
        return data


@dataclass(frozen=True)
class _While:
    """When an event decision is offered: in one of these statuses and, for some, only until
    the event ends (the service decides in the end)."""

    statuses: tuple[str, ...]
    upcoming_only: bool = False

    def __call__(self, event: Event) -> bool:
        return event.status in self.statuses and not (self.upcoming_only and event.ends_at <= timezone.now())

    def ended(self, event: Event) -> bool:
        """Offered by the status, but the event is over."""
        return event.status in self.statuses and not self(event)


def _announce(event, actor, data):
    count = services.event_announce(event=event, actor=actor)
    return ngettext(
        "“%(title)s” is being announced to %(n)d subscriber.",
        "“%(title)s” is being announced to %(n)d subscribers.",
        count,
    ) % {"title": event.title, "n": count}


EVENT_DECISIONS = {
    "publish": Decision(
        title=gettext_lazy("Publish"),
        question=gettext_lazy("Publish this event? It is listed at once and registration opens as planned."),
        form=EmptyForm,
        run=lambda event, actor, data: services.event_publish(event=event, actor=actor),
        done=gettext_lazy("“%(title)s” is published."),
        offered=_While((EventStatus.DRAFT, EventStatus.PENDING)),
    ),
    "reject": Decision(
        title=gettext_lazy("Reject with reason"),
        question=gettext_lazy(
            "Send this event back to the organising employer? They see the reason and may submit it again."
        ),
        form=ReasonForm,
        run=lambda event, actor, data: services.event_reject(event=event, actor=actor, reason=data["reason"]),
        done=gettext_lazy("“%(title)s” was sent back to the organiser."),
        offered=_While((EventStatus.PENDING,)),
        level=messages.WARNING,
    ),
    "cancel": Decision(
        title=gettext_lazy("Cancel the event"),
        question=gettext_lazy(
            "Cancel this event? Every registration is cancelled and each participant is told the reason."
        ),
        form=ReasonForm,
        run=lambda event, actor, data: services.event_cancel(event=event, actor=actor, reason=data["reason"]),
        done=gettext_lazy("“%(title)s” is cancelled; the participants are being told."),
        offered=_While((EventStatus.PUBLISHED,), upcoming_only=True),
        level=messages.WARNING,
        help_text=gettext_lazy("The participants see this reason."),
    ),
    "announce": Decision(
        title=gettext_lazy("Announce to subscribers"),
        question=gettext_lazy(
            "Announce this event to everyone who follows its district or its kind? Each of them gets a notification."
        ),
        form=EmptyForm,
        run=_announce,
        done=None,  # the service says how many were told
        offered=_While((EventStatus.PUBLISHED,), upcoming_only=True),
    ),
}


class RegistrationInline(ReadOnlyStaffInline, admin.TabularInline):
    """Who registered, in arrival order, with masked contact data (the registration's own
    page has the rest)."""

    model = Registration
    extra = 0
    can_delete = False
    template = "admin/events/event/registration_inline.html"
    fields = ["sequence", "participant", "phone", "status", "checked_in_at"]
    readonly_fields = fields
    ordering = ["sequence"]
    verbose_name_plural = gettext_lazy("Registrations")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user__profile")

    @admin.display(description=gettext_lazy("participant"))
    def participant(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:events_registration_change", args=[obj.pk]), person_name(obj.user)
        )

    @admin.display(description=gettext_lazy("contact phone"))
    def phone(self, obj):
        return person_phone_masked(obj.user)


@admin.register(Event)
class EventAdmin(RefusalMixin, DecisionAdminMixin, StaffAdmin):
    district_path = "district"
    district_staff_may_change = True
    own_districts_only = True
    decisions = EVENT_DECISIONS
    decision_template = "admin/events/event/decision.html"
    form = EventAdminForm
    list_display = ["title", "kind", "district", "starts_at", "places", "status", "organiser", "attendance_link"]
    list_filter = ["status", "kind", "district", "requires_approval"]
    search_fields = ["title", "venue__name", "place", "organiser__name"]
    date_hierarchy = "starts_at"
    list_select_related = ["district", "venue", "organiser"]
    autocomplete_fields = ["venue"]
    ordering = ["-starts_at"]
    fieldsets = (
        (None, {"fields": ("kind", "title", "description", "district", "venue", "place", "cover_upload")}),
        (gettext_lazy("Dates"), {"fields": ("starts_at", "ends_at", "registration_opens", "registration_closes")}),
        (
            gettext_lazy("Places and audience"),
            {
                "fields": (
                    "capacity",
                    "places",
                    "min_age",
                    "max_age",
                    "graduates_only",
                    "requires_approval",
                    "volunteer_hours",
                )
            },
        ),
        (gettext_lazy("Registration questions"), {"fields": ("questions",)}),
        (
            gettext_lazy("Status"),
            {"fields": ("status", "status_reason", "organiser", "created_by", "created_at", "updated_at")},
        ),
    )
    readonly_fields = ["places", "status", "status_reason", "organiser", "created_by", "created_at", "updated_at"]
    change_form_template = "admin/events/event/change_form.html"
    change_list_template = "admin/events/event/change_list.html"
    csv_fields = ["title", "kind", "district__name", "starts_at", "ends_at", "capacity", "status", "organiser__name"]

    def get_queryset(self, request):
        taken = (
            Registration.objects.filter(event=OuterRef("pk"), status__in=SEAT_STATES)
            .order_by()
            .values("event")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(taken=Coalesce(Subquery(taken, output_field=IntegerField()), 0))

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_portal_staff

    def get_inlines(self, request, obj):
        return [RegistrationInline, AuditInline] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "venue":
            kwargs["queryset"] = scope_to_districts(Venue.objects.select_related("district"), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- columns

    @admin.display(description=gettext_lazy("places taken"))
    def places(self, obj):
        taken = getattr(obj, "taken", None)
        if taken is None:
            return "-"
        return f"{taken} / {obj.capacity}"

    @admin.display(description=gettext_lazy("attendance"))
    def attendance_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:events_event_attendance", args=[obj.pk]), _("Attendance")
        )

    # --- saving through the services

    def save_model(self, request, obj, form, change):
        names = [n for n in services.EVENT_FIELDS if n in form.cleaned_data]
        try:
            if change:
                data = {n: form.cleaned_data[n] for n in names if n in form.changed_data}
                # The permission is checked against the stored event, not the changed copy.
                stored = Event.objects.select_related("organiser").get(pk=obj.pk)
                event = services.event_update(event=stored, actor=request.user, data=data)
            else:
                event = services.event_create(actor=request.user, data={n: form.cleaned_data[n] for n in names})
        except (ValidationError, PermissionDenied) as exc:
            self._refused(request, _("The event was not saved: %(error)s") % {"error": error_text(exc)})
            return
        upload = form.cleaned_data.get("cover_upload")
        if upload:
            try:
                upload.seek(0)
                services.event_set_cover(event=event, actor=request.user, upload=upload)
            except (ValidationError, PermissionDenied) as exc:
                self._refused(request, _("The cover picture was not saved: %(error)s") % {"error": error_text(exc)})
        # The service wrote the row: the admin's log entry and its links must point at it.
        for field in event._meta.concrete_fields:
            setattr(obj, field.attname, getattr(event, field.attname))
        obj._state.adding = False
        obj._state.db = event._state.db

    # --- decisions

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("statistics/", view(self.statistics_view), name="events_event_statistics"),
            path("<int:pk>/attendance/", view(self.attendance_view), name="events_event_attendance"),
            path(
                "<int:pk>/registrations.csv", view(self.registrations_csv_view), name="events_event_registrations_csv"
            ),
        ] + super().get_urls()

    def decision_values(self, obj):
        return {"title": obj.title}

    def decision_context(self, request, obj, name):
        return {
            "ended": self.decisions[name].offered.ended(obj),
            "announcements": self._announcements(obj) if name == "announce" else [],
        }

    @staticmethod
    def _announcements(event):
        return (
            AuditEntry.objects.filter(
                content_type__app_label="events",
                content_type__model="event",
                object_id=str(event.pk),
                action=AuditAction.DECISION,
                reason="announce",
            )
            .select_related("actor")
            .order_by("-created_at")
        )

    # --- attendance and figures

    def attendance_view(self, request, pk):
        event = self.staff_object(request, pk)
        counts = dict.fromkeys(RegistrationStatus.values, 0)
        for row in Registration.objects.filter(event=event).values("status").annotate(n=Count("pk")).order_by():
            counts[row["status"]] = row["n"]
        registered = sum(n for status, n in counts.items() if status != RegistrationStatus.CANCELLED)
        known = counts[RegistrationStatus.ATTENDED] + counts[RegistrationStatus.NO_SHOW]
        registrations = [
            {
                "pk": r.pk,
                "sequence": r.sequence,
                "name": person_name(r.user),
                "phone": person_phone_masked(r.user),
                "status": r.get_status_display(),
                "status_code": r.status,
                "checked_in_at": r.checked_in_at,
            }
            for r in selectors.registrations_for_event(event=event)
        ]
        context = self.page_context(
            request,
            _("Attendance: %(title)s") % {"title": event.title},
            object=event,
            counts=counts,
            registered=registered,
            expected=counts[RegistrationStatus.CONFIRMED],
            attendance_pct=round(100 * counts[RegistrationStatus.ATTENDED] / known) if known else None,
            fill_pct=min(100, round(100 * (event.taken or 0) / event.capacity)) if event.capacity else 0,
            registrations=registrations,
            check_in_url=reverse("events:check_in", args=[event.pk]),
            registrations_url=reverse("admin:events_registration_changelist") + f"?event__id__exact={event.pk}",
        )
        return TemplateResponse(request, "admin/events/event/attendance.html", context)

    def registrations_csv_view(self, request, pk):
        event = self.staff_object(request, pk)
        return registrations_csv(request, Registration.objects.filter(event=event))

    def statistics_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        year, years = statistics_year(request)
        stats = selectors.event_statistics(user=request.user, year=year)
        for rows in (stats["by_kind"], stats["by_district"]):
            peak = max([1] + [r["registered"] for r in rows])
            peak_hours = max([1] + [r["hours"] for r in rows])
            for row in rows:
                row["registered_pct"] = round(100 * row["registered"] / peak)
                row["attended_pct"] = round(100 * row["attended"] / peak)
                row["hours_pct"] = round(100 * row["hours"] / peak_hours)
        context = self.page_context(
            request,
            _("Events figures %(year)d") % {"year": year},
            stats=stats,
            year=year,
            years=years,
        )
        return TemplateResponse(request, "admin/events/event/statistics.html", context)


# --- registrations -------------------------------------------------------------------------------


def registrations_csv(request, queryset) -> HttpResponse:
    """Registrations as CSV with masked personal data only (the masked ID number and phone,
    never the plaintext); the export is written to the audit trail."""
    rows = list(queryset.select_related("event__district", "user__profile").order_by("event__starts_at", "sequence"))
    return masked_csv_response(
        request,
        filename="registrations.csv",
        model="registration",
        header=[
            _("Event"),
            _("District"),
            _("Starts"),
            _("Participant"),
            _("ID number (masked)"),
            _("Contact phone (masked)"),
            _("Status"),
            _("Arrival order"),
            _("Registered"),
            _("Checked in at"),
        ],
        rows=[
            [
                csv_text(r.event.title),
                csv_text(r.event.district),
                local_minute(r.event.starts_at),
                csv_text(person_name(r.user)),
                csv_text(person_id_masked(r.user)),
                csv_text(person_phone_masked(r.user)),
                r.get_status_display(),
                r.sequence,
                local_minute(r.created_at),
                local_minute(r.checked_in_at),
            ]
            for r in rows
        ],
        ids=[r.pk for r in rows],
    )


def _pending(registration: Registration) -> bool:
    return registration.status == RegistrationStatus.PENDING


REGISTRATION_DECISIONS = {
    "approve": Decision(
        title=gettext_lazy("Approve"),
        question=gettext_lazy(
            "Approve this registration? The participant gets a place if one is free, else a place on the waiting list, and is told."
        ),
        form=EmptyForm,
        run=lambda registration, actor, data: services.registration_approve(registration=registration, actor=actor),
        done=gettext_lazy("The registration of %(name)s is approved: %(status)s."),
        offered=_pending,
    ),
    "reject": Decision(
        title=gettext_lazy("Reject with reason"),
        question=gettext_lazy("Reject this registration? The participant is told the reason."),
        form=ReasonForm,
        run=lambda registration, actor, data: services.registration_reject(
            registration=registration, actor=actor, reason=data["reason"]
        ),
        done=gettext_lazy("The registration of %(name)s is rejected."),
        offered=_pending,
        level=messages.WARNING,
        help_text=gettext_lazy("The participant sees this reason."),
    ),
}


@admin.register(Registration)
class RegistrationAdmin(PersonalDataAdminMixin, ReadOnlyAdminMixin, DecisionAdminMixin, StaffAdmin):
    """Registrations are made by participants; staff act on them only through the buttons
    (deleting a registration would free its place silently: it is cancelled instead)."""

    district_path = "event__district"
    decisions = REGISTRATION_DECISIONS
    decision_template = "admin/events/registration/decision.html"
    list_display = ["participant", "event", "event_starts", "status", "sequence", "created_at", "checked_in_at"]
    list_filter = ["status", ("event", RelatedOnly), "event__kind", ("event__district", RelatedOnly)]
    search_fields = ["user__profile__real_name", "user__email", "user__phone", "event__title", "=check_in_code"]
    date_hierarchy = "created_at"
    list_select_related = ["event__district", "user__profile"]
    ordering = ["-event__starts_at", "sequence"]
    fields = [
        "event",
        "participant",
        "id_number",
        "phone",
        "status",
        "sequence",
        "waiting_position",
        "answer_lines",
        "offer_expires_at",
        "checked_in_at",
        "status_reason",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [AuditInline]
    change_form_template = "admin/events/registration/change_form.html"
    actions = ["export_csv", "approve_selected"]
    object_select_related = ("event__district", "user__profile")

    # --- columns and read-only fields

    participant, id_number, phone = person_columns("user", gettext_lazy("participant"))[1:]

    @admin.display(description=gettext_lazy("starts"), ordering="event__starts_at")
    def event_starts(self, obj):
        return local_minute(obj.event.starts_at)

    @admin.display(description=gettext_lazy("place on the waiting list"))
    def waiting_position(self, obj):
        position = selectors.waitlist_position(obj)
        return "-" if position is None else position

    @admin.display(description=gettext_lazy("answers"))
    def answer_lines(self, obj):
        questions = obj.event.questions or []
        lines = []
        for index, question in enumerate(questions):
            answer = (obj.answers or {}).get(str(index), "")
            lines.append(format_html("{}: {}", question.get("label", index), answer or "-"))
        return html_lines(lines)

    # --- personal data: opening and exporting are recorded

    def viewed(self, obj):
        return person_profile(obj.user) or obj, _("Event registration"), {"registration": obj.pk}

    def export_csv(self, request, queryset):
        return registrations_csv(request, queryset)

    export_csv.short_description = gettext_lazy("Export selected registrations as CSV (masked)")

    # --- decisions

    def decision_message(self, obj, spec, result):
        obj.refresh_from_db(fields=["status"])  # approved: confirmed, or on the waiting list
        return spec.done % {"name": person_name(obj.user), "status": obj.get_status_display()}, spec.level

    def decision_context(self, request, obj, name):
        return {
            "participant": person_name(obj.user),
            "phone": person_phone_masked(obj.user),
            "answers": self.answer_lines(obj),
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["attendance_url"] = reverse("admin:events_event_attendance", args=[obj.event_id]) if obj else ""
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description=gettext_lazy("Approve the selected pending registrations"), permissions=["decide"])
    def approve_selected(self, request, queryset):
        # One service call per registration, in arrival order, so the places go to those
        # who registered first.
        done = failed = 0
        skipped = queryset.exclude(status=RegistrationStatus.PENDING).count()
        pending = (
            queryset.filter(status=RegistrationStatus.PENDING).select_related("event").order_by("event_id", "sequence")
        )
        for registration in pending:
            try:
                services.registration_approve(registration=registration, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied):
                failed += 1
        text = ngettext("%(n)d registration approved", "%(n)d registrations approved", done) % {"n": done}
        if failed:
            text += " · " + ngettext("%(n)d refused", "%(n)d refused", failed) % {"n": failed}
        if skipped:
            text += " · " + ngettext("%(n)d not pending, skipped", "%(n)d not pending, skipped", skipped) % {
                "n": skipped
            }
        self.message_user(request, text, messages.SUCCESS if done and not failed else messages.WARNING)

"""Staff admin of the events programme, district-scoped: venues, events (created and changed
through the services; publish, reject, cancel and announce as buttons that lead to
confirmation pages), registrations (approval of pending ones, masked CSV export), the
attendance of each event and the year's figures.

District staff see and run the events of their own districts; city staff see all. Every
write goes through ``events.services``; a refusal is a message or a form error, never an
error page."""

from __future__ import annotations

import copy
import csv
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from events import selectors, services
from events.constants import SEAT_STATES, EventStatus, RegistrationStatus
from events.models import Event, Registration, Venue
from portal import services as portal_services
from portal.admin import AuditInline, ReadOnlyStaffInline, RefusalMixin, StaffAdmin, csv_cell
from portal.constants import AuditAction
from portal.models import AuditEntry, District
from portal.permissions import staff_district_ids
from portal.selectors import scope_to_districts
from portal.validators import mask_phone

RelatedOnly = admin.RelatedOnlyFieldListFilter


def _error_text(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)]).strip() or _("You may not take this decision.")


def _profile(user):
    # Reverse one-to-one: a user without a profile raises RelatedObjectDoesNotExist, an
    # AttributeError.
    return getattr(user, "profile", None)


def _masked_account(user) -> str:
    """Who registered, for someone without a real name in a profile: the account's e-mail
    or phone, masked like the rest of the personal data on these pages."""
    if user.email and "@" in user.email:
        local, domain = user.email.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return mask_phone(user.phone) or f"#{user.pk}"


def participant_name(registration: Registration) -> str:
    profile = _profile(registration.user)
    return (profile.real_name if profile else "") or _masked_account(registration.user)


def participant_phone_masked(registration: Registration) -> str:
    profile = _profile(registration.user)
    phone = (profile.phone if profile else "") or registration.user.phone
    return mask_phone(phone) or "-"


def participant_id_masked(registration: Registration) -> str:
    profile = _profile(registration.user)
    return (profile.id_number_masked if profile else "") or "-"


def _scoped_districts(request, kwargs: dict) -> None:
    ids = staff_district_ids(request.user)
    if ids is not None:
        kwargs["queryset"] = District.objects.filter(pk__in=ids)


# --- venues --------------------------------------------------------------------------------------


@admin.register(Venue)
class VenueAdmin(StaffAdmin):
    """The youth homes and city study rooms of the staff member's districts."""

    district_path = "district"
    district_staff_may_change = True
    list_display = ["name", "kind", "district", "capacity", "address"]
    list_filter = ["kind", "district"]
    search_fields = ["name", "address"]
    list_select_related = ["district"]
    csv_fields = ["name", "kind", "district__name", "address", "capacity"]

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_portal_staff

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "district":
            _scoped_districts(request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


class EmptyForm(forms.Form):
    pass


@dataclass(frozen=True)
class Decision:
    title: Any
    question: Any
    form: type[forms.Form]
    run: Any
    done: Any
    statuses: tuple[str, ...]
    level: int = messages.SUCCESS
    help_text: Any = ""
    upcoming_only: bool = False  # offered only until the event ends


def _announce(event, actor, data):
    count = services.event_announce(event=event, actor=actor)
    return ngettext(
        "“%(title)s” is being announced to %(n)d subscriber.",
        "“%(title)s” is being announced to %(n)d subscribers.",
        count,
    ) % {"title": event.title, "n": count}


EVENT_DECISIONS = {
    "publish": Decision(
        gettext_lazy("Publish"),
        gettext_lazy("Publish this event? It is listed at once and registration opens as planned."),
        EmptyForm,
        lambda event, actor, data: services.event_publish(event=event, actor=actor),
        gettext_lazy("“%(title)s” is published."),
        (EventStatus.DRAFT, EventStatus.PENDING),
    ),
    "reject": Decision(
        gettext_lazy("Reject with reason"),
        gettext_lazy("Send this event back to the organising employer? They see the reason and may submit it again."),
        ReasonForm,
        lambda event, actor, data: services.event_reject(event=event, actor=actor, reason=data["reason"]),
        gettext_lazy("“%(title)s” was sent back to the organiser."),
        (EventStatus.PENDING,),
        messages.WARNING,
    ),
    "cancel": Decision(
        gettext_lazy("Cancel the event"),
        gettext_lazy("Cancel this event? Every registration is cancelled and each participant is told the reason."),
        ReasonForm,
        lambda event, actor, data: services.event_cancel(event=event, actor=actor, reason=data["reason"]),
        gettext_lazy("“%(title)s” is cancelled; the participants are being told."),
        (EventStatus.PUBLISHED,),
        messages.WARNING,
        gettext_lazy("The participants see this reason."),
        upcoming_only=True,
    ),
    "announce": Decision(
        gettext_lazy("Announce to subscribers"),
        gettext_lazy(
            "Announce this event to everyone who follows its district or its kind? Each of them gets a notification."
        ),
        EmptyForm,
        _announce,
        None,  # the service says how many were told
        (EventStatus.PUBLISHED,),
        upcoming_only=True,
    ),
}


def _offered(spec: Decision, event: Event) -> bool:
    """Whether the change page offers the decision (the service decides in the end)."""
    return event.status in spec.statuses and not (spec.upcoming_only and event.ends_at <= timezone.now())


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
            '<a href="{}">{}</a>', reverse("admin:events_registration_change", args=[obj.pk]), participant_name(obj)
        )

    @admin.display(description=gettext_lazy("contact phone"))
    def phone(self, obj):
        return participant_phone_masked(obj)


@admin.register(Event)
class EventAdmin(RefusalMixin, StaffAdmin):
    district_path = "district"
    district_staff_may_change = True
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
        if db_field.name == "district":
            _scoped_districts(request, kwargs)
        elif db_field.name == "venue":
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
            self._refused(request, _("The event was not saved: %(error)s") % {"error": _error_text(exc)})
            return
        upload = form.cleaned_data.get("cover_upload")
        if upload:
            try:
                upload.seek(0)
                services.event_set_cover(event=event, actor=request.user, upload=upload)
            except (ValidationError, PermissionDenied) as exc:
                self._refused(request, _("The cover picture was not saved: %(error)s") % {"error": _error_text(exc)})
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
            path("<int:pk>/publish/", view(self.publish_view), name="events_event_publish"),
            path("<int:pk>/reject/", view(self.reject_view), name="events_event_reject"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="events_event_cancel"),
            path("<int:pk>/announce/", view(self.announce_view), name="events_event_announce"),
        ] + super().get_urls()

    def _get(self, request, pk) -> Event:
        if not (request.user.is_active and request.user.is_portal_staff):
            raise PermissionDenied
        event = self.get_queryset(request).filter(pk=pk).first()
        if event is None:  # another district's event answers 404, like a missing one
            raise Http404
        return event

    def _back(self, event):
        return HttpResponseRedirect(reverse("admin:events_event_change", args=[event.pk]))

    def _decide(self, request, pk, decision: str):
        event = self._get(request, pk)
        spec = EVENT_DECISIONS[decision]
        form = spec.form(request.POST if request.method == "POST" else None)
        if spec.help_text and "reason" in form.fields:
            form.fields["reason"].help_text = spec.help_text
        if request.method == "POST" and form.is_valid():
            try:
                done = spec.run(event, request.user, form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            else:
                text = done if spec.done is None else spec.done % {"title": event.title}
                self.message_user(request, text, spec.level)
            return self._back(event)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": spec.title,
            "object": event,
            "decision": decision,
            "question": spec.question,
            "button": spec.title,
            "form": form,
            "allowed": _offered(spec, event),
            "ended": event.status in spec.statuses and not _offered(spec, event),
            "announcements": self._announcements(event) if decision == "announce" else [],
        }
        return TemplateResponse(request, "admin/events/event/decision.html", context)

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

    def publish_view(self, request, pk):
        return self._decide(request, pk, "publish")

    def reject_view(self, request, pk):
        return self._decide(request, pk, "reject")

    def cancel_view(self, request, pk):
        return self._decide(request, pk, "cancel")

    def announce_view(self, request, pk):
        return self._decide(request, pk, "announce")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and request.user.is_portal_staff:
            context["event_buttons"] = [
                (reverse(f"admin:events_event_{name}", args=[obj.pk]), spec.title)
                for name, spec in EVENT_DECISIONS.items()
                if _offered(spec, obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- attendance and figures

    def attendance_view(self, request, pk):
        event = self._get(request, pk)
        counts = dict.fromkeys(RegistrationStatus.values, 0)
        for row in Registration.objects.filter(event=event).values("status").annotate(n=Count("pk")).order_by():
            counts[row["status"]] = row["n"]
        registered = sum(n for status, n in counts.items() if status != RegistrationStatus.CANCELLED)
        known = counts[RegistrationStatus.ATTENDED] + counts[RegistrationStatus.NO_SHOW]
        registrations = [
            {
                "pk": r.pk,
                "sequence": r.sequence,
                "name": participant_name(r),
                "phone": participant_phone_masked(r),
                "status": r.get_status_display(),
                "status_code": r.status,
                "checked_in_at": r.checked_in_at,
            }
            for r in selectors.registrations_for_event(event=event)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Attendance: %(title)s") % {"title": event.title},
            "object": event,
            "counts": counts,
            "registered": registered,
            "expected": counts[RegistrationStatus.CONFIRMED],
            "attendance_pct": round(100 * counts[RegistrationStatus.ATTENDED] / known) if known else None,
            "fill_pct": min(100, round(100 * (event.taken or 0) / event.capacity)) if event.capacity else 0,
            "registrations": registrations,
            "check_in_url": reverse("events:check_in", args=[event.pk]),
            "registrations_url": reverse("admin:events_registration_changelist") + f"?event__id__exact={event.pk}",
        }
        return TemplateResponse(request, "admin/events/event/attendance.html", context)

    def registrations_csv_view(self, request, pk):
        event = self._get(request, pk)
        return registrations_csv(request, Registration.objects.filter(event=event))

    def statistics_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        this_year = timezone.localdate().year
        try:
            year = int(request.GET.get("year") or this_year)
        except ValueError:
            year = this_year
        year = max(2021, min(year, this_year + 1))
        stats = selectors.event_statistics(user=request.user, year=year)
        for rows in (stats["by_kind"], stats["by_district"]):
            peak = max([1] + [r["registered"] for r in rows])
            peak_hours = max([1] + [r["hours"] for r in rows])
            for row in rows:
                row["registered_pct"] = round(100 * row["registered"] / peak)
                row["attended_pct"] = round(100 * row["attended"] / peak)
                row["hours_pct"] = round(100 * row["hours"] / peak_hours)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Events figures %(year)d") % {"year": year},
            "stats": stats,
            "year": year,
            "years": list(range(this_year + 1, 2020, -1)),
        }
        return TemplateResponse(request, "admin/events/event/statistics.html", context)


# --- registrations -------------------------------------------------------------------------------

# A value a spreadsheet would run as a formula: a leading =, @, + or - (unless it is a plain
# number or a phone number), tab or carriage return.


def _cell(value) -> str:
    return csv_cell("" if value is None else str(value))


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def registrations_csv(request, queryset) -> HttpResponse:
    """Registrations as CSV with masked personal data only (the masked ID number and phone,
    never the plaintext); the export is written to the audit trail."""
    rows = list(queryset.select_related("event__district", "user__profile").order_by("event__starts_at", "sequence"))
    portal_services.audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        target=request.user,
        detail={
            "model": "registration",
            "rows": len(rows),
            "ids": [r.pk for r in rows[:5000]],
            "at": timezone.now().isoformat(),
        },
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="registrations.csv"'
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # Excel opens UTF-8 Chinese correctly with a BOM
    writer = csv.writer(response)
    writer.writerow(
        [
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
        ]
    )
    for r in rows:
        writer.writerow(
            [
                _cell(r.event.title),
                _cell(r.event.district),
                _when(r.event.starts_at),
                _cell(participant_name(r)),
                _cell(participant_id_masked(r)),
                _cell(participant_phone_masked(r)),
                r.get_status_display(),
                r.sequence,
                _when(r.created_at),
                _when(r.checked_in_at),
            ]
        )
    return response


REGISTRATION_DECISIONS = {
    "approve": Decision(
        gettext_lazy("Approve"),
        gettext_lazy(
            "Approve this registration? The participant gets a place if one is free, else a place on the waiting list, and is told."
        ),
        EmptyForm,
        lambda registration, actor, data: services.registration_approve(registration=registration, actor=actor),
        gettext_lazy("The registration of %(name)s is approved: %(status)s."),
        (RegistrationStatus.PENDING,),
    ),
    "reject": Decision(
        gettext_lazy("Reject with reason"),
        gettext_lazy("Reject this registration? The participant is told the reason."),
        ReasonForm,
        lambda registration, actor, data: services.registration_reject(
            registration=registration, actor=actor, reason=data["reason"]
        ),
        gettext_lazy("The registration of %(name)s is rejected."),
        (RegistrationStatus.PENDING,),
        messages.WARNING,
        gettext_lazy("The participant sees this reason."),
    ),
}


@admin.register(Registration)
class RegistrationAdmin(StaffAdmin):
    """Registrations are made by participants; staff act on them only through the buttons."""

    district_path = "event__district"
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The page is read-only for everyone; decisions are the buttons.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a registration would free its place silently: cancel it instead.
        return False

    def has_decide_permission(self, request):
        return request.user.is_active and request.user.is_portal_staff

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related("event__district", "user__profile")
        try:
            return queryset.get(pk=int(object_id))
        except (Registration.DoesNotExist, ValueError, TypeError):
            return None

    # --- columns and read-only fields

    @admin.display(description=gettext_lazy("participant"), ordering="user__profile__real_name")
    def participant(self, obj):
        return participant_name(obj)

    @admin.display(description=gettext_lazy("starts"), ordering="event__starts_at")
    def event_starts(self, obj):
        return _when(obj.event.starts_at)

    @admin.display(description=gettext_lazy("ID number"))
    def id_number(self, obj):
        return participant_id_masked(obj)

    @admin.display(description=gettext_lazy("contact phone"))
    def phone(self, obj):
        return participant_phone_masked(obj)

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
        if not lines:
            return "-"
        return format_html("<br>".join(["{}"] * len(lines)), *lines)

    # --- personal data: opening and exporting are recorded

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            portal_services.audit_record(
                actor=request.user,
                action=AuditAction.PII_VIEW,
                target=_profile(obj.user) or obj,
                reason=_("Event registration"),
                detail={"registration": obj.pk},
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def export_csv(self, request, queryset):
        return registrations_csv(request, queryset)

    export_csv.short_description = gettext_lazy("Export selected registrations as CSV (masked)")

    # --- decisions

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", view(self.approve_view), name="events_registration_approve"),
            path("<int:pk>/reject/", view(self.reject_view), name="events_registration_reject"),
        ] + super().get_urls()

    def _get(self, request, pk) -> Registration:
        if not self.has_decide_permission(request):
            raise PermissionDenied
        registration = self.get_object(request, pk)
        if registration is None:  # another district's registration answers 404
            raise Http404
        return registration

    def _decide(self, request, pk, decision: str):
        registration = self._get(request, pk)
        spec = REGISTRATION_DECISIONS[decision]
        form = spec.form(request.POST if request.method == "POST" else None)
        if spec.help_text and "reason" in form.fields:
            form.fields["reason"].help_text = spec.help_text
        if request.method == "POST" and form.is_valid():
            try:
                spec.run(registration, request.user, form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            else:
                registration.refresh_from_db(fields=["status"])
                self.message_user(
                    request,
                    spec.done % {"name": participant_name(registration), "status": registration.get_status_display()},
                    spec.level,
                )
            return HttpResponseRedirect(reverse("admin:events_registration_change", args=[registration.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": spec.title,
            "object": registration,
            "decision": decision,
            "question": spec.question,
            "button": spec.title,
            "form": form,
            "allowed": registration.status in spec.statuses,
            "participant": participant_name(registration),
            "phone": participant_phone_masked(registration),
            "answers": self.answer_lines(registration),
        }
        return TemplateResponse(request, "admin/events/registration/decision.html", context)

    def approve_view(self, request, pk):
        return self._decide(request, pk, "approve")

    def reject_view(self, request, pk):
        return self._decide(request, pk, "reject")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_decide_permission(request):
            context["registration_buttons"] = [
                (reverse(f"admin:events_registration_{name}", args=[obj.pk]), spec.title)
                for name, spec in REGISTRATION_DECISIONS.items()
                if obj.status in spec.statuses
            ]
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

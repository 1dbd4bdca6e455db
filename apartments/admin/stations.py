"""Staff admin of the youth stations (青年驿站): stations and their closed nights, stays with
check-in, check-out, no-show and cancel as buttons, today's board of arrivals and departures,
the follow-up call tasks and the figures by district and month.

District staff see and run the stations of their own districts; city staff see all. Every
write goes through ``apartments.services`` (beds, closures, stay transitions, follow-up
answers); a refusal is a message on the page, never an error page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apartments import selectors, services
from apartments.admin.common import RelatedOnly, StaffRunsInline, portal_staff
from apartments.constants import StayStatus
from apartments.models import BedAlert, FollowUp, Station, StationClosure, Stay
from portal import services as portal_services
from portal.admin import (
    AuditInline,
    CityStaffRecordsMixin,
    Decision,
    DecisionAdminMixin,
    EmptyForm,
    PersonalDataAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyStaffInline,
    RefusalMixin,
    StaffAdmin,
    criteria_lines,
    error_text,
    html_lines,
    person_id_masked,
    person_profile,
    statistics_year,
)
from portal.services.documents import image_reencode, sniff_content_type

# --- stations ------------------------------------------------------------------------------------


class StationAdminForm(forms.ModelForm):
    class Meta:
        model = Station
        fields = [
            "district",
            "name",
            "kind",
            "address",
            "beds",
            "active",
            "contact_name",
            "contact_phone",
            "description",
            "house_rules",
            "photo",
        ]

    def clean_photo(self):
        """Photos are decoded and saved again like uploaded documents: EXIF (location,
        device) and anything appended to the image are dropped, bombs refused."""
        photo = self.cleaned_data.get("photo")
        if not isinstance(photo, UploadedFile):
            return photo  # unchanged, or False when cleared
        limit = settings.DOCUMENT_MAX_BYTES
        if photo.size is None or photo.size > limit:
            raise ValidationError(_("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)})
        photo.seek(0)
        data = photo.read(limit + 1)
        content_type = sniff_content_type(data[:16])
        if content_type not in ("image/jpeg", "image/png"):
            raise ValidationError(_("Only JPEG and PNG images are accepted."))
        data = image_reencode(data, content_type, max_size=(1600, 1200))
        extension = "jpg" if content_type == "image/jpeg" else "png"
        return SimpleUploadedFile(f"station.{extension}", data, content_type=content_type)


class ClosureFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            if form.instance.pk and "date" in form.changed_data and not self._should_delete_form(form):
                # A new night must be checked for guests by the service: add it as a new row.
                form.add_error("date", _("To close another night, add a new row and delete this one."))


class StationClosureInline(StaffRunsInline, admin.TabularInline):
    """Upcoming closed nights. New ones go through ``station_close_nights``, which refuses a
    night with guests booked; reopening a night (deleting the row) is always safe."""

    model = StationClosure
    formset = ClosureFormSet
    extra = 0
    fields = ["date", "reason"]
    verbose_name_plural = gettext_lazy("Closed nights (from today)")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(date__gte=timezone.localdate())


@admin.register(Station)
class StationAdmin(RefusalMixin, StaffAdmin):
    district_path = "district"
    district_staff_may_change = True
    own_districts_only = True
    form = StationAdminForm
    list_display = ["name", "district", "kind", "beds", "active", "contact_name", "contact_phone", "created_at"]
    list_filter = ["active", "kind", "district"]
    search_fields = ["name", "address", "contact_name"]
    date_hierarchy = "created_at"
    list_select_related = ["district"]
    readonly_fields = ["created_at"]
    fieldsets = (
        (None, {"fields": ("district", "name", "kind", "address", "beds", "active")}),
        (gettext_lazy("Contact"), {"fields": ("contact_name", "contact_phone")}),
        (gettext_lazy("For guests"), {"fields": ("description", "house_rules", "photo")}),
        (gettext_lazy("Dates"), {"fields": ("created_at",)}),
    )
    inlines = [StationClosureInline]
    change_list_template = "admin/apartments/station/change_list.html"
    csv_fields = ["name", "district__name", "kind", "address", "beds", "active", "contact_name", "contact_phone"]

    def has_add_permission(self, request):
        return portal_staff(request)

    def save_model(self, request, obj, form, change):
        if not (change and "beds" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        # Beds go through the service, which refuses fewer beds than guests on a night and
        # moves the capacity of future nights; the other fields are saved as usual.
        beds = obj.beds
        obj.beds = Station.objects.values_list("beds", flat=True).get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        try:
            services.station_set_beds(station=obj, actor=request.user, beds=beds)
        except (ValidationError, PermissionDenied) as exc:
            self._refused(request, _("The number of beds was not changed: %(error)s") % {"error": error_text(exc)})

    def save_formset(self, request, form, formset, change):
        if formset.model is not StationClosure:
            super().save_formset(request, form, formset, change)
            return
        station = form.instance
        closures = formset.save(commit=False)
        for closure in formset.deleted_objects:
            closure.delete()
        for closure in closures:
            if closure.pk:
                closure.save(update_fields=["reason"])  # the date cannot change (ClosureFormSet)
                continue
            try:
                services.station_close_nights(
                    station=station, actor=request.user, dates=[closure.date], reason=closure.reason
                )
            except (ValidationError, PermissionDenied) as exc:
                self._refused(
                    request,
                    _("The night of %(date)s was not closed: %(error)s")
                    % {"date": closure.date.isoformat(), "error": error_text(exc)},
                )


# --- stays ---------------------------------------------------------------------------------------


class CheckInForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # the label is a sentence: no colon after it
        super().__init__(*args, **kwargs)

    id_checked = forms.BooleanField(
        label=gettext_lazy("I have seen the guest's ID card: the name and number match this booking."),
        required=True,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The graduate sees this reason."),
    )


class NoShowForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)


def _mark_no_show(*, stay: Stay, actor, reason: str = ""):
    return services.stay_mark_no_show(stay=stay, actor=actor, reason=reason or _("Marked by staff"))


def _booked(stay: Stay) -> bool:
    return stay.status == StayStatus.BOOKED


# The question of each decision is in the template, with the guest's details.
DECISIONS = {
    "check_in": Decision(
        title=gettext_lazy("Check in"),
        form=CheckInForm,
        run=lambda stay, actor, data: services.stay_check_in(stay=stay, actor=actor),
        done=gettext_lazy("%(guest)s is checked in at %(station)s."),
        offered=_booked,
    ),
    "check_out": Decision(
        title=gettext_lazy("Check out"),
        form=EmptyForm,
        run=lambda stay, actor, data: services.stay_check_out(stay=stay, actor=actor),
        done=gettext_lazy("%(guest)s is checked out of %(station)s; the follow-up visits are scheduled."),
        offered=lambda stay: stay.status == StayStatus.CHECKED_IN,
    ),
    "no_show": Decision(
        title=gettext_lazy("Mark as no-show"),
        form=NoShowForm,
        run=lambda stay, actor, data: _mark_no_show(stay=stay, actor=actor, reason=data.get("reason", "")),
        done=gettext_lazy("%(guest)s is marked as a no-show; the remaining nights are free."),
        offered=lambda stay: _booked(stay) and stay.check_in <= timezone.localdate(),
        level=messages.WARNING,
    ),
    "cancel": Decision(
        title=gettext_lazy("Cancel the booking"),
        form=CancelForm,
        run=lambda stay, actor, data: services.stay_cancel(stay=stay, actor=actor, reason=data["reason"]),
        done=gettext_lazy("The booking of %(guest)s is cancelled; the nights are free."),
        offered=_booked,
        level=messages.WARNING,
    ),
}


class FollowUpInline(ReadOnlyStaffInline, admin.TabularInline):
    model = FollowUp
    extra = 0
    can_delete = False
    fields = ["stage", "due_on", "sent_at", "outcome", "employer", "answered_at", "call_task_open"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Stay)
class StayAdmin(ReadOnlyAdminMixin, DecisionAdminMixin, StaffAdmin):
    """Stays are booked by graduates; staff act on them only through the buttons (deleting a
    stay would leave its beds taken: it is cancelled instead)."""

    district_path = "station__district"
    decisions = DECISIONS
    decision_template = "admin/apartments/stay/decision.html"
    list_display = ["guest", "station", "check_in", "nights", "departure", "status"]
    list_filter = ["status", ("station__district", RelatedOnly), ("station", RelatedOnly), "check_in"]
    search_fields = ["applicant__profile__real_name", "applicant__email", "applicant__phone", "station__name"]
    date_hierarchy = "check_in"
    list_select_related = ["station__district", "applicant__profile"]
    fields = [
        "guest",
        "guest_id_number",
        "guest_phone",
        "station",
        "check_in",
        "nights",
        "departure",
        "status",
        "job_search_evidence",
        "eligibility_lines",
        "nights_released",
        "job_push",
        "status_reason",
        "checked_in_at",
        "checked_out_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [FollowUpInline, AuditInline]
    change_form_template = "admin/apartments/stay/change_form.html"
    change_list_template = "admin/apartments/stay/change_list.html"
    csv_fields = [
        "station__name",
        "station__district__name",
        "check_in",
        "nights",
        "nights_released",
        "status",
        "created_at",
    ]
    object_select_related = (
        "station__district",
        "applicant__profile",
        "interview__application__position__organisation",
        "invitation_document",
    )

    # --- columns and read-only fields

    @admin.display(description=gettext_lazy("guest"), ordering="applicant__profile__real_name")
    def guest(self, obj):
        profile = person_profile(obj.applicant)
        return str(profile) if profile else str(obj.applicant)

    @admin.display(description=gettext_lazy("ID number"))
    def guest_id_number(self, obj):
        return person_id_masked(obj.applicant)

    @admin.display(description=gettext_lazy("contact phone"))
    def guest_phone(self, obj):
        profile = person_profile(obj.applicant)
        return (profile.masked_phone if profile and profile.phone else "") or "-"

    @admin.display(description=gettext_lazy("check-out date"))
    def departure(self, obj):
        return obj.check_out

    @admin.display(description=gettext_lazy("reason for the stay"))
    def job_search_evidence(self, obj):
        return _evidence(obj)

    @admin.display(description=gettext_lazy("eligibility when booked"))
    def eligibility_lines(self, obj):
        return criteria_lines(obj.eligibility)

    # --- decisions

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("today/", view(self.today_view), name="apartments_stay_today"),
            path("statistics/", view(self.statistics_view), name="apartments_stay_statistics"),
            path("<int:pk>/unmask/", view(self.unmask_view), name="apartments_stay_unmask"),
        ] + super().get_urls()

    def decision_back_url(self, request, obj):
        if request.POST.get("next") == "today" or request.GET.get("next") == "today":
            return reverse("admin:apartments_stay_today")
        return super().decision_back_url(request, obj)

    def decision_values(self, obj):
        return {"guest": self.guest(obj), "station": obj.station.name}

    def decision_context(self, request, obj, name):
        profile = person_profile(obj.applicant)
        return {
            "stay": obj,
            "profile": profile,
            "guest": self.guest(obj),
            "evidence": _evidence(obj),
            "can_unmask": name == "check_in" and profile is not None and profile.has_id_number,
            "number": None,
            "next": request.POST.get("next") or request.GET.get("next") or "",
        }

    def unmask_view(self, request, pk):
        """The full ID number on the check-in page, for comparing with the card: written
        to the audit trail of the guest's profile by the portal service."""
        stay = self.staff_object(request, pk)
        check_in_url = reverse("admin:apartments_stay_check_in", args=[stay.pk])
        if request.method != "POST":
            return HttpResponseRedirect(check_in_url)
        profile = person_profile(stay.applicant)
        if profile is None or not profile.has_id_number:
            self.message_user(request, _("The guest has not entered an ID number in their profile."), messages.WARNING)
            return HttpResponseRedirect(check_in_url)
        try:
            number = portal_services.profile_unmask_id_number(
                profile=profile, actor=request.user, reason=_("Check-in of station stay %(pk)s") % {"pk": stay.pk}
            )
        except PermissionDenied as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(check_in_url)
        response = self.decision_page(request, stay, "check_in", CheckInForm(), extra={"number": number})
        if number:
            response["Cache-Control"] = "no-store"
        return response

    # --- today's board and the figures

    def today_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        board = selectors.staff_day_board(user=request.user, today=today)
        context = self.page_context(
            request,
            _("Today at the youth stations, %(date)s") % {"date": today.isoformat()},
            **board,
        )
        return TemplateResponse(request, "admin/apartments/stay/today.html", context)

    def statistics_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        year, years = statistics_year(request)
        rows = selectors.station_statistics(user=request.user, year=year)
        peak_stays = max([1] + [r["stays"] for r in rows])
        districts: dict[str, dict] = {}
        total = _totals("")
        for row in rows:
            row["stays_pct"] = round(100 * row["stays"] / peak_stays)
            for bucket in (districts.setdefault(row["district"], _totals(row["district"])), total):
                for key in ("stays", "nights", "beds_taken", "beds_offered", "answered", "working"):
                    bucket[key] += row[key]
        by_district = sorted(districts.values(), key=lambda d: -d["stays"])
        peak_district = max([1] + [d["stays"] for d in by_district])
        for bucket in [*by_district, total]:
            bucket["occupancy_pct"] = (
                min(100, round(100 * bucket["beds_taken"] / bucket["beds_offered"])) if bucket["beds_offered"] else 0
            )
            bucket["working_pct"] = round(100 * bucket["working"] / bucket["answered"]) if bucket["answered"] else None
            bucket["stays_pct"] = round(100 * bucket["stays"] / peak_district)
        context = self.page_context(
            request,
            _("Youth station figures %(year)d") % {"year": year},
            year=year,
            years=years,
            rows=rows,
            by_district=by_district,
            total=total,
        )
        return TemplateResponse(request, "admin/apartments/stay/statistics.html", context)


def _totals(name: str) -> dict:
    return {"district": name, "stays": 0, "nights": 0, "beds_taken": 0, "beds_offered": 0, "answered": 0, "working": 0}


def _evidence(stay: Stay):
    """What shows the graduate came to look for work: the interview invitation in the
    jobs programme, or the uploaded letter that staff check at check-in."""
    parts = []
    interview = stay.interview
    if interview is not None:
        position = interview.application.position
        parts.append(
            format_html(
                "{}: {} · {} · {}",
                _("Interview"),
                position.title,
                position.organisation.name,
                timezone.localtime(interview.starts_at).strftime("%Y-%m-%d %H:%M"),
            )
        )
    if stay.invitation_document_id:
        parts.append(
            format_html(
                '<a href="{}" target="_blank" rel="noopener">{}</a>',
                reverse("portal:document_download", args=[stay.invitation_document_id]),
                _("Uploaded invitation or offer letter (check it)"),
            )
        )
    return html_lines(parts)


# --- follow-up call tasks ------------------------------------------------------------------------


class FollowUpAdminForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = ["outcome", "employer", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].required = True


@admin.register(FollowUp)
class FollowUpAdmin(PersonalDataAdminMixin, RefusalMixin, StaffAdmin):
    """The follow-up visits; the unanswered ones past their time are the call tasks of the
    district staff, who record the outcome of the call here."""

    district_path = "stay__station__district"
    district_staff_may_change = True
    form = FollowUpAdminForm
    list_display = ["guest", "station", "stage", "due_on", "sent_at", "call_task_open", "outcome", "answered_at"]
    list_filter = ["call_task_open", "outcome", "stage", ("stay__station", RelatedOnly)]
    search_fields = ["stay__applicant__profile__real_name", "stay__station__name", "employer"]
    date_hierarchy = "due_on"
    list_select_related = ["stay__station", "stay__applicant__profile"]
    fields = [
        "guest",
        "guest_phone",
        "stay_link",
        "stage",
        "due_on",
        "sent_at",
        "call_task_open",
        "outcome",
        "employer",
        "note",
        "answered_at",
        "answered_by",
    ]
    readonly_fields = [f for f in fields if f not in FollowUpAdminForm.Meta.fields]  # staff answer the call
    change_list_template = "admin/apartments/followup/change_list.html"
    csv_fields = ["stay__station__name", "stage", "due_on", "sent_at", "outcome", "employer", "answered_at"]

    def has_add_permission(self, request):
        return False  # follow-ups are scheduled by the check-out

    def has_delete_permission(self, request, obj=None):
        return False

    object_select_related = ("stay__station", "stay__applicant__profile", "answered_by")

    @admin.display(description=gettext_lazy("guest"), ordering="stay__applicant__profile__real_name")
    def guest(self, obj):
        profile = person_profile(obj.stay.applicant)
        return str(profile) if profile else str(obj.stay.applicant)

    @admin.display(description=gettext_lazy("station"), ordering="stay__station__name")
    def station(self, obj):
        return obj.stay.station

    @admin.display(description=gettext_lazy("phone to call"))
    def guest_phone(self, obj):
        profile = person_profile(obj.stay.applicant)
        return (profile.phone if profile and profile.phone else obj.stay.applicant.phone) or "-"

    @admin.display(description=gettext_lazy("stay"))
    def stay_link(self, obj):
        stay = obj.stay
        return format_html(
            '<a href="{}">{} · {} · {}</a>',
            reverse("admin:apartments_stay_change", args=[stay.pk]),
            stay.station.name,
            stay.check_in.isoformat(),
            stay.get_status_display(),
        )

    def viewed(self, obj):
        # The call page shows the full phone number: opening it is recorded with the
        # graduate's profile, like opening the profile itself.
        target = person_profile(obj.stay.applicant) or obj.stay
        return target, _("Follow-up call"), {"follow_up": obj.pk, "field": "phone"}

    def save_model(self, request, obj, form, change):
        try:
            row = services.follow_up_answer(
                follow_up=obj,
                actor=request.user,
                outcome=form.cleaned_data["outcome"],
                employer=form.cleaned_data.get("employer", ""),
                note=form.cleaned_data.get("note", ""),
            )
        except (ValidationError, PermissionDenied) as exc:
            self._refused(request, error_text(exc))
            return
        for field in ("outcome", "employer", "note", "answered_at", "answered_by", "call_task_open"):
            setattr(obj, field, getattr(row, field))


# --- bed alerts ----------------------------------------------------------------------------------


@admin.register(BedAlert)
class BedAlertAdmin(CityStaffRecordsMixin, StaffAdmin):
    """Who waits for a bed, and when they were told: read-only, for city staff."""

    district_path = "station__district"
    list_display = ["user", "station", "start", "end", "created_at", "notified_at"]
    list_filter = [("notified_at", admin.EmptyFieldListFilter), "station__district"]
    search_fields = ["station__name", "user__email", "user__phone"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "station"]
    readonly_fields = ["user", "station", "start", "end", "created_at", "notified_at"]
    csv_fields = ["station__name", "start", "end", "created_at", "notified_at"]

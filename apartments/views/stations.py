import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apartments import selectors, services
from apartments.forms import BedAlertForm, BookingForm, FollowUpForm
from apartments.models import FollowUp, Stay
from portal.constants import DocumentKind
from portal.models import Document
from portal.web import messages_from

CALENDAR_DAYS = 30


def stations(request):
    return render(
        request,
        "apartments/stations.html",
        {"stations": selectors.stations_with_tonight(), "today": timezone.localdate()},
    )


def _letters(user):
    return list(Document.objects.filter(owner=user, kind=DocumentKind.INVITATION_LETTER).order_by("-created_at"))


def station(request, pk: int):
    station = get_object_or_404(selectors.stations_public(), pk=pk)
    today = timezone.localdate()
    calendar = selectors.availability(station=station, start=today, days=CALENDAR_DAYS)
    context = {
        "station": station,
        "calendar": calendar,
        "alert_form": BedAlertForm(initial={"start": today, "end": today + dt.timedelta(days=2)}),
    }
    if request.user.is_authenticated:
        letters = _letters(request.user)
        # Dates come back in the query string from "Check these dates" and from a refused booking.
        form = BookingForm(request.GET if "check_in" in request.GET else None, letters=letters)
        if not form.is_bound and letters:
            form.initial["invitation_document"] = str(letters[0].pk)
        context["form"] = form
        if form.is_bound and form.is_valid():
            check_in, nights = form.cleaned_data["check_in"], form.cleaned_data["nights"]
            letter = _letter(request.user, form.cleaned_data.get("invitation_document"))
        elif not form.is_bound:
            check_in, nights, letter = (
                form.fields["check_in"].initial,
                form.fields["nights"].initial,
                (letters[0] if letters else None),
            )
        else:
            check_in = None
        if check_in is not None:
            context.update(
                check_in=check_in,
                nights=nights,
                eligibility=services.stay_eligibility(
                    user=request.user, station=station, check_in=check_in, nights=nights, invitation_document=letter
                ),
            )
    return render(request, "apartments/station.html", context)


def _letter(user, pk):
    if not pk:
        return None
    return Document.objects.filter(owner=user, kind=DocumentKind.INVITATION_LETTER, pk=pk).first()


@login_required
@require_POST
def book(request, pk: int):
    """Book the chosen nights, or (the "Check these dates" button) show the criteria for them.
    Either way the page keeps the chosen values; nothing but the booking is a write."""
    station = get_object_or_404(selectors.stations_public(), pk=pk)
    form = BookingForm(request.POST, letters=_letters(request.user))
    if request.POST.get("action") == "check" or not form.is_valid():
        # The station page binds these values again and shows the field errors or the criteria.
        return redirect(_station_with(pk, request.POST))
    try:
        services.stay_book(
            applicant=request.user,
            station=station,
            check_in=form.cleaned_data["check_in"],
            nights=form.cleaned_data["nights"],
            invitation_document=_letter(request.user, form.cleaned_data.get("invitation_document")),
        )
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect(_station_with(pk, request.POST))
    messages.success(request, _("Your stay is booked. Bring your ID card when you check in."))
    return redirect("apartments:my_stays")


def _station_with(pk: int, data) -> str:
    query = urlencode({key: data.get(key, "") for key in ("check_in", "nights", "invitation_document")})
    return f"{reverse('apartments:station', args=[pk])}?{query}#book-title"


@login_required
@require_POST
def alert(request, pk: int):
    station = get_object_or_404(selectors.stations_public(), pk=pk)
    form = BedAlertForm(request.POST)
    if form.is_valid():
        try:
            services.bed_alert_subscribe(
                user=request.user, station=station, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
            )
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, _("We will tell you when a bed frees for these nights."))
    else:
        messages_from(request, form)
    return redirect("apartments:station", pk=pk)


@login_required
def my_stays(request):
    stays = list(selectors.stays_of(user=request.user))
    for stay in stays:
        stay.open_follow_ups = [f for f in stay.follow_ups.all() if not f.outcome and f.sent_at]
        for f in stay.open_follow_ups:
            # One form per follow-up: ids must stay unique on the page, names stay the same.
            f.form = FollowUpForm(auto_id=f"id_follow_up_{f.pk}_%s")
    return render(
        request,
        "apartments/my_stays.html",
        {"stays": stays, "nights_used": selectors.nights_used(user=request.user)},
    )


@login_required
@require_POST
def cancel(request, pk: int):
    stay = get_object_or_404(Stay, pk=pk, applicant=request.user)
    try:
        services.stay_cancel(stay=stay, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages_from(request, exc) if isinstance(exc, ValidationError) else messages.error(
            request, _("You may not take this decision.")
        )
    else:
        messages.success(request, _("Your booking has been cancelled and the beds are free for others."))
    return redirect("apartments:my_stays")


@login_required
@require_POST
def job_push(request, pk: int):
    stay = get_object_or_404(Stay, pk=pk, applicant=request.user)
    services.stay_set_job_push(stay=stay, actor=request.user, enabled=request.POST.get("enabled") == "1")
    messages.success(request, _("Your job suggestion setting has been saved."))
    return redirect("apartments:my_stays")


@login_required
@require_POST
def follow_up(request, pk: int):
    follow_up = get_object_or_404(FollowUp.objects.select_related("stay__station"), pk=pk, stay__applicant=request.user)
    form = FollowUpForm(request.POST)
    if follow_up.outcome or follow_up.sent_at is None:  # answered already (or by staff), or not asked yet
        messages.error(request, _("No follow-up of this stay is waiting for your answer."))
    elif form.is_valid():
        try:
            services.follow_up_answer(follow_up=follow_up, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, _("Thank you for your answer."))
    else:
        messages.error(request, _("Choose one of the answers."))
    return redirect("apartments:my_stays")


@require_GET
def station_photo(request, pk: int):
    """The station's photo (public; re-encoded with Pillow when staff uploaded it)."""
    station = get_object_or_404(selectors.stations_public(), pk=pk)
    if not station.photo or not station.photo.storage.exists(station.photo.name):
        raise Http404
    response = FileResponse(
        station.photo.open("rb"),
        content_type="image/jpeg" if station.photo.name.lower().endswith((".jpg", ".jpeg")) else "image/png",
    )
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response

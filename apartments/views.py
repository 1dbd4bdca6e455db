import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apartments import selectors, services
from apartments.forms import BedAlertForm, BookingForm, FollowUpForm
from apartments.models import FollowUp, Stay
from portal.constants import DocumentKind
from portal.models import Document

CALENDAR_DAYS = 30


def _errors(request, exc):
    for msg in exc.messages:
        messages.error(request, msg)


def stations(request):
    return render(request, "apartments/stations.html", {"stations": selectors.stations_with_tonight(), "today": timezone.localdate()})


def _letters(user):
    return list(Document.objects.filter(owner=user, kind=DocumentKind.INVITATION_LETTER).order_by("-created_at"))


def station(request, pk: int):
    station = get_object_or_404(selectors.stations_public(), pk=pk)
    today = timezone.localdate()
    calendar = selectors.availability(station=station, start=today, days=CALENDAR_DAYS)
    context = {"station": station, "calendar": calendar, "alert_form": BedAlertForm(initial={"start": today, "end": today + dt.timedelta(days=2)})}
    if request.user.is_authenticated:
        form = BookingForm(request.GET or None, letters=_letters(request.user))
        context["form"] = form
        if form.is_bound and form.is_valid():
            letter = _letter(request.user, form.cleaned_data.get("invitation_document"))
            context["eligibility"] = services.stay_eligibility(
                user=request.user, station=station, check_in=form.cleaned_data["check_in"],
                nights=form.cleaned_data["nights"], invitation_document=letter,
            )
        elif not form.is_bound:
            context["eligibility"] = services.stay_eligibility(
                user=request.user, station=station, check_in=today + dt.timedelta(days=1), nights=2,
            )
    return render(request, "apartments/station.html", context)


def _letter(user, pk):
    if not pk:
        return None
    return Document.objects.filter(owner=user, kind=DocumentKind.INVITATION_LETTER, pk=pk).first()


@login_required
@require_POST
def book(request, pk: int):
    station = get_object_or_404(selectors.stations_public(), pk=pk)
    form = BookingForm(request.POST, letters=_letters(request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for msg in errors:
                messages.error(request, msg)
        return redirect("apartments:station", pk=pk)
    try:
        services.stay_book(
            applicant=request.user, station=station, check_in=form.cleaned_data["check_in"],
            nights=form.cleaned_data["nights"], invitation_document=_letter(request.user, form.cleaned_data.get("invitation_document")),
        )
    except ValidationError as exc:
        _errors(request, exc)
        return redirect(f"{station_url(pk)}?check_in={form.cleaned_data['check_in']:%Y-%m-%d}&nights={form.cleaned_data['nights']}")
    messages.success(request, _("Your stay is booked. Bring your ID card when you check in."))
    return redirect("apartments:my_stays")


def station_url(pk):
    from django.urls import reverse

    return reverse("apartments:station", args=[pk])


@login_required
@require_POST
def alert(request, pk: int):
    station = get_object_or_404(selectors.stations_public(), pk=pk)
    form = BedAlertForm(request.POST)
    if form.is_valid():
        try:
            services.bed_alert_subscribe(user=request.user, station=station, start=form.cleaned_data["start"], end=form.cleaned_data["end"])
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("We will tell you when a bed frees for these nights."))
    else:
        for errors in form.errors.values():
            for msg in errors:
                messages.error(request, msg)
    return redirect("apartments:station", pk=pk)


@login_required
def my_stays(request):
    stays = list(selectors.stays_of(user=request.user))
    for stay in stays:
        stay.open_follow_ups = [f for f in stay.follow_ups.all() if not f.outcome and f.sent_at]
    return render(
        request,
        "apartments/my_stays.html",
        {"stays": stays, "follow_up_form": FollowUpForm(), "nights_used": selectors.nights_used(user=request.user)},
    )


@login_required
@require_POST
def cancel(request, pk: int):
    stay = get_object_or_404(Stay, pk=pk, applicant=request.user)
    try:
        services.stay_cancel(stay=stay, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc) if isinstance(exc, ValidationError) else messages.error(request, _("You may not take this decision."))
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
    if form.is_valid():
        try:
            services.follow_up_answer(follow_up=follow_up, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Thank you for your answer."))
    else:
        messages.error(request, _("Choose one of the answers."))
    return redirect("apartments:my_stays")



import datetime as dt
import io

import qrcode
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from events import selectors, services
from events.constants import RegistrationStatus
from events.forms import CheckInForm, EventFilterForm, RegistrationForm, SubscriptionForm, month_from
from events.ics import calendar
from events.models import Registration, Subscription


def _errors(request, exc: ValidationError) -> None:
    for msg in exc.messages:
        messages.error(request, msg)


def _filters(form: EventFilterForm) -> selectors.EventFilters:
    data = form.cleaned_data if form.is_valid() else {}
    return selectors.EventFilters(
        kind=data.get("kind") or "", district=data.get("district") or "",
        on_or_after=data.get("date"), free_only=bool(data.get("free")),
    )


def event_list(request):
    form = EventFilterForm(request.GET or None)
    page = Paginator(selectors.events_public(filters=_filters(form)), 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "events/list.html", {"form": form, "page": page, "query": query.urlencode()})


def event_calendar(request):
    year, month = month_from(request)
    form = EventFilterForm(request.GET or None)
    first = dt.date(year, month, 1)
    previous = first - dt.timedelta(days=1)
    following = first + dt.timedelta(days=32)
    return render(
        request,
        "events/calendar.html",
        {
            "form": form, "weeks": selectors.month_calendar(year=year, month=month, filters=_filters(form)),
            "month": first, "previous": previous, "following": following.replace(day=1), "today": timezone.localdate(),
        },
    )


def event_detail(request, pk: int):
    event = selectors.event_public(pk=pk)
    if event is None:
        raise Http404
    context = {"event": event, "free": max(0, event.capacity - event.taken)}
    if request.user.is_authenticated:
        context["eligibility"] = services.registration_eligibility(user=request.user, event=event)
        context["mine"] = Registration.objects.filter(event=event, user=request.user).order_by("-sequence").first()
        context["form"] = RegistrationForm(event=event)
        context["can_organise"] = services.is_organiser(request.user, event)
    return render(request, "events/detail.html", context)


@login_required
@require_POST
def register(request, pk: int):
    event = selectors.event_public(pk=pk)
    if event is None:
        raise Http404
    form = RegistrationForm(request.POST, event=event)
    if not form.is_valid():
        for errors in form.errors.values():
            for msg in errors:
                messages.error(request, msg)
        return redirect("events:event", pk=pk)
    try:
        registration = services.registration_create(event=event, user=request.user, answers=form.answers())
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("events:event", pk=pk)
    text = {
        RegistrationStatus.CONFIRMED: _("You are registered. Your ticket is under “My events”."),
        RegistrationStatus.WAITLISTED: _("The event is full: you are on the waiting list."),
        RegistrationStatus.PENDING: _("Your registration is waiting for the organiser's approval."),
    }[registration.status]
    messages.success(request, text)
    return redirect("events:mine")


@login_required
def my_events(request):
    feed = selectors.calendar_feed_for(user=request.user)
    return render(
        request,
        "events/mine.html",
        {
            "registrations": selectors.registrations_of(user=request.user),
            "feed_url": request.build_absolute_uri(f"/events/calendar/{feed.token}.ics"),
            "subscriptions": Subscription.objects.filter(user=request.user).select_related("district"),
            "subscription_form": SubscriptionForm(),
        },
    )


@login_required
@require_POST
def registration_action(request, pk: int, action: str):
    registration = get_object_or_404(Registration.objects.select_related("event"), pk=pk, user=request.user)
    try:
        if action == "cancel":
            services.registration_cancel(registration=registration, actor=request.user)
            messages.success(request, _("Your registration has been cancelled."))
        elif action == "accept":
            services.registration_accept_offer(registration=registration, actor=request.user)
            messages.success(request, _("Your place is confirmed. Your ticket is below."))
        else:
            raise Http404
    except ValidationError as exc:
        _errors(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    return redirect("events:mine")


@login_required
def ticket_qr(request, pk: int):
    registration = get_object_or_404(Registration, pk=pk, user=request.user, status=RegistrationStatus.CONFIRMED)
    image = qrcode.make(registration.check_in_code, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


def calendar_feed(request, token: str):
    found = selectors.feed_events(token=token)
    if found is None:
        raise Http404
    user, events = found
    response = HttpResponse(calendar(events, name=_("My events")), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
def check_in(request, pk: int):
    """The organiser's phone page: scan or type a ticket code."""
    event = get_object_or_404(selectors.events_for_organiser(user=request.user), pk=pk)
    form = CheckInForm(request.POST or None)
    checked = None
    if request.method == "POST" and form.is_valid():
        try:
            checked = services.registration_check_in(event=event, code=form.cleaned_data["code"], actor=request.user)
        except ValidationError as exc:
            _errors(request, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            name = getattr(getattr(checked.user, "profile", None), "real_name", "") or str(checked.user)
            messages.success(request, _("Checked in: %(name)s") % {"name": name})
            return redirect("events:check_in", pk=pk)
    counts = dict.fromkeys(RegistrationStatus.values, 0)
    for status in event.registrations.values_list("status", flat=True):
        counts[status] += 1
    return render(request, "events/check_in.html", {"event": event, "form": form, "counts": counts})


@login_required
@require_POST
def subscribe(request):
    if request.POST.get("delete"):
        subscription = get_object_or_404(Subscription, pk=request.POST["delete"], user=request.user)
        services.subscription_delete(subscription=subscription, actor=request.user)
        messages.success(request, _("You no longer follow this."))
        return redirect("events:mine")
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        services.subscription_set(user=request.user, district=form.cleaned_data["district"], kind=form.cleaned_data["kind"])
        messages.success(request, _("We will tell you about new events like this."))
    else:
        for errors in form.errors.values():
            for msg in errors:
                messages.error(request, msg)
    return redirect("events:mine")

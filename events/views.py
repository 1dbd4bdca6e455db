import datetime as dt
import io

import qrcode
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from events import selectors, services
from events.constants import EventStatus, RegistrationStatus
from events.forms import (
    CheckInForm,
    EventFilterForm,
    EventForm,
    ReasonForm,
    RegistrationForm,
    SubscriptionForm,
    month_from,
    question_formset,
    questions_of,
)
from events.ics import calendar
from events.models import Event, Registration, Subscription
from portal import selectors as portal_selectors
from portal.constants import OrganisationStatus
from portal.web import form_add_errors, messages_from


def _filters(form: EventFilterForm) -> selectors.EventFilters:
    data = form.cleaned_data if form.is_valid() else {}
    return selectors.EventFilters(
        kind=data.get("kind") or "",
        district=data.get("district") or "",
        on_or_after=data.get("date"),
        free_only=bool(data.get("free")),
    )


def event_list(request):
    form = EventFilterForm(request.GET or None)
    page = Paginator(selectors.events_public(filters=_filters(form)), 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    user = request.user
    organises = user.is_authenticated and (
        user.is_portal_staff or portal_selectors.organisations_of_member(user=user).exists()
    )
    return render(
        request, "events/list.html", {"form": form, "page": page, "query": query.urlencode(), "organises": organises}
    )


def event_calendar(request):
    year, month = month_from(request)
    form = EventFilterForm(request.GET or None)
    del form.fields["date"]  # the month is the date filter here
    first = dt.date(year, month, 1)
    previous = first - dt.timedelta(days=1)
    following = first + dt.timedelta(days=32)
    keep = request.GET.copy()  # the filters, carried to the previous and next month
    for name in ("year", "month", "date", "page"):
        keep.pop(name, None)
    return render(
        request,
        "events/calendar.html",
        {
            "form": form,
            "weeks": selectors.month_calendar(year=year, month=month, filters=_filters(form)),
            "month": first,
            "previous": previous,
            "following": following.replace(day=1),
            "today": timezone.localdate(),
            "keep": keep.urlencode(),
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
        for msg in form.error_messages():
            messages.error(request, msg)
        return redirect("events:event", pk=pk)
    try:
        registration = services.registration_create(event=event, user=request.user, answers=form.answers())
    except ValidationError as exc:
        messages_from(request, exc)
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
            "feed_url": request.build_absolute_uri(reverse("events:feed", args=[feed.token])),
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
        messages_from(request, exc)
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
            messages_from(request, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            name = getattr(getattr(checked.user, "profile", None), "real_name", "") or f"#{checked.sequence}"
            messages.success(request, _("Checked in: %(name)s") % {"name": name})
            return redirect("events:check_in", pk=pk)
    counts = dict.fromkeys(RegistrationStatus.values, 0)
    for status in event.registrations.values_list("status", flat=True):
        counts[status] += 1
    opens, closes = services.check_in_window(event)
    now = timezone.now()
    context = {"event": event, "form": form, "counts": counts, "opens": opens, "closes": closes}
    context["window"] = "early" if now < opens else "ended" if now > closes else "open"
    return render(request, "events/check_in.html", context)


@login_required
@require_POST
def subscribe(request):
    if "delete" in request.POST:
        pk = request.POST["delete"]
        if not pk.isdigit():
            raise Http404
        subscription = get_object_or_404(Subscription, pk=int(pk), user=request.user)
        services.subscription_delete(subscription=subscription, actor=request.user)
        messages.success(request, _("You no longer follow this."))
        return redirect("events:mine")
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        services.subscription_set(
            user=request.user, district=form.cleaned_data["district"], kind=form.cleaned_data["kind"]
        )
        messages.success(request, _("We will tell you about new events like this."))
    else:
        messages_from(request, form)
    return redirect("events:mine")


# --- organisers: verified employers (and staff of the district) -------------------------------


def _verified_organisations(user):
    return portal_selectors.organisations_of_member(user=user).filter(status=OrganisationStatus.VERIFIED)


def _organiser_event(request, pk: int) -> Event:
    """An event the user may run; anyone else's answers 404."""
    return get_object_or_404(selectors.events_for_organiser(user=request.user), pk=pk)


def _status_counts(event_ids) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(RegistrationStatus.values, 0) for pk in event_ids}
    rows = (
        Registration.objects.filter(event_id__in=list(event_ids))
        .values_list("event_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for event_id, status, n in rows:
        counts[event_id][status] = n
    return counts


@login_required
def organise(request):
    """The organiser's events with their status and how many registered."""
    organisations = list(_verified_organisations(request.user))
    page = Paginator(selectors.events_for_organiser(user=request.user).order_by("-starts_at", "-id"), 30).get_page(
        request.GET.get("page")
    )
    counts = _status_counts([e.pk for e in page])
    rows = [{"event": e, "counts": counts[e.pk]} for e in page]
    return render(
        request,
        "events/organise.html",
        {"page": page, "rows": rows, "organisations": organisations, "is_staff": request.user.is_portal_staff},
    )


@login_required
def organise_new(request):
    """A verified employer drafts a recruitment fair or a salon; staff review it."""
    organisations = _verified_organisations(request.user)
    if not organisations.exists():
        if request.user.is_portal_staff:
            messages.info(request, _("Staff create the district's events in the staff admin."))
        else:
            messages.error(
                request, _("Only verified organisations can organise events. Wait for your district to verify yours.")
            )
        return redirect("events:organise")
    form = EventForm(request.POST or None, organisations=organisations, employer=True)
    questions = question_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() & questions.is_valid():
        data = form.service_data() | {"questions": questions_of(questions)}
        try:
            event = services.event_create(actor=request.user, data=data, organiser=form.cleaned_data["organiser"])
        except ValidationError as exc:
            form_add_errors(form, exc)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("You may not take this decision."))
        else:
            messages.success(request, _("The event has been saved as a draft. Submit it for review when it is ready."))
            return redirect("events:organise_event", pk=event.pk)
    return render(request, "events/organise_form.html", {"form": form, "questions": questions, "event": None})


def _editable(event: Event) -> bool:
    return event.status in (EventStatus.DRAFT, EventStatus.REJECTED)


@login_required
def organise_event(request, pk: int):
    """One event for its organiser: the facts, the edit form while it is a draft (or was
    rejected), and the next steps: submit, announce, cancel, registrations, check-in."""
    event = _organiser_event(request, pk)
    editable = _editable(event)
    form = questions = None
    if editable:
        employer = event.organiser_id is not None
        form = EventForm(request.POST or None, instance=event, employer=employer)
        questions = question_formset(request.POST or None, event=event)
    if request.method == "POST":
        if not editable:
            messages.error(request, _("Only drafts and rejected events can be changed."))
            return redirect("events:organise_event", pk=pk)
        if form.is_valid() & questions.is_valid():
            try:
                services.event_update(
                    event=event, actor=request.user, data=form.service_data() | {"questions": questions_of(questions)}
                )
            except ValidationError as exc:
                form_add_errors(form, exc)
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, _("Your changes have been saved."))
                return redirect("events:organise_event", pk=pk)
    return render(
        request,
        "events/organise_event.html",
        {
            "event": event,
            "form": form,
            "questions": questions,
            "editable": editable,
            "counts": _status_counts([event.pk])[event.pk],
            "cancel_form": ReasonForm(prefix="cancel"),
            "can_submit": editable and event.organiser_id is not None,
        },
    )


@login_required
@require_POST
def organise_action(request, pk: int, action: str):
    event = _organiser_event(request, pk)
    try:
        if action == "submit":
            services.event_submit(event=event, actor=request.user)
            messages.success(request, _("The event has been sent to the district for review."))
        elif action == "cancel":
            form = ReasonForm(request.POST, prefix="cancel")
            if not form.is_valid():
                messages.error(request, _("Please give a reason for this decision."))
            else:
                services.event_cancel(event=event, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("The event has been cancelled; everyone registered has been told."))
        elif action == "announce":
            n = services.event_announce(event=event, actor=request.user)
            messages.success(request, _("The event is being announced to %(n)d subscribers.") % {"n": n})
        else:
            raise Http404
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    return redirect("events:organise_event", pk=pk)


@login_required
def organise_registrations(request, pk: int):
    event = _organiser_event(request, pk)
    registrations = list(selectors.registrations_for_event(event=event))
    labels = [q.get("label", "") for q in event.questions or []]
    for r in registrations:
        r.answer_rows = [(label, r.answers.get(str(i))) for i, label in enumerate(labels) if r.answers.get(str(i))]
    return render(
        request,
        "events/organise_registrations.html",
        {"event": event, "registrations": registrations, "counts": _status_counts([event.pk])[event.pk]},
    )


@login_required
@require_POST
def organise_decide(request, pk: int, action: str):
    """Approve or reject a registration that waits for the organiser."""
    registration = get_object_or_404(Registration.objects.select_related("event", "user"), pk=pk)
    _organiser_event(request, registration.event_id)
    try:
        if action == "approve":
            services.registration_approve(registration=registration, actor=request.user)
            registration.refresh_from_db()
            if registration.status == RegistrationStatus.CONFIRMED:
                messages.success(request, _("Approved: the place is confirmed."))
            else:
                messages.success(request, _("Approved: the event is full, so the person is on the waiting list."))
        elif action == "reject":
            form = ReasonForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.registration_reject(registration=registration, actor=request.user, reason=reason)
            messages.success(request, _("The registration has been declined."))
        else:
            raise Http404
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    return redirect("events:organise_registrations", pk=registration.event_id)


def event_cover(request, pk: int, size: str):
    """The event's cover picture (public), full size or the list's thumbnail."""
    event = selectors.event_public(pk=pk)
    picture = None if event is None else (event.cover_thumbnail if size == "thumb" else event.cover)
    if not picture or not picture.storage.exists(picture.name):
        raise Http404
    content_type = "image/png" if picture.name.endswith(".png") else "image/jpeg"
    response = FileResponse(picture.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response

"""Reads of the events programme shared by pages, the API and the admin."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from events.constants import SEAT_STATES, EventKind, EventStatus, RegistrationStatus
from events.models import CalendarFeed, Event, Registration
from portal.models import District, User
from portal.selectors import scope_to_districts


@dataclass
class EventFilters:
    kind: str = ""
    district: str = ""
    on_or_after: dt.date | None = None
    on_or_before: dt.date | None = None
    free_only: bool = False


def _with_taken(qs: QuerySet[Event]) -> QuerySet[Event]:
    return qs.annotate(taken=Count("registrations", filter=Q(registrations__status__in=SEAT_STATES)))


def events_public(*, filters: EventFilters | None = None, now: dt.datetime | None = None) -> QuerySet[Event]:
    """Published events that have not ended, with the places taken counted live."""
    filters = filters or EventFilters()
    now = now or timezone.now()
    qs = _with_taken(
        Event.objects.filter(status=EventStatus.PUBLISHED, ends_at__gt=now).select_related("district", "venue")
    )
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.district:
        qs = qs.filter(district__code=filters.district)
    if filters.on_or_after:
        qs = qs.filter(starts_at__date__gte=filters.on_or_after)
    if filters.on_or_before:
        qs = qs.filter(starts_at__date__lte=filters.on_or_before)
    qs = qs.order_by("starts_at", "id")
    if filters.free_only:
        from django.db.models import F

        qs = qs.filter(taken__lt=F("capacity"))
    return qs


def event_public(*, pk: int) -> Event | None:
    return (
        _with_taken(Event.objects.filter(pk=pk, status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED]))
        .select_related("district", "venue", "organiser")
        .first()
    )


def month_calendar(*, year: int, month: int, filters: EventFilters | None = None) -> list[list[dict]]:
    """Weeks of days (Monday first) with the month's published events on each day."""
    first = dt.date(year, month, 1)
    last = dt.date(year, month, pycalendar.monthrange(year, month)[1])
    f = filters or EventFilters()
    f = EventFilters(kind=f.kind, district=f.district, on_or_after=first, on_or_before=last, free_only=f.free_only)
    by_day: dict[dt.date, list[Event]] = defaultdict(list)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min)) - dt.timedelta(days=1)
    for event in events_public(filters=f, now=start):
        by_day[timezone.localtime(event.starts_at).date()].append(event)
    weeks = []
    for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([{"date": day, "in_month": day.month == month, "events": by_day.get(day, [])} for day in week])
    return weeks


def waitlist_position(registration: Registration) -> int | None:
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    return (
        Registration.objects.filter(
            event_id=registration.event_id, status=RegistrationStatus.WAITLISTED, sequence__lt=registration.sequence
        ).count()
        + 1
    )


def registrations_of(*, user: User) -> list[Registration]:
    """The user's registrations, each with its waiting-list position, in two queries."""
    registrations = list(
        Registration.objects.filter(user=user)
        .select_related("event__district", "event__venue")
        .order_by("-event__starts_at")
    )
    waiting = [r for r in registrations if r.status == RegistrationStatus.WAITLISTED]
    if waiting:
        ahead = defaultdict(list)
        for event_id, sequence in Registration.objects.filter(
            event_id__in={r.event_id for r in waiting}, status=RegistrationStatus.WAITLISTED
        ).values_list("event_id", "sequence"):
            ahead[event_id].append(sequence)
        for r in waiting:
            r.position = sum(1 for s in ahead[r.event_id] if s < r.sequence) + 1
    return registrations


def registrations_for_event(*, event: Event) -> QuerySet[Registration]:
    return Registration.objects.filter(event=event).select_related("user__profile").order_by("sequence")


def events_for_staff(*, user: User) -> QuerySet[Event]:
    return _with_taken(scope_to_districts(Event.objects.select_related("district", "venue", "organiser"), user))


def events_for_organiser(*, user: User) -> QuerySet[Event]:
    """Events a user may run: their districts' (staff) or their organisations'."""
    if user.is_portal_staff:
        return events_for_staff(user=user)
    return _with_taken(
        Event.objects.filter(organiser__memberships__user=user).select_related("district", "venue", "organiser")
    )


def calendar_feed_for(*, user: User) -> CalendarFeed:
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


def feed_events(*, token: str) -> tuple[User, list[Event]] | None:
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        return None
    events = list(
        Event.objects.filter(
            registrations__user=feed.user,
            registrations__status__in=[
                RegistrationStatus.CONFIRMED,
                RegistrationStatus.OFFERED,
                RegistrationStatus.ATTENDED,
            ],
        )
        .select_related("venue")
        .distinct()
        .order_by("starts_at")
    )
    return feed.user, events


def event_statistics(*, user: User, year: int) -> dict:
    """The year's figures for a staff member's districts: events held, registrations,
    attendance and no-shows by kind and by district, and the volunteer hours credited
    (the event's hours for each attended registration). Cancelled registrations are not
    counted as registered; the attendance rate is attended over attended plus no-shows,
    the registrations whose outcome is known. Four queries whatever the number of rows."""
    regs = scope_to_districts(
        Registration.objects.filter(event__starts_at__year=year).exclude(status=RegistrationStatus.CANCELLED),
        user,
        "event__district",
    )
    events = scope_to_districts(Event.objects.filter(starts_at__year=year, status=EventStatus.PUBLISHED), user)
    attended = Q(status=RegistrationStatus.ATTENDED)
    figures = {
        "registered": Count("id"),
        "attended": Count("id", filter=attended),
        "no_show": Count("id", filter=Q(status=RegistrationStatus.NO_SHOW)),
        "hours": Sum("event__volunteer_hours", filter=attended),
    }
    kind_labels = dict(EventKind.choices)
    events_by_kind = dict(events.values_list("kind").annotate(n=Count("id")).order_by())
    by_kind = {kind: _figures_row(key=kind, name=str(kind_labels.get(kind, kind))) for kind in events_by_kind}
    for row in regs.values("event__kind").annotate(**figures).order_by():
        kind = row["event__kind"]
        by_kind.setdefault(kind, _figures_row(key=kind, name=str(kind_labels.get(kind, kind))))
        by_kind[kind].update({k: row[k] for k in figures})
    for kind, n in events_by_kind.items():
        by_kind[kind]["events"] = n
    districts = {d.pk: d for d in District.objects.all()}
    events_by_district = dict(events.values_list("district").annotate(n=Count("id")).order_by())
    by_district = {pk: _figures_row(key=pk, name=str(districts[pk])) for pk in events_by_district}
    for row in regs.values("event__district").annotate(**figures).order_by():
        pk = row["event__district"]
        by_district.setdefault(pk, _figures_row(key=pk, name=str(districts[pk])))
        by_district[pk].update({k: row[k] for k in figures})
    for pk, n in events_by_district.items():
        by_district[pk]["events"] = n
    order = list(EventKind.values)
    kind_rows = sorted(by_kind.values(), key=lambda r: order.index(r["key"]) if r["key"] in order else len(order))
    district_rows = sorted(by_district.values(), key=lambda r: (districts[r["key"]].sort_order, r["key"]))
    total = _figures_row(key="", name="")
    for row in kind_rows:
        row["hours"] = row["hours"] or Decimal(0)
        for k in ("events", "registered", "attended", "no_show", "hours"):
            total[k] += row[k]
    for row in [*kind_rows, *district_rows, total]:
        row["hours"] = row["hours"] or Decimal(0)
        known = row["attended"] + row["no_show"]
        row["attendance_pct"] = round(100 * row["attended"] / known) if known else None
    return {"year": year, "by_kind": kind_rows, "by_district": district_rows, "total": total, "hours": total["hours"]}


def _figures_row(*, key, name: str) -> dict:
    return {"key": key, "name": name, "events": 0, "registered": 0, "attended": 0, "no_show": 0, "hours": Decimal(0)}

"""Reads of the youth-station programme shared by pages, the API and the admin."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apartments import constants as c
from apartments.constants import COUNTED_STAY_STATES, FollowUpOutcome, StayStatus
from apartments.models import FollowUp, Station, StationClosure, StationNight, Stay
from apartments.rules import StationFacts, StationParams
from portal.models import Document, User
from portal.selectors import parameter_value, scope_to_districts


def station_params(*, on: dt.date, district_id: int | None = None) -> StationParams:
    def value(key):
        return int(parameter_value(key=key, on=on, district_id=district_id))

    return StationParams(
        max_nights=value(c.MAX_NIGHTS),
        graduation_years=value(c.GRADUATION_YEARS),
        booking_min_hours=value(c.BOOKING_MIN_HOURS),
    )


def nights_used(*, user: User, exclude_stay_id: int | None = None) -> int:
    """Free nights the graduate has used or holds: booked, current and past stays, and
    no-shows whose nights were forfeited (nights_released says what came back)."""
    qs = Stay.objects.filter(applicant=user, status__in=[*COUNTED_STAY_STATES, StayStatus.NO_SHOW])
    if exclude_stay_id:
        qs = qs.exclude(pk=exclude_stay_id)
    return qs.aggregate(n=Sum(F("nights") - F("nights_released")))["n"] or 0


def blocked_until(*, user: User, today: dt.date) -> dt.date | None:
    days = int(parameter_value(key=c.NO_SHOW_BLOCK_DAYS, on=today, default=0))
    if not days:
        return None
    last = Stay.objects.filter(applicant=user, status=StayStatus.NO_SHOW).order_by("-check_in").first()
    if last is None:
        return None
    until = last.check_in + dt.timedelta(days=days)
    return until if until >= today else None


def interviews_for_stay(*, user: User, check_in: dt.date, nights: int) -> QuerySet:
    """Interview invitations (jobs programme) falling within the stay, a day either side."""
    from jobs.models import Interview

    start = check_in - dt.timedelta(days=1)
    end = check_in + dt.timedelta(days=nights + 1)
    return Interview.objects.filter(
        application__applicant=user, starts_at__date__gte=start, starts_at__date__lte=end
    ).select_related("application__position__organisation")


def station_facts(
    *, user: User, check_in: dt.date, nights: int, today: dt.date, invitation_document: Document | None
) -> StationFacts:
    profile = getattr(user, "profile", None)
    return StationFacts(
        outside_luoyang=profile.is_from_outside_luoyang if profile else None,
        graduation_date=profile.graduation_date if profile else None,
        has_interview=interviews_for_stay(user=user, check_in=check_in, nights=nights).exists(),
        has_invitation_letter=invitation_document is not None,
        nights_used=nights_used(user=user),
        has_active_stay=Stay.objects.filter(applicant=user, status__in=c.ACTIVE_STAY_STATES).exists(),
        blocked_until=blocked_until(user=user, today=today),
    )


def stations_public() -> QuerySet[Station]:
    return Station.objects.filter(active=True).select_related("district")


@dataclass
class NightAvailability:
    date: dt.date
    beds: int
    booked: int
    closed: bool

    @property
    def free(self) -> int:
        return 0 if self.closed else max(0, self.beds - self.booked)


def availability(*, station: Station, start: dt.date, days: int) -> list[NightAvailability]:
    """Free beds per night, read live from the night rows (no cache: people act on it)."""
    end = start + dt.timedelta(days=days)
    booked = dict(
        StationNight.objects.filter(station=station, date__gte=start, date__lt=end).values_list("date", "booked")
    )
    closed = set(
        StationClosure.objects.filter(station=station, date__gte=start, date__lt=end).values_list("date", flat=True)
    )
    return [
        NightAvailability(date=d, beds=station.beds, booked=booked.get(d, 0), closed=d in closed)
        for d in (start + dt.timedelta(days=i) for i in range(days))
    ]


def stations_with_tonight(*, today: dt.date | None = None) -> list[Station]:
    """Every active station with tonight's free beds, in two queries."""
    today = today or timezone.localdate()
    stations = list(stations_public())
    booked = dict(StationNight.objects.filter(date=today).values_list("station_id", "booked"))
    closed = set(StationClosure.objects.filter(date=today).values_list("station_id", flat=True))
    for station in stations:
        station.free_tonight = 0 if station.pk in closed else max(0, station.beds - booked.get(station.pk, 0))
    return stations


def stays_of(*, user: User) -> QuerySet[Stay]:
    return Stay.objects.filter(applicant=user).select_related("station__district").prefetch_related("follow_ups")


def stays_for_staff(*, user: User) -> QuerySet[Stay]:
    return scope_to_districts(
        Stay.objects.select_related("station__district", "applicant__profile"), user, "station__district"
    )


def staff_day_board(*, user: User, today: dt.date) -> dict:
    """Arrivals, departures and occupancy tonight for the stations a staff member serves.
    Five queries however many guests: the stays once for arrivals and once for the guests
    in house (departures are the in-house guests whose last night is behind them), the
    stations, their night rows and their closures."""
    stays = stays_for_staff(user=user).order_by("station__name", "check_in", "id")
    arrivals = list(stays.filter(status=StayStatus.BOOKED, check_in=today))
    in_house = list(stays.filter(status=StayStatus.CHECKED_IN))
    departures = [s for s in in_house if s.check_out <= today]
    stations = list(scope_to_districts(Station.objects.filter(active=True).select_related("district"), user))
    booked = dict(StationNight.objects.filter(station__in=stations, date=today).values_list("station_id", "booked"))
    closed = set(StationClosure.objects.filter(station__in=stations, date=today).values_list("station_id", flat=True))
    for station in stations:
        station.booked_tonight = booked.get(station.pk, 0)
        station.closed_tonight = station.pk in closed
        station.free_tonight = 0 if station.closed_tonight else max(0, station.beds - station.booked_tonight)
        station.occupancy_pct = min(100, round(100 * station.booked_tonight / station.beds)) if station.beds else 0
        station.arrivals_today = sum(1 for s in arrivals if s.station_id == station.pk)
        station.departures_today = sum(1 for s in departures if s.station_id == station.pk)
        station.in_house = sum(1 for s in in_house if s.station_id == station.pk)
    return {
        "today": today,
        "arrivals": arrivals,
        "departures": departures,
        "in_house": in_house,
        "stations": stations,
    }


def follow_up_call_tasks(*, user: User) -> QuerySet[FollowUp]:
    return scope_to_districts(
        FollowUp.objects.filter(call_task_open=True).select_related("stay__applicant__profile", "stay__station"),
        user,
        "stay__station__district",
    )


def station_statistics(*, user: User, year: int) -> list[dict]:
    """Stays, nights used, occupancy and the share of followed-up residents who found work
    in Luoyang, by district and month (of check-in for stays and answers, of the night for
    occupancy). Each row carries the counts behind its percentages, so pages can add rows
    up into yearly or district totals without averaging percentages."""
    stays = scope_to_districts(Stay.objects.filter(check_in__year=year), user, "station__district").filter(
        status__in=[StayStatus.CHECKED_IN, StayStatus.CHECKED_OUT]
    )
    rows = (
        stays.annotate(month=TruncMonth("check_in"))
        .values_list("station__district__name", "month")
        .annotate(stays=Count("id"), nights=Sum(F("nights") - F("nights_released")))
        .order_by()
    )
    stays_by = {(d, m): (n, nights or 0) for d, m, n, nights in rows}
    # Occupancy: beds taken over beds offered (today's beds of the active stations, every
    # night of the month). Nights spill into the next month, so a month can have occupancy
    # without a check-in.
    booked = (
        scope_to_districts(StationNight.objects.filter(date__year=year), user, "station__district")
        .annotate(month=TruncMonth("date"))
        .values_list("station__district__name", "month")
        .annotate(n=Sum("booked"))
        .order_by()
    )
    booked_by = {(d, m): n or 0 for d, m, n in booked}
    beds_by_district = dict(
        scope_to_districts(Station.objects.filter(active=True), user)
        .values_list("district__name")
        .annotate(n=Sum("beds"))
        .order_by()
    )
    outcomes = (
        scope_to_districts(
            FollowUp.objects.filter(stay__check_in__year=year).exclude(outcome=""), user, "stay__station__district"
        )
        .annotate(month=TruncMonth("stay__check_in"))
        .values_list("stay__station__district__name", "month")
        .annotate(
            answered=Count("stay", distinct=True),
            working=Count("stay", filter=Q(outcome=FollowUpOutcome.WORKING_IN_LUOYANG), distinct=True),
        )
        .order_by()
    )
    out = {(d, m): (answered, working) for d, m, answered, working in outcomes}
    result = []
    for key in sorted(set(stays_by) | set(booked_by), key=lambda k: (k[1], k[0])):
        district, month = key
        n_stays, nights = stays_by.get(key, (0, 0))
        answered, working = out.get(key, (0, 0))
        offered = beds_by_district.get(district, 0) * calendar.monthrange(month.year, month.month)[1]
        taken = booked_by.get(key, 0)
        result.append(
            {
                "district": district,
                "month": month,
                "stays": n_stays,
                "nights": nights,
                "beds_taken": taken,
                "beds_offered": offered,
                "occupancy_pct": min(100, round(100 * taken / offered)) if offered else 0,
                "answered": answered,
                "working": working,
                "working_pct": round(100 * working / answered) if answered else None,
            }
        )
    return result

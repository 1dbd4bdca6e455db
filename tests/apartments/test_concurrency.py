"""Beds are never oversold, however many bookings arrive at once (DESIGN.md "Inventory that
must never be oversold"). Run for real on PostgreSQL: 200 booking attempts of mixed lengths
by 200 eligible graduates against a three-bed station, each worker thread on its own
database connection, all released together by a barrier. A negative control runs the same
schedule with the row locks switched off and shows the test sees the overbooking."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from apartments import services
from apartments.constants import ACTIVE_STAY_STATES
from apartments.models import Station, StationClosure, StationNight, Stay
from apartments.services import stations as station_services
from portal.constants import DocumentKind, Role
from portal.models import ApplicantProfile, District, Document, User
from tests.apartments.conftest import make_station

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BEDS = 3
ATTEMPTS = 200
WINDOW = 6  # nights the attempts spread over
# Each worker holds one connection for the whole run; PostgreSQL's default max_connections
# is 100 and other sessions share the server, so 200 attempts go through 40 workers.
WORKERS = 40
SEED = 20260511
NO_BED = "No bed is free on the night of"


@dataclasses.dataclass(frozen=True)
class Attempt:
    applicant: User
    document: Document
    check_in: dt.date
    nights: int


def _eligible_graduates(count: int, district: District, prefix: str) -> list[tuple[User, Document]]:
    """``count`` graduates from outside Luoyang who graduated this spring, each with an
    uploaded invitation letter, written in three bulk inserts (a complete profile is not
    needed for stations)."""
    today = timezone.localdate()
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(username=f"{prefix}{i}", email=f"{prefix}{i}@example.com", role=Role.GRADUATE, password=password)
            for i in range(count)
        ]
    )
    ApplicantProfile.objects.bulk_create(
        [
            ApplicantProfile(
                user=user,
                real_name=f"考生{i}",
                hukou_province="河南省",
                hukou_city="郑州市",
                graduation_date=today - dt.timedelta(days=150),
                district=district,
            )
            for i, user in enumerate(users)
        ]
    )
    documents = Document.objects.bulk_create(
        [
            Document(
                owner=user,
                kind=DocumentKind.INVITATION_LETTER,
                file=f"documents/{user.username}.pdf",
                content_type="application/pdf",
                size=1024,
                original_name="offer.pdf",
                sha256="0" * 64,
            )
            for user in users
        ]
    )
    return list(
        zip(
            User.objects.filter(pk__in=[u.pk for u in users]).select_related("profile").order_by("pk"),
            documents,
            strict=True,
        )
    )


def _mixed_attempts(graduates, first_night: dt.date) -> list[Attempt]:
    """One attempt per graduate: 1 to 4 nights starting anywhere in the window, so stays
    overlap in every way (same nights, nested, shifted by one)."""
    rng = random.Random(SEED)
    attempts = []
    for user, document in graduates:
        start = rng.randrange(WINDOW)
        nights = rng.randint(1, min(4, WINDOW - start))
        attempts.append(Attempt(user, document, first_night + dt.timedelta(days=start), nights))
    return attempts


def _book_all_at_once(station_pk: int, attempts: list[Attempt], workers: int = WORKERS) -> tuple[list, float]:
    """Each worker opens its connection, waits at the barrier, then books its share of the
    attempts one after the other; the outcome of every attempt (a Stay or the exception)
    is returned in order, with the seconds the run took."""
    workers = min(workers, len(attempts))
    barrier = threading.Barrier(workers)
    outcomes: list = [None] * len(attempts)

    def work(worker: int) -> None:
        translation.activate("en")
        try:
            station = Station.objects.get(pk=station_pk)  # opens this thread's connection
            barrier.wait(timeout=30)
            for i in range(worker, len(attempts), workers):
                attempt = attempts[i]
                try:
                    outcomes[i] = services.stay_book(
                        applicant=attempt.applicant,
                        station=station,
                        check_in=attempt.check_in,
                        nights=attempt.nights,
                        invitation_document=attempt.document,
                    )
                except Exception as exc:  # collected and asserted by the test
                    outcomes[i] = exc
        finally:
            translation.deactivate()
            connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work, w) for w in range(workers)]:
            future.result(timeout=120)
    return outcomes, time.monotonic() - started


def _guests_per_night(station: Station, first_night: dt.date) -> dict[dt.date, int]:
    """Active stays covering each night, counted from the stays themselves (not from the
    night counters the service maintains)."""
    guests = collections.Counter()
    for stay in Stay.objects.filter(station=station, status__in=ACTIVE_STAY_STATES):
        for i in range(stay.nights):
            guests[stay.check_in + dt.timedelta(days=i)] += 1
    return {first_night + dt.timedelta(days=i): guests[first_night + dt.timedelta(days=i)] for i in range(WINDOW)}


@pytest.fixture
def race(db):
    """A three-bed station, 200 eligible graduates and their attempts for the nights from
    the day after tomorrow (well inside the booking lead time)."""
    district = District.objects.get(code="luolong")
    station = make_station(district, beds=BEDS, name="三床驿站")
    first_night = timezone.localdate() + dt.timedelta(days=2)
    attempts = _mixed_attempts(_eligible_graduates(ATTEMPTS, district, "race"), first_night)
    return station, first_night, attempts


def test_two_hundred_concurrent_bookings_never_put_more_guests_on_a_night_than_beds(race):
    station, first_night, attempts = race
    outcomes, seconds = _book_all_at_once(station.pk, attempts)

    stays = [o for o in outcomes if isinstance(o, Stay)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    others = [o for o in outcomes if not isinstance(o, Stay | ValidationError)]
    # No deadlock, lock timeout or integrity error escapes: locks are taken in date order.
    assert others == [], {type(o).__name__ for o in others}
    assert len(stays) + len(refused) == ATTEMPTS
    # Every refusal is the clear "no bed" message naming a night of the window.
    assert all(e.code == "full" and e.messages[0].startswith(NO_BED) for e in refused), {
        (e.code, e.messages[0]) for e in refused
    }
    assert {dt.date.fromisoformat(e.messages[0][len(NO_BED) + 1 : len(NO_BED) + 11]) for e in refused} <= {
        first_night + dt.timedelta(days=i) for i in range(WINDOW)
    }

    guests = _guests_per_night(station, first_night)
    counters = dict(StationNight.objects.filter(station=station).values_list("date", "booked"))
    print(
        f"\n{ATTEMPTS} attempts by {WORKERS} workers in {seconds:.1f}s: {len(stays)} booked, "
        f"{len(refused)} refused; guests per night {list(guests.values())} (beds {BEDS})"
    )
    assert max(guests.values()) <= BEDS
    assert all(guests[night] == counters.get(night, 0) for night in guests), (guests, counters)
    assert stays, "no booking succeeded"
    assert len(refused) >= ATTEMPTS - BEDS * WINDOW  # at most 18 bed-nights to give out
    assert sum(s.nights for s in stays) == sum(counters.values())
    assert Stay.objects.filter(station=station).count() == len(stays)
    assert seconds < 60


def _take_nights_without_locks(station: Station, dates: list[dt.date]) -> None:
    """``services._take_nights`` with the locking switched off: the night rows are read
    without ``select_for_update`` and written back as the stale count + 1 (so the check
    constraint never fires either). The pause between read and write widens the window
    the locks normally close."""
    StationNight.objects.bulk_create(
        [StationNight(station=station, date=d, capacity=station.beds) for d in dates], ignore_conflicts=True
    )
    rows = list(StationNight.objects.filter(station=station, date__in=dates).order_by("date"))
    closed = set(StationClosure.objects.filter(station=station, date__in=dates).values_list("date", flat=True))
    for row in rows:
        if row.date in closed or row.booked >= row.capacity:
            raise ValidationError(f"{NO_BED} {row.date.isoformat()}.", code="full")
    time.sleep(0.01)
    for row in rows:
        StationNight.objects.filter(pk=row.pk).update(booked=row.booked + 1)


def test_negative_control_without_the_row_locks_the_same_race_overbooks(race, monkeypatch):
    """The same 200 attempts with only the locking replaced: several bookings read the same
    free bed before any of them commits, and some night ends up with more guests than
    beds (while its counter, written from stale reads, shows no more than the beds). So
    the test above would see an overbooking if the locks were missing."""
    station, first_night, attempts = race
    monkeypatch.setattr(station_services, "_take_nights", _take_nights_without_locks)
    outcomes, seconds = _book_all_at_once(station.pk, attempts)

    assert not [o for o in outcomes if not isinstance(o, Stay | ValidationError)]
    guests = _guests_per_night(station, first_night)
    counters = dict(StationNight.objects.filter(station=station).values_list("date", "booked"))
    print(f"\nwithout locks, in {seconds:.1f}s: guests per night {list(guests.values())} (beds {BEDS})")
    assert max(guests.values()) > BEDS, f"no overbooking observed: {guests}"
    assert any(guests[night] != counters.get(night, 0) for night in guests)


def test_one_graduate_firing_ten_bookings_at_once_gets_exactly_one_stay(db):
    district = District.objects.get(code="luolong")
    station = make_station(district, beds=BEDS, name="三床驿站")
    [(user, document)] = _eligible_graduates(1, district, "eager")
    first_night = timezone.localdate() + dt.timedelta(days=2)
    attempts = [Attempt(user, document, first_night + dt.timedelta(days=i % 3), 1 + i % 4) for i in range(10)]

    outcomes, _seconds = _book_all_at_once(station.pk, attempts, workers=10)

    stays = [o for o in outcomes if isinstance(o, Stay)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(stays) == 1
    assert len(refused) == 9, [type(o).__name__ for o in outcomes]
    assert {tuple(e.code for e in r.error_list) for r in refused} == {("one_active_stay",)}
    assert Stay.objects.filter(applicant=user, status__in=ACTIVE_STAY_STATES).count() == 1
    assert sum(StationNight.objects.filter(station=station).values_list("booked", flat=True)) == stays[0].nights


@pytest.mark.parametrize("night_row", [True, False], ids=["night-row-exists", "no-night-row-yet"])
def test_a_closure_and_a_booking_of_the_same_night_at_once_never_leave_a_guest_on_a_closed_night(
    db, monkeypatch, night_row
):
    """Staff close a night while a graduate books it. The closure is slowed down between
    its "no guests booked?" check and writing the closure row, and the booking arrives in
    that gap: the booking must wait for the closure and then be refused (before the fix the
    closure locked only nights that already had guests, so the booking slipped through)."""
    from tests.portal.factories import DistrictStaffFactory

    district = District.objects.get(code="luolong")
    station = make_station(district, beds=BEDS, name="三床驿站")
    staff = DistrictStaffFactory(districts=[district])
    [(user, document)] = _eligible_graduates(1, district, "closure")
    night = timezone.localdate() + dt.timedelta(days=2)
    if night_row:  # e.g. an earlier booking of the night was cancelled
        StationNight.objects.create(station=station, date=night, capacity=BEDS)

    checked = threading.Event()
    original = StationClosure.objects.bulk_create

    def slow_bulk_create(*args, **kwargs):
        checked.set()
        time.sleep(0.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(StationClosure.objects, "bulk_create", slow_bulk_create)
    outcomes: dict[str, object] = {}

    def close() -> None:
        try:
            outcomes["closure"] = services.station_close_nights(
                station=station, actor=staff, dates=[night], reason="检修"
            )
        except Exception as exc:
            outcomes["closure"] = exc
        finally:
            connection.close()

    def book() -> None:
        translation.activate("en")
        try:
            assert checked.wait(timeout=10)
            outcomes["booking"] = services.stay_book(
                applicant=user, station=station, check_in=night, nights=1, invitation_document=document
            )
        except Exception as exc:
            outcomes["booking"] = exc
        finally:
            translation.deactivate()
            connection.close()

    threads = [threading.Thread(target=close), threading.Thread(target=book)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes["closure"] == 1, outcomes
    assert isinstance(outcomes["booking"], ValidationError), outcomes
    assert outcomes["booking"].code == "closed"
    assert not Stay.objects.filter(station=station).exists()
    assert StationNight.objects.get(station=station, date=night).booked == 0

"""Event places are never oversold, however many people register at once (DESIGN.md
"Inventory that must never be oversold"; issue 7). Run for real on PostgreSQL: 500
registrations by 500 people for 50 places, each worker thread on its own database
connection, all released together by a barrier. Exactly 50 are confirmed and the other 450
wait in the order they arrived. A negative control runs the same race with the event row
lock switched off and shows the test sees the overselling."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from events import services
from events.constants import RegistrationStatus
from events.models import Event, Registration
from tests.events.conftest import make_people
from tests.events.factories import EventFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

R = RegistrationStatus
PLACES = 50
ATTEMPTS = 500
# Each worker holds one connection for the whole run; PostgreSQL's default max_connections
# is 100 and other sessions share the server, so the 500 attempts go through 40 workers.
WORKERS = 40


def _register_all_at_once(event_pk: int, users: list, workers: int = WORKERS) -> tuple[list, float]:
    """Worker ``w`` opens its connection, waits at the barrier, then registers users
    ``w``, ``w + workers``, ... one after the other. The outcome of every attempt (a
    Registration or the exception) is returned in order, with the seconds the run took."""
    workers = min(workers, len(users))
    barrier = threading.Barrier(workers)
    outcomes: list = [None] * len(users)

    def work(worker: int) -> None:
        translation.activate("en")
        try:
            event = Event.objects.get(pk=event_pk)  # opens this thread's connection
            barrier.wait(timeout=30)
            for i in range(worker, len(users), workers):
                try:
                    outcomes[i] = services.registration_create(event=event, user=users[i])
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


@pytest.fixture
def race(transactional_db, monkeypatch):
    """A published event with 50 places and 500 people (written in one bulk insert).
    Counting the free places is followed by a pause of 5 ms, in the test and in its
    negative control alike: it widens the window between reading the places and taking
    one that the lock closes, so a slow machine shows the race as surely as a fast one."""
    count_free_places = services._free_places

    def slow_free_places(event: Event) -> int:
        free = count_free_places(event)
        time.sleep(0.005)
        return free

    monkeypatch.setattr(services, "_free_places", slow_free_places)
    event = EventFactory(published=True, capacity=PLACES, title="洛阳青年音乐节")
    return event, make_people(ATTEMPTS, prefix="fan")


def test_five_hundred_concurrent_registrations_confirm_exactly_fifty_and_queue_the_rest_in_arrival_order(race):
    event, users = race
    outcomes, seconds = _register_all_at_once(event.pk, users)

    others = [o for o in outcomes if not isinstance(o, Registration)]
    assert others == [], {type(o).__name__ for o in others}  # no deadlock, no integrity error, no refusal

    rows = list(Registration.objects.filter(event=event).order_by("sequence").values_list("sequence", "status", "pk"))
    confirmed = [seq for seq, status, _pk in rows if status == R.CONFIRMED]
    waitlisted = [seq for seq, status, _pk in rows if status == R.WAITLISTED]
    print(
        f"\n{ATTEMPTS} registrations by {WORKERS} workers in {seconds:.1f}s: "
        f"{len(confirmed)} confirmed, {len(waitlisted)} waitlisted (places {PLACES})"
    )
    assert len(confirmed) == PLACES
    assert len(waitlisted) == ATTEMPTS - PLACES
    # Arrival order: the first 50 to take the lock got the places, the waiting list
    # continues without a gap, and the numbers follow the order the rows were written.
    assert confirmed == list(range(1, PLACES + 1))
    assert waitlisted == list(range(PLACES + 1, ATTEMPTS + 1))
    assert [pk for _seq, _status, pk in rows] == sorted(pk for _seq, _status, pk in rows)
    # Each worker registered its people one after the other: their numbers rise in that order.
    for worker in range(WORKERS):
        mine = [outcomes[i].sequence for i in range(worker, ATTEMPTS, WORKERS)]
        assert mine == sorted(mine), worker
    # What each caller was told matches the row.
    assert {(o.sequence, o.status) for o in outcomes} == {(seq, status) for seq, status, _pk in rows}
    assert Event.objects.get(pk=event.pk).free_places == 0
    assert seconds < 60


@pytest.fixture
def without_the_sequence_constraint(transactional_db):
    """Drop the unique (event, sequence) constraint for the negative control. Without the
    event lock, registrations that read the same highest arrival number would collide on
    it: the constraint is a second line of defence that would hide the race this control
    must show. The rows are deleted and the constraint restored afterwards."""
    [constraint] = [c for c in Registration._meta.constraints if c.name == "registration_sequence_unique"]
    with connection.schema_editor() as editor:
        editor.remove_constraint(Registration, constraint)
    yield
    Registration.objects.all().delete()
    with connection.schema_editor() as editor:
        editor.add_constraint(Registration, constraint)


def test_negative_control_without_the_event_lock_the_same_race_oversells(
    race, monkeypatch, without_the_sequence_constraint
):
    """The same 500 registrations with the event row read without ``select_for_update``:
    several registrations count the same free place before any of them commits, and more
    than 50 people are confirmed. So the test above would see overselling if the lock were
    missing."""
    event, users = race
    monkeypatch.setattr(Event.objects, "select_for_update", lambda *args, **kwargs: Event.objects.all())
    outcomes, seconds = _register_all_at_once(event.pk, users)

    assert not [o for o in outcomes if not isinstance(o, Registration)]
    confirmed = Registration.objects.filter(event=event, status=R.CONFIRMED).count()
    duplicates = ATTEMPTS - Registration.objects.filter(event=event).values("sequence").distinct().count()
    print(
        f"\nwithout the lock, in {seconds:.1f}s: {confirmed} confirmed for {PLACES} places, {duplicates} repeated arrival numbers"
    )
    assert confirmed > PLACES, "no overselling observed: the test could not see a race"


@pytest.mark.parametrize("locked", [True, False], ids=["event-lock", "constraint-only"])
def test_one_person_registering_ten_times_at_once_gets_one_registration(transactional_db, monkeypatch, locked):
    """Ten clicks of the same person at once: one registration, nine clear refusals. With
    the event lock the rule sees the first registration; without it the partial unique
    constraint (one open registration per person and event) still holds."""
    event = EventFactory(published=True, capacity=PLACES)
    [user] = make_people(1, prefix="eager")
    if not locked:
        monkeypatch.setattr(Event.objects, "select_for_update", lambda *args, **kwargs: Event.objects.all())

    outcomes, _seconds = _register_all_at_once(event.pk, [user] * 10, workers=10)

    made = [o for o in outcomes if isinstance(o, Registration)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(made) == 1, outcomes
    assert len(refused) == 9, [type(o).__name__ for o in outcomes]
    assert {tuple(e.code for e in r.error_list) for r in refused} == {("once",)}
    assert {r.messages[0] for r in refused} <= {
        "You are already registered",
        "You are already registered for this event.",
    }
    assert Registration.objects.filter(event=event, user=user).count() == 1
    assert made[0].status == R.CONFIRMED

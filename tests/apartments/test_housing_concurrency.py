"""A unit is never offered to two people at once and never let twice, however many answers,
expiries and fills race on a round (DESIGN.md "Inventory that must never be oversold").
Run for real on PostgreSQL, each worker thread on its own database connection, released
together by a barrier:

- 40 approved applicants for 5 units accept or decline their offers while fills and the
  beat's expiry run alongside, until every unit is let or nobody is left;
- fills of one round at once, and of a second round of the same project at the same time;
- a negative control: the same fills with the round lock and the unit row lock switched off
  and the partial unique index on open offers dropped, which does put a unit before two
  people, so the tests above would see it;
- the locks off but the index in place: the race ends in refusals, never in a unit offered
  twice."""

from __future__ import annotations

import collections
import datetime as dt
import logging
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
from apartments.constants import (
    AllocationMethod,
    ApplicantList,
    HousingApplicationStatus,
    LeaseStatus,
    OfferStatus,
    RoundStatus,
    UnitState,
)
from apartments.models import (
    AllocationRound,
    HousingApplication,
    HousingOffer,
    HousingProject,
    Lease,
    RoundUnitType,
    Unit,
    UnitType,
)
from apartments.services import housing as housing_services
from portal.constants import EducationLevel, Role
from portal.models import ApplicantProfile, District, User
from tests.apartments.conftest import make_project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

APPLICANTS = 40
WORKERS = 16  # each holds a connection; PostgreSQL's default max_connections is 100
SEED = 20260511
ACCEPT_SHARE = 0.25  # an applicant accepts an offer one time in four, else declines
UNIT_INDEX = "unit_offered_to_one_at_a_time"
OFFERS_WHILE_RACING = "was offered meanwhile"


# --- set-up: approved applications written in bulk, drawn by the service ---------------------


def _approved(round: AllocationRound, count: int, prefix: str, choices: list[list[UnitType]]) -> None:
    """``count`` graduates with approved applications in ``round``, each accepting one of
    ``choices`` of unit types (picked at random with a fixed seed)."""
    rng = random.Random(f"{SEED}-{prefix}")
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
                real_name=f"申请人{i}",
                education_level=EducationLevel.BACHELOR,
                graduation_date=timezone.localdate() - dt.timedelta(days=300),
                hukou_province="河南省",
                hukou_city="郑州市",
                works_in_luoyang=True,
                district=round.project.district,
            )
            for i, user in enumerate(users)
        ]
    )
    apps = HousingApplication.objects.bulk_create(
        [
            HousingApplication(
                round=round,
                applicant=user,
                status=HousingApplicationStatus.APPROVED,
                applicant_list=ApplicantList.GRADUATE,
                bucket="other",
                no_home_declared_at=timezone.now(),
                eligibility={"eligible": True, "criteria": [], "parameters": {}},
            )
            for user in users
        ]
    )
    through = HousingApplication.unit_types.through
    through.objects.bulk_create(
        [through(housingapplication=app, unittype=t) for app in apps for t in rng.choice(choices)]
    )


def _round(project: HousingProject, *, name: str, units: dict[UnitType, int]) -> AllocationRound:
    """A lottery round whose window has closed and whose public value is published."""
    now = timezone.now()
    round = AllocationRound.objects.create(
        project=project,
        name=name,
        opens_at=now - dt.timedelta(days=10),
        closes_at=now - dt.timedelta(days=1),
        method=AllocationMethod.LOTTERY,
        status=RoundStatus.OPEN,
        public_seed=f"{SEED} {name}",
        seed_source="test",
        seed_published_at=now,
    )
    for unit_type, count in units.items():
        RoundUnitType.objects.create(round=round, unit_type=unit_type, units=count)
    return round


def _draw(round: AllocationRound, monkeypatch, *, offers: bool) -> None:
    """The draw task on a round marked as drawing; with ``offers=False`` no unit is offered
    yet, so the fills of the test have them all to give out."""
    AllocationRound.objects.filter(pk=round.pk).update(status=RoundStatus.DRAWING)
    with monkeypatch.context() as m:
        if not offers:
            m.setattr(housing_services, "housing_offers_fill", lambda **kwargs: 0)
        services.round_draw(round_id=round.pk)
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAWN


def _in_threads(workers: int, work) -> float:
    """Run ``work(worker)`` in ``workers`` threads that each open their connection, wait at
    a barrier and start together; the seconds it took."""
    barrier = threading.Barrier(workers)

    def run(worker: int) -> None:
        translation.activate("en")
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            work(worker)
        finally:
            translation.deactivate()
            connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run, w) for w in range(workers)]:
            future.result(timeout=180)
    return time.monotonic() - started


# --- what must hold whatever happened ------------------------------------------------------------


def _state(project: HousingProject) -> dict:
    """Open offers and active leases per unit, counted from the rows themselves."""
    offers = collections.defaultdict(list)
    for unit_id, applicant_id in HousingOffer.objects.filter(
        unit__project=project, status=OfferStatus.OFFERED
    ).values_list("unit_id", "application__applicant_id"):
        offers[unit_id].append(applicant_id)
    leases = collections.Counter(
        Lease.objects.filter(unit__project=project, status=LeaseStatus.ACTIVE).values_list("unit_id", flat=True)
    )
    return {"offers": offers, "leases": leases}


def _assert_consistent(project: HousingProject, rounds: list[AllocationRound]) -> dict:
    state = _state(project)
    offers, leases = state["offers"], state["leases"]
    units = list(Unit.objects.filter(project=project))
    for unit in units:
        assert len(offers[unit.pk]) <= 1, f"unit {unit.label} offered to {offers[unit.pk]}"
        assert leases[unit.pk] <= 1, f"unit {unit.label} let {leases[unit.pk]} times"
        expected = {UnitState.LET: (0, 1), UnitState.OFFERED: (1, 0), UnitState.VACANT: (0, 0)}[unit.state]
        assert (len(offers[unit.pk]), leases[unit.pk]) == expected, (unit.label, unit.state)
    assert sum(leases.values()) <= len(units)

    live = collections.Counter(
        HousingOffer.objects.filter(
            application__round__in=rounds, status__in=[OfferStatus.OFFERED, OfferStatus.ACCEPTED]
        ).values_list("application_id", flat=True)
    )
    assert max(live.values(), default=0) <= 1, "an applicant holds two live offers"
    for round in rounds:
        quota = dict(round.unit_counts.values_list("unit_type_id", "units"))
        per_type = collections.Counter(
            HousingOffer.objects.filter(
                application__round=round, status__in=[OfferStatus.OFFERED, OfferStatus.ACCEPTED]
            ).values_list("unit__unit_type_id", flat=True)
        )
        assert all(per_type[t] <= quota.get(t, 0) for t in per_type), (per_type, quota)
        housed = HousingApplication.objects.filter(round=round, status=HousingApplicationStatus.HOUSED)
        accepted = HousingOffer.objects.filter(application__round=round, status=OfferStatus.ACCEPTED)
        assert housed.count() == accepted.count() == Lease.objects.filter(offer__in=accepted).count()
    return {
        "let": sum(1 for u in units if u.state == UnitState.LET),
        "offered": sum(1 for u in units if u.state == UnitState.OFFERED),
        "vacant": sum(1 for u in units if u.state == UnitState.VACANT),
    }


# --- (a) answers, expiries and fills all at once ------------------------------------------------


def test_answers_expiries_and_fills_racing_on_a_round_never_offer_or_let_a_unit_twice(monkeypatch):
    district = District.objects.get(code="luolong")
    project = make_project(district, types=(("两室一厅", "90", "1800", 2), ("单间", "45", "900", 3)))
    big, small = project.unit_types.get(name="两室一厅"), project.unit_types.get(name="单间")
    round = _round(project, name="并发批次", units={big: 2, small: 3})
    _approved(round, APPLICANTS, "race", [[big], [small], [big, small]])
    _draw(round, monkeypatch, offers=True)
    assert HousingOffer.objects.filter(status=OfferStatus.OFFERED).count() == 5

    apps = list(HousingApplication.objects.filter(round=round).select_related("applicant").order_by("pk"))
    outcomes: collections.Counter = collections.Counter()
    unexpected: list[BaseException] = []
    lock = threading.Lock()
    stop = threading.Event()
    deadline = time.monotonic() + 90

    def note(key) -> None:
        with lock:
            outcomes[key] += 1

    def attempt(name: str, service, **kwargs) -> None:
        try:
            result = service(**kwargs)
        except ValidationError as exc:
            note((name, "refused: " + ",".join(str(e.code) for e in exc.error_list)))
        except Exception as exc:  # collected and asserted below
            with lock:
                unexpected.append(exc)
        else:
            if name in ("fill", "expire"):
                with lock:
                    outcomes[(name, "units")] += result if name == "fill" else result["expired"]
            note((name, "done"))

    def applicant(worker: int) -> None:
        rng = random.Random(SEED + worker)
        mine = apps[worker - 1 :: WORKERS - 1]
        while not stop.is_set() and time.monotonic() < deadline:
            for app in mine:
                offer = HousingOffer.objects.filter(application=app, status=OfferStatus.OFFERED).first()
                if offer is None:
                    continue
                if rng.random() < ACCEPT_SHARE:
                    attempt("accept", services.housing_offer_accept, offer=offer, actor=app.applicant)
                else:
                    attempt("decline", services.housing_offer_decline, offer=offer, actor=app.applicant)
            if rng.random() < 0.3:
                attempt("fill", services.housing_offers_fill, round=round)
            time.sleep(rng.uniform(0, 0.01))

    def beat() -> None:
        # Celery beat, run far more often than every five minutes, with a clock a week and
        # a day ahead, so every offer open at that moment expires.
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.15)
            attempt("expire", services.housing_offers_run, now=timezone.now() + dt.timedelta(days=8))

    def work(worker: int) -> None:
        if worker == 0:
            beat()
        else:
            applicant(worker)

    def watch() -> None:
        """Stop once nothing is offered and a fill finds nothing more to offer."""
        idle = 0
        while time.monotonic() < deadline:
            time.sleep(0.2)
            open_offers = HousingOffer.objects.filter(application__round=round, status=OfferStatus.OFFERED).exists()
            idle = idle + 1 if not open_offers and services.housing_offers_fill(round=round) == 0 else 0
            if idle >= 2:
                break
        stop.set()
        connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    seconds = _in_threads(WORKERS, work)
    watcher.join(timeout=30)

    assert unexpected == [], {type(e).__name__: str(e) for e in unexpected}
    assert time.monotonic() < deadline, "the round did not settle in time"
    figures = _assert_consistent(project, [round])
    leases = Lease.objects.filter(unit__project=project, status=LeaseStatus.ACTIVE).count()
    statuses = collections.Counter(HousingApplication.objects.filter(round=round).values_list("status", flat=True))
    print(
        f"\n{APPLICANTS} applicants, 5 units, {WORKERS} workers in {seconds:.1f}s: "
        + ", ".join(f"{op} {what} {n}" for (op, what), n in sorted(outcomes.items()))
        + f"; units {figures}; leases {leases}; applications {dict(statuses)}"
    )
    assert leases == figures["let"] == statuses[HousingApplicationStatus.HOUSED] <= 5
    assert outcomes[("accept", "done")] == leases
    assert outcomes[("decline", "done")] > 0

    # A decline just before the stop may have passed its unit on: those last offers are
    # declined one by one until nothing is offered, and the round is settled.
    while offer := HousingOffer.objects.filter(application__round=round, status=OfferStatus.OFFERED).first():
        services.housing_offer_decline(offer=offer, actor=offer.application.applicant)
    assert _assert_consistent(project, [round])["offered"] == 0
    # Every unit is let, or nobody who accepts a free unit's type is left waiting.
    waiting = HousingApplication.objects.filter(round=round, status=HousingApplicationStatus.APPROVED)
    vacant_types = set(Unit.objects.filter(project=project, state=UnitState.VACANT).values_list("unit_type", flat=True))
    assert not waiting.filter(unit_types__in=vacant_types).exists()


# --- (b) fills of one round, and of two rounds of one project, at once -----------------------------


@pytest.fixture
def two_rounds(monkeypatch):
    """Ten 45 m² units; two drawn rounds of the project offering five each, twenty approved
    applicants in each, no unit offered yet."""
    district = District.objects.get(code="luolong")
    project = make_project(district, types=(("单间", "45", "900", 10),))
    unit_type = project.unit_types.get()
    rounds = []
    for n, name in enumerate(("第一批", "第二批")):
        round = _round(project, name=name, units={unit_type: 5})
        _approved(round, 20, f"r{n}-", [[unit_type]])
        _draw(round, monkeypatch, offers=False)
        rounds.append(round)
    assert not HousingOffer.objects.exists()
    return project, rounds


def _fill_all_at_once(rounds: list[AllocationRound]) -> tuple[list, float]:
    """Each worker fills one of the rounds (in turn), all released together."""
    outcomes: list = [None] * WORKERS

    def work(worker: int) -> None:
        try:
            outcomes[worker] = services.housing_offers_fill(round=rounds[worker % len(rounds)])
        except Exception as exc:  # collected and asserted by the tests
            outcomes[worker] = exc

    return outcomes, _in_threads(WORKERS, work)


def _top_ranks(round: AllocationRound, n: int) -> list[int]:
    return list(HousingApplication.objects.filter(round=round).order_by("rank").values_list("pk", flat=True)[:n])


def _offered(round: AllocationRound) -> list[int]:
    return sorted(
        HousingOffer.objects.filter(application__round=round, status=OfferStatus.OFFERED).values_list(
            "application_id", flat=True
        )
    )


def test_fills_of_one_round_at_once_offer_each_unit_once(two_rounds):
    project, (round, _other) = two_rounds
    outcomes, seconds = _fill_all_at_once([round])
    print(f"\n{WORKERS} fills of one round in {seconds:.2f}s: offers made per fill {sorted(outcomes, reverse=True)}")
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sorted(outcomes, reverse=True) == [5] + [0] * (WORKERS - 1)  # the round lock: one at a time
    assert _offered(round) == sorted(_top_ranks(round, 5))
    _assert_consistent(project, [round])


def test_fills_of_two_rounds_of_one_project_at_once_never_offer_a_unit_twice(two_rounds):
    project, rounds = two_rounds
    outcomes, seconds = _fill_all_at_once(rounds)
    print(f"\n{WORKERS} fills of two rounds in {seconds:.2f}s: offers made per fill {outcomes}")
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 10
    for round in rounds:
        assert _offered(round) == sorted(_top_ranks(round, 5))
    figures = _assert_consistent(project, rounds)
    assert figures == {"let": 0, "offered": 10, "vacant": 0}


# --- (c) and (d): the same fills with the locks switched off ----------------------------------------


def _lock_round_switched_off(round: AllocationRound) -> AllocationRound:
    """``_lock_round`` without the row lock: a plain read."""
    return AllocationRound.objects.select_related("project").get(pk=round.pk)


def _free_unit_switched_off(round: AllocationRound, unit_type_id: int) -> Unit | None:
    """``_free_unit`` without ``select_for_update``; the pause after the read widens the
    window the lock normally closes."""
    unit = (
        Unit.objects.filter(project_id=round.project_id, unit_type_id=unit_type_id, state=UnitState.VACANT)
        .order_by("building", "floor", "number")
        .first()
    )
    time.sleep(0.01)
    return unit


@pytest.fixture
def locks_off(monkeypatch):
    monkeypatch.setattr(housing_services, "_lock_round", _lock_round_switched_off)
    monkeypatch.setattr(housing_services, "_free_unit", _free_unit_switched_off)


def _unit_index():
    return next(c for c in HousingOffer._meta.constraints if c.name == UNIT_INDEX)


def _index_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [UNIT_INDEX])
        return cursor.fetchone() is not None


def test_negative_control_without_the_locks_and_the_index_a_unit_is_offered_to_two_people(two_rounds, locks_off):
    """The same fills with the round lock, the unit row lock and the partial unique index
    all gone: fills of the two rounds read the same vacant units before either commits and
    offer them to an applicant of each round. So the tests above would see the race."""
    project, rounds = two_rounds
    with connection.schema_editor() as editor:
        editor.remove_constraint(HousingOffer, _unit_index())
    assert not _index_exists()
    try:
        outcomes, seconds = _fill_all_at_once(rounds)
        state = _state(project)
        doubled = {unit: people for unit, people in state["offers"].items() if len(people) > 1}
        print(
            f"\nwithout locks and index, {WORKERS} fills in {seconds:.2f}s: offers made per fill {outcomes}; "
            f"{sum(len(p) for p in state['offers'].values())} open offers on {len(state['offers'])} units, "
            f"{len(doubled)} units offered to two people or more"
        )
        assert doubled, "no unit offered twice: the test cannot see the race"
        assert all(len(set(people)) == len(people) for people in doubled.values())  # different people
    finally:
        # Put the index back for the other tests (the rows go with the database flush, but
        # the index cannot be created over the doubled offers).
        HousingOffer.objects.filter(unit__project=project).delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(HousingOffer, _unit_index())
    assert _index_exists()


def test_without_the_locks_the_index_turns_the_race_into_refusals(two_rounds, locks_off, caplog):
    """The locks off but the partial unique index in place: a fill that offers a unit another
    fill has just offered fails on the index, keeps what it offered and stops; no unit is
    ever before two people, and a later run completes the offers."""
    project, rounds = two_rounds
    with caplog.at_level(logging.WARNING, logger=housing_services.__name__):
        outcomes, seconds = _fill_all_at_once(rounds)
    refusals = [r for r in caplog.records if OFFERS_WHILE_RACING in r.getMessage()]
    state = _state(project)
    print(
        f"\nwithout locks, with the index, {WORKERS} fills in {seconds:.2f}s: offers made per fill {outcomes}; "
        f"{len(refusals)} fills stopped by the index; "
        f"{sum(len(p) for p in state['offers'].values())} open offers on {len(state['offers'])} units"
    )
    assert all(isinstance(o, int) for o in outcomes), outcomes  # nothing escapes as an error
    assert refusals, "no fill met another: the race was not exercised"
    _assert_consistent(project, rounds)

    for round in rounds:  # the next beat run
        services.housing_offers_fill(round=round)
    for round in rounds:
        assert _offered(round) == sorted(_top_ranks(round, 5))
    assert _assert_consistent(project, rounds) == {"let": 0, "offered": 10, "vacant": 0}

"""The housing tasks are thin wrappers around the services: the draw, the refill after a
decline, the beat's expiry-and-fill run and the yearly re-check. Run eagerly through
``apply`` here; then through a real Redis broker and a real ``celery -A portal worker``
process: the draw button ends in a drawn round with offers, a decline is passed on by the
worker, and a worker killed in the middle of the draw loses nothing (acks_late: the message
goes back to the queue and the next worker draws the same ranks)."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from celery import Task
from django.conf import settings
from django.utils import timezone

from apartments import lottery, selectors, services, tasks
from apartments.constants import HousingApplicationStatus, OfferStatus, RoundStatus
from apartments.models import AllocationRound, HousingApplication, HousingOffer, LeaseRecheck
from portal.models import Notification
from tests import workers
from tests.apartments.conftest import housing_apply, make_housing_graduate, make_project, make_round
from tests.workers import wait as _wait

HOUSING_TASKS = ("round_draw", "housing_offers_fill", "housing_offers_run", "leases_recheck_remind")
SEED = "03 17 22 28 31 + 09"
SOURCE = "福彩双色球 2026138 期"


def _closed_round_with_approved(district, staff, *, applicants: int = 4, units: int = 2) -> AllocationRound:
    """A talent-apartment round of ``units`` 45 m² units whose window has just closed, with
    ``applicants`` approved applications and the public value published."""
    project = make_project(district, types=(("单间", "45", "900", units),))
    round = make_round(project)
    for _ in range(applicants):
        app = housing_apply(make_housing_graduate(district=district), round)
        services.housing_application_approve(application=app, actor=staff)
    AllocationRound.objects.filter(pk=round.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    round.refresh_from_db()
    services.round_publish_seed(round=round, actor=staff, public_seed=SEED, source=SOURCE)
    return round


def _expected_ranks(round: AllocationRound) -> dict[str, int]:
    """The ranks an outsider computes from the round's public value and its approved
    applications."""
    apps = HousingApplication.objects.filter(round=round, status__in=[HousingApplicationStatus.APPROVED])
    rows = lottery.draw(
        public_seed=SEED,
        round_id=round.pk,
        entries=[lottery.Entry(a.reference, a.applicant_list, a.bucket) for a in apps],
        buckets=round.buckets,
    )
    return {r.reference: r.rank for r in rows}


def _stored_ranks(round: AllocationRound) -> dict[str, int]:
    return {a.reference: a.rank for a in HousingApplication.objects.filter(round=round)}


# --- eagerly ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_draw_task_draws_a_started_round_and_offers_the_first_units(clock, district_1, staff_1):
    round = _closed_round_with_approved(district_1, staff_1)
    AllocationRound.objects.filter(pk=round.pk).update(status=RoundStatus.DRAWING)  # the button, without its on_commit
    result = tasks.round_draw.apply(args=(round.pk,)).get()
    assert result == {"round": round.pk, "ranked": 4, "offers": 2, "already_drawn": False}
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAWN
    assert _stored_ranks(round) == _expected_ranks(round)
    assert tasks.round_draw.apply(args=(round.pk,)).get() == {"round": round.pk, "ranked": 0, "already_drawn": True}
    assert HousingOffer.objects.count() == 2


@pytest.mark.django_db
def test_the_fill_task_takes_a_round_id_and_ignores_a_deleted_round(clock, district_1, staff_1):
    round = _closed_round_with_approved(district_1, staff_1)
    assert tasks.housing_offers_fill.apply(args=(round.pk,)).get() == 0  # not drawn yet
    assert tasks.housing_offers_fill.apply(args=(round.pk + 1000,)).get() == 0


@pytest.mark.django_db
def test_the_beat_task_expires_overdue_offers_and_passes_the_units_on(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    round = _closed_round_with_approved(district_1, staff_1)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round, actor=staff_1)
    first = set(HousingOffer.objects.values_list("application_id", flat=True))
    assert tasks.housing_offers_run.apply().get() == {"expired": 0, "offers": 0}
    clock.set(clock.today + dt.timedelta(days=8))
    assert tasks.housing_offers_run.apply().get()["expired"] == 2
    offered = set(HousingOffer.objects.filter(status=OfferStatus.OFFERED).values_list("application_id", flat=True))
    assert len(offered) == 2 and not offered & first


@pytest.mark.django_db
def test_the_recheck_task_asks_once_a_year(clock, district_1, staff_1):
    round = _closed_round_with_approved(district_1, staff_1, applicants=1, units=1)
    AllocationRound.objects.filter(pk=round.pk).update(status=RoundStatus.DRAWING)
    tasks.round_draw.apply(args=(round.pk,)).get()
    offer = HousingOffer.objects.get()
    lease = services.housing_offer_accept(offer=offer, actor=offer.application.applicant)
    clock.set(lease.next_recheck_on)
    assert tasks.leases_recheck_remind.apply().get() == 1
    assert tasks.leases_recheck_remind.apply().get() == 0
    assert LeaseRecheck.objects.get().lease == lease
    assert Notification.objects.filter(user=lease.tenant, kind="housing_recheck").count() == 1


def test_the_tasks_call_the_services_with_primary_keys(monkeypatch):
    calls = []

    def fake(name):
        return lambda **kwargs: calls.append((name, kwargs)) or name

    for name in ("round_draw", "housing_offers_run", "leases_recheck_remind"):
        monkeypatch.setattr(services, name, fake(name))
    assert tasks.round_draw(7) == "round_draw"
    assert tasks.housing_offers_run() == "housing_offers_run"
    assert tasks.leases_recheck_remind() == "leases_recheck_remind"
    assert calls == [("round_draw", {"round_id": 7}), ("housing_offers_run", {}), ("leases_recheck_remind", {})]


@pytest.mark.parametrize("name", HOUSING_TASKS)
def test_each_housing_task_survives_a_killed_worker(name):
    task = getattr(tasks, name)
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_celery_beat_runs_the_housing_tasks():
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    # Offers expire within minutes of their deadline; the yearly question is asked daily.
    assert scheduled["apartments.tasks.housing_offers_run"] <= 900
    recheck = scheduled["apartments.tasks.leases_recheck_remind"]
    assert len(recheck.hour) == 1 and len(recheck.minute) == 1
    for name in ("housing_offers_run", "leases_recheck_remind"):
        task = getattr(importlib.import_module("apartments.tasks"), name)
        assert isinstance(task, Task) and task.name == f"apartments.tasks.{name}"


# --- through a real broker and a real worker -----------------------------------------------------


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start real ``celery -A portal worker`` processes on the test database (one at a time,
    each with its own log); all are stopped before the database is flushed."""
    yield from workers.worker_starter(tmp_path, "housing")


@pytest.fixture
def broker():
    """This process publishes to the test Redis (purged before and after)."""
    yield from workers.purged_broker()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_draw_button_is_carried_out_by_a_real_worker(broker, start_worker, district_1, staff_1):
    worker = start_worker("draw")
    round = _closed_round_with_approved(district_1, staff_1, applicants=4, units=2)

    services.round_draw_start(round=round, actor=staff_1)  # queues the draw on commit

    # Drawn (ranks, status and notices in one transaction), then the first offers.
    _wait(lambda: HousingOffer.objects.filter(status=OfferStatus.OFFERED).count() == 2, "the first offers", worker)
    round.refresh_from_db()
    assert (round.status, round.draw_progress) == (RoundStatus.DRAWN, 100)
    assert _stored_ranks(round) == _expected_ranks(round)
    offers = list(HousingOffer.objects.filter(status=OfferStatus.OFFERED).select_related("application__applicant"))
    assert sorted(o.application.rank for o in offers) == [1, 2]
    assert Notification.objects.filter(kind="housing_ranked").count() == 4

    # A decline: the worker's refill task offers the unit to the third in rank.
    first = next(o for o in offers if o.application.rank == 1)
    services.housing_offer_decline(offer=first, actor=first.application.applicant)
    third = HousingApplication.objects.get(round=round, rank=3)
    _wait(
        lambda: HousingOffer.objects.filter(application=third, status=OfferStatus.OFFERED).exists(),
        "the third in rank offered the declined unit",
        worker,
    )
    assert HousingOffer.objects.get(application=third, status=OfferStatus.OFFERED).unit_id == first.unit_id

    # Pressing the button again and a duplicate message change nothing.
    before = (
        list(HousingApplication.objects.order_by("pk").values_list("rank", "ticket", "status")),
        list(HousingOffer.objects.order_by("pk").values_list("application_id", "unit_id", "status")),
        Notification.objects.filter(kind="housing_ranked").count(),
    )
    services.round_draw_start(round=round, actor=staff_1)
    tasks.round_draw.delay(round.pk)
    _wait(
        lambda: worker.received("apartments.tasks.round_draw") == 2 and broker.llen("celery") == 0,
        "the duplicate",
        worker,
    )
    _wait(lambda: broker.hlen("unacked") == 0, "the duplicate acknowledged", worker)
    after = (
        list(HousingApplication.objects.order_by("pk").values_list("rank", "ticket", "status")),
        list(HousingOffer.objects.order_by("pk").values_list("application_id", "unit_id", "status")),
        Notification.objects.filter(kind="housing_ranked").count(),
    )
    assert after == before


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_in_the_middle_of_the_draw_loses_nothing(broker, start_worker, district_1, staff_1):
    round = _closed_round_with_approved(district_1, staff_1, applicants=4, units=2)
    services.round_draw_start(round=round, actor=staff_1)  # queued (after the notices); no worker yet
    queued = [json.loads(m)["headers"]["task"] for m in broker.lrange("celery", 0, -1)]
    assert queued.count("apartments.tasks.round_draw") == 1

    with workers.row_locked(AllocationRound, round.pk):
        first = start_worker("killed")
        _wait(lambda: workers.backends_waiting_for_a_lock() >= 1, "the draw to wait on the round's row", first)
        assert first.received("apartments.tasks.round_draw") == 1
        first.process.kill()  # SIGKILL in the middle of the task: no ack is sent
        first.process.wait(timeout=10)
    assert broker.hlen("unacked") == 1  # acks_late: the message is kept, unacknowledged
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAWING
    assert not HousingOffer.objects.exists()

    # The broker gives an unacknowledged message to another worker once its visibility
    # timeout has passed; age it by the timeout instead of waiting an hour.
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    [(tag, score)] = broker.zrange("unacked_index", 0, -1, withscores=True)
    broker.zadd("unacked_index", {tag: score - timeout - 60})

    second = start_worker("second")
    _wait(lambda: HousingOffer.objects.filter(status=OfferStatus.OFFERED).count() == 2, "the redelivered draw", second)
    assert AllocationRound.objects.get(pk=round.pk).status == RoundStatus.DRAWN
    assert second.received("apartments.tasks.round_draw") == 1
    _wait(lambda: broker.hlen("unacked") == 0, "the redelivered draw acknowledged", second)
    assert _stored_ranks(round) == _expected_ranks(round)
    assert HousingOffer.objects.filter(status=OfferStatus.OFFERED).count() == 2
    assert Notification.objects.filter(kind="housing_ranked").count() == 4  # told once each
    assert selectors.round_draw_input(round=round)["public_value"] == SEED

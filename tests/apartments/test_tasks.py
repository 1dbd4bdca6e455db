"""The Celery tasks of the youth stations are thin wrappers: each calls its service (run
here eagerly through ``apply``), takes only primary keys and ISO dates, survives a killed
worker (acks_late), and celery beat names tasks that exist."""

import datetime as dt
import importlib

import pytest
from celery import Task
from django.conf import settings

from apartments import services, tasks
from apartments.constants import FollowUpStage, StayStatus
from apartments.models import BedAlert, StationNight
from portal.models import Notification
from tests.apartments.conftest import DAY0, give_letter, make_graduate, make_station

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def book(user, station, check_in, nights):
    return services.stay_book(
        applicant=user, station=station, check_in=check_in, nights=nights, invitation_document=give_letter(user)
    )


def test_the_no_show_task_marks_yesterdays_missed_arrivals(clock, graduate, station):
    stay = book(graduate, station, day(1), 2)
    clock.set(day(1), hour=6)
    assert tasks.stays_mark_no_show.apply().get() == 0  # the arrival day is not over
    clock.set(day(2), hour=6)
    assert tasks.stays_mark_no_show.apply().get() == 1
    stay.refresh_from_db()
    assert stay.status == StayStatus.NO_SHOW
    assert list(StationNight.objects.filter(station=station).order_by("date").values_list("booked", flat=True)) == [
        1,
        0,
    ]


def test_the_job_push_task_sends_new_positions_to_residents(clock, graduate, station, staff_1):
    from tests.jobs.factories import PositionFactory

    stay = book(graduate, station, day(1), 3)
    clock.set(day(1), hour=15)
    services.stay_check_in(stay=stay, actor=staff_1)
    PositionFactory(published=True, published_at=clock.moment, title="轴承工艺工程师", majors="机械工程")
    clock.set(day(2), hour=8, minute=30)
    assert tasks.residents_job_push.apply().get() == 1
    assert Notification.objects.filter(user=graduate, kind="station_jobs").count() == 1


def test_the_follow_up_task_sends_the_questionnaire_when_due(clock, graduate, station, staff_1):
    stay = book(graduate, station, day(1), 1)
    clock.set(day(1), hour=15)
    services.stay_check_in(stay=stay, actor=staff_1)
    clock.set(day(2), hour=9)
    services.stay_check_out(stay=stay, actor=staff_1)
    clock.set(day(9), hour=10)
    assert tasks.follow_ups_run.apply().get() == {"sent": 1}
    assert stay.follow_ups.get(stage=FollowUpStage.DAY_7).sent_at is not None
    assert stay.follow_ups.get(stage=FollowUpStage.DAY_30).sent_at is None


def test_the_bed_alert_task_takes_the_station_id_and_iso_dates(graduate, district_1):
    station = make_station(district_1, beds=1)
    waiting = make_graduate(district=district_1)
    services.bed_alert_subscribe(user=waiting, station=station, start=day(1), end=day(3))
    assert tasks.bed_alerts_notify.apply(args=(station.pk, [day(2).isoformat()])).get() == 1
    assert BedAlert.objects.get().notified_at is not None
    assert Notification.objects.filter(user=waiting, kind="bed_freed").count() == 1


def test_the_tasks_call_the_services(monkeypatch):
    calls = []
    for name in ("stays_mark_no_show", "residents_job_push", "follow_ups_run"):
        monkeypatch.setattr(services, name, lambda name=name, **kwargs: calls.append((name, kwargs)) or name)
    assert tasks.stays_mark_no_show() == "stays_mark_no_show"
    assert tasks.residents_job_push() == "residents_job_push"
    assert tasks.follow_ups_run() == "follow_ups_run"
    assert calls == [("stays_mark_no_show", {}), ("residents_job_push", {}), ("follow_ups_run", {})]


@pytest.mark.parametrize("name", ["stays_mark_no_show", "residents_job_push", "follow_ups_run", "bed_alerts_notify"])
def test_a_killed_worker_loses_no_task(name):
    task = getattr(tasks, name)
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_celery_beat_runs_the_station_tasks_every_day():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("stays_mark_no_show", "residents_job_push", "follow_ups_run"):
        entry = schedule[f"apartments.tasks.{name}"]
        assert len(entry.hour) == 1 and len(entry.minute) == 1  # once a day
    # The no-show run comes after the arrival day is over and before the day's arrivals.
    assert schedule["apartments.tasks.stays_mark_no_show"].hour == {6}


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_entry_names_an_existing_task(entry):
    name = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    module, attribute = name.rsplit(".", 1)
    task = getattr(importlib.import_module(module), attribute)
    assert isinstance(task, Task)
    assert task.name == name

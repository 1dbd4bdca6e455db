"""The Celery tasks of the events programme are thin wrappers: each calls its service (run
here eagerly through ``apply``), survives a killed worker (acks_late), and celery beat
names tasks that exist."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from celery import Task
from django.conf import settings

from events import services, tasks
from events.constants import RegistrationStatus
from portal.models import Notification
from tests.events.conftest import make_people
from tests.events.factories import EventFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

R = RegistrationStatus
EVENT_TASKS = ("offers_expire", "events_mark_no_shows", "events_send_reminders")


@pytest.fixture
def event(clock):
    return EventFactory(published=True, capacity=1)


def test_the_expiry_task_passes_an_unconfirmed_offer_on(event, clock):
    a, b, c = make_people(3)
    first = services.registration_create(event=event, user=a)
    offered = services.registration_create(event=event, user=b)
    following = services.registration_create(event=event, user=c)
    services.registration_cancel(registration=first, actor=a)
    assert tasks.offers_expire.apply().get() == 0
    clock.advance(hours=13)
    assert tasks.offers_expire.apply().get() == 1
    offered.refresh_from_db()
    following.refresh_from_db()
    assert (offered.status, following.status) == (R.CANCELLED, R.OFFERED)


def test_the_no_show_task_marks_the_ended_events(event, clock):
    [person] = make_people(1)
    registration = services.registration_create(event=event, user=person)
    assert tasks.events_mark_no_shows.apply().get() == 0
    clock.set(event.ends_at + dt.timedelta(hours=1))
    assert tasks.events_mark_no_shows.apply().get() == 1
    registration.refresh_from_db()
    assert registration.status == R.NO_SHOW


def test_the_reminder_task_reminds_once(event, clock):
    [person] = make_people(1)
    services.registration_create(event=event, user=person)
    assert tasks.events_send_reminders.apply().get() == 0
    clock.set(event.starts_at - dt.timedelta(hours=23))
    assert tasks.events_send_reminders.apply().get() == 1
    assert tasks.events_send_reminders.apply().get() == 0
    assert Notification.objects.filter(user=person, kind="event_reminder").count() == 1


@pytest.mark.parametrize("name", EVENT_TASKS)
def test_each_task_calls_its_service_and_survives_a_killed_worker(name, monkeypatch):
    calls = []
    monkeypatch.setattr(services, name, lambda **kwargs: calls.append(kwargs) or 7)
    task = getattr(tasks, name)
    assert task.apply().get() == 7
    assert calls == [{}]
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_celery_beat_runs_every_events_task():
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in EVENT_TASKS:
        assert f"events.tasks.{name}" in scheduled
    # An offer deadline is hours long: expiry runs every few minutes, reminders well inside the hour.
    assert scheduled["events.tasks.offers_expire"] <= 900
    assert scheduled["events.tasks.events_send_reminders"] <= 3600


@pytest.mark.parametrize(
    "entry", sorted(k for k, v in settings.CELERY_BEAT_SCHEDULE.items() if v["task"].startswith("events."))
)
def test_every_events_beat_entry_names_an_existing_task(entry):
    name = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    module, attribute = name.rsplit(".", 1)
    task = getattr(importlib.import_module(module), attribute)
    assert isinstance(task, Task)
    assert task.name == name

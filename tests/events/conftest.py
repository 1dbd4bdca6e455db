"""Fixtures of the events tests: a clock the tests move, English messages (so assertions
can read them), a published reading night in 洛龙区 run by district staff, and people to
register."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone, translation

from portal.constants import Role
from portal.models import Parameter, User

LOCAL = ZoneInfo(settings.TIME_ZONE)
# The moment the clocked tests start at: a Monday morning in Luoyang.
T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=LOCAL)

_real_now = timezone.now
_moment: dt.datetime | None = None


def _now() -> dt.datetime:
    return _moment if _moment is not None else _real_now()


class Clock:
    """Moves ``timezone.now`` (and so ``localdate``, ``auto_now`` and the services' "now").

    One stable replacement function reads the moment set here and falls back to the real
    clock after the test, so a reference kept to it is never stuck on a stale moment."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(timezone, "now", _now)
        self.moment: dt.datetime = T0

    def set(self, moment: dt.datetime) -> dt.datetime:
        global _moment
        self.moment = moment
        _moment = moment.astimezone(dt.UTC)
        return moment

    def advance(self, **delta) -> dt.datetime:
        return self.set(self.moment + dt.timedelta(**delta))


@pytest.fixture
def clock(monkeypatch):
    global _moment
    clock = Clock(monkeypatch)
    clock.set(T0)
    yield clock
    _moment = None


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def organiser(staff_1):
    """District staff of 洛龙区, where the events of these tests take place."""
    return staff_1


@pytest.fixture
def event(db, district_1):
    """A published reading night in 洛龙区 with two places."""
    from tests.events.factories import EventFactory

    return EventFactory(published=True, district=district_1, capacity=2, title="河洛书苑读书夜")


def make_people(count: int, prefix: str = "p") -> list[User]:
    """``count`` graduates without profiles (enough for events without audience limits),
    written in one bulk insert."""
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(username=f"{prefix}{i}", email=f"{prefix}{i}@example.com", role=Role.GRADUATE, password=password)
            for i in range(count)
        ]
    )
    return list(User.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"))


def set_parameter(key: str, value, *, effective_from: dt.date, district=None) -> Parameter:
    """A newer row of a policy parameter, as city staff would enter it."""
    return Parameter.objects.create(key=key, value=value, effective_from=effective_from, district=district, note="test")

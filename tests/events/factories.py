"""Factories of the events tests: venues, events with a Trait per status, and registrations
with a Trait per status.

Factory registrations are rows only: they skip the rules, the event lock and the
notifications. Register through ``events.services.registration_create`` when the test is
about registering. Each factory registration takes the next arrival number of its event,
so (event, sequence) stays unique."""

from __future__ import annotations

import datetime as dt

import factory
from django.db.models import Max
from django.utils import timezone

from events.constants import EventKind, EventStatus, RegistrationStatus, VenueKind
from events.models import Event, Registration, Venue
from portal.models import District
from tests.portal.factories import UserFactory

# Lambdas, not ``LazyFunction(timezone.now)``: the clock fixture of these tests replaces
# ``timezone.now``, and a reference taken at import time would miss it.


def _from_now(**delta):
    return factory.LazyFunction(lambda: timezone.now() + dt.timedelta(**delta))


def _next_sequence(registration) -> int:
    return (Registration.objects.filter(event=registration.event).aggregate(n=Max("sequence"))["n"] or 0) + 1


class VenueFactory(factory.django.DjangoModelFactory):
    """A youth home (青年之家) in 洛龙区 for 100 people."""

    class Meta:
        model = Venue

    district = factory.LazyFunction(lambda: District.objects.get(code="luolong"))
    name = factory.Sequence(lambda n: f"洛龙区青年之家 {n}")
    kind = VenueKind.YOUTH_HOME
    address = factory.Sequence(lambda n: f"洛阳市洛龙区开元大道 {n} 号")
    capacity = 100

    class Params:
        study_room = factory.Trait(kind=VenueKind.STUDY_ROOM, name=factory.Sequence(lambda n: f"河洛书苑 {n}"))


class EventFactory(factory.django.DjangoModelFactory):
    """A reading night in 洛龙区 three days from now for ten people, registration open since
    yesterday until two days from now. A draft by default; one trait per status
    (``published=True`` and so on)."""

    class Meta:
        model = Event

    kind = EventKind.SALON
    title = factory.Sequence(lambda n: f"城市书房读书夜 {n}")
    description = "共读《洛阳伽蓝记》，交流读书心得。"
    district = factory.LazyFunction(lambda: District.objects.get(code="luolong"))
    venue = None
    place = "洛阳市洛龙区河洛书苑"
    starts_at = _from_now(days=3)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=2))
    capacity = 10
    registration_opens = _from_now(days=-1)
    registration_closes = _from_now(days=2)
    status = EventStatus.DRAFT

    class Params:
        draft = factory.Trait(status=EventStatus.DRAFT)
        pending = factory.Trait(status=EventStatus.PENDING)
        published = factory.Trait(status=EventStatus.PUBLISHED)
        rejected = factory.Trait(status=EventStatus.REJECTED, status_reason="活动内容不完整")
        cancelled = factory.Trait(status=EventStatus.CANCELLED, status_reason="天气原因")
        # Over: started and ended yesterday, registration closed before.
        past = factory.Trait(
            starts_at=_from_now(days=-1, hours=-2),
            registration_opens=_from_now(days=-10),
            registration_closes=_from_now(days=-2),
        )

    @classmethod
    def full(cls, *, waitlisted: int = 0, **kwargs) -> Event:
        """A published event whose every place is confirmed (``capacity`` registrations),
        with ``waitlisted`` more on the waiting list."""
        kwargs.setdefault("published", True)
        kwargs.setdefault("capacity", 2)
        event = cls(**kwargs)
        RegistrationFactory.create_batch(event.capacity, event=event, confirmed=True)
        RegistrationFactory.create_batch(waitlisted, event=event, waitlisted=True)
        return event


class RegistrationFactory(factory.django.DjangoModelFactory):
    """A confirmed place at a published event; one trait per status."""

    class Meta:
        model = Registration

    event = factory.SubFactory(EventFactory, published=True)
    user = factory.SubFactory(UserFactory)
    status = RegistrationStatus.CONFIRMED
    sequence = factory.LazyAttribute(_next_sequence)

    class Params:
        confirmed = factory.Trait(status=RegistrationStatus.CONFIRMED)
        waitlisted = factory.Trait(status=RegistrationStatus.WAITLISTED)
        pending = factory.Trait(status=RegistrationStatus.PENDING)
        offered = factory.Trait(status=RegistrationStatus.OFFERED, offer_expires_at=_from_now(hours=12))
        cancelled = factory.Trait(status=RegistrationStatus.CANCELLED, status_reason="临时有事")
        attended = factory.Trait(status=RegistrationStatus.ATTENDED, checked_in_at=_from_now())
        no_show = factory.Trait(status=RegistrationStatus.NO_SHOW)

"""Factories of the youth-station tests: stations, stays with a Trait per status, follow-ups,
and the two proofs of a job search a booking needs (an uploaded invitation letter, or an
interview invitation in the jobs programme).

Factory stays are rows only: they do not take beds. Pass ``hold_beds=True`` to count a
booked or checked-in stay's nights on the station's night rows the way a booking does, or
book through ``apartments.services.stay_book`` when the test is about bookings."""

import datetime as dt

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone

from apartments.constants import FollowUpOutcome, FollowUpStage, StationKind, StayStatus
from apartments.models import FollowUp, Station, StationClosure, StationNight, Stay
from jobs.constants import ApplicationStatus
from jobs.models import Interview
from portal import services as portal_services
from portal.constants import DocumentKind
from portal.models import District
from tests.jobs.factories import JobApplicationFactory
from tests.portal.factories import ProfileFactory

# A minimal well-formed PDF: the header the upload sniffs and the end marker it checks.
LETTER_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

# Lambdas, not ``LazyFunction(timezone.now)``: the clock fixture of these tests replaces
# ``timezone.now``, and a reference taken at import time would miss it.


def _today(days: int = 0):
    return factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=days))


class StationFactory(factory.django.DjangoModelFactory):
    """An active youth apartment in 洛龙区 with four beds."""

    class Meta:
        model = Station

    district = factory.LazyFunction(lambda: District.objects.get(code="luolong"))
    name = factory.Sequence(lambda n: f"青年驿站 {n} 号")
    kind = StationKind.YOUTH_APARTMENT
    address = factory.Sequence(lambda n: f"洛阳市洛龙区开元大道 {n} 号")
    beds = 4
    contact_name = "驿站管理员"
    contact_phone = "0379-12345678"
    description = "免费入住，拎包即住。"
    house_rules = "凭身份证入住；22:30 前返回。"
    active = True

    class Params:
        inactive = factory.Trait(active=False)
        hotel = factory.Trait(kind=StationKind.PARTNER_HOTEL)


class StayFactory(factory.django.DjangoModelFactory):
    """A graduate's stay, booked from tomorrow for two nights; one trait per status."""

    class Meta:
        model = Stay
        skip_postgeneration_save = True

    applicant = factory.LazyFunction(lambda: ProfileFactory(complete=True).user)
    station = factory.SubFactory(StationFactory)
    check_in = _today(1)
    nights = 2
    status = StayStatus.BOOKED
    eligibility = factory.LazyFunction(lambda: {"eligible": True, "criteria": [], "parameters": {}})

    class Params:
        booked = factory.Trait(status=StayStatus.BOOKED)
        checked_in = factory.Trait(
            status=StayStatus.CHECKED_IN, check_in=_today(0), checked_in_at=factory.LazyFunction(lambda: timezone.now())
        )
        checked_out = factory.Trait(
            status=StayStatus.CHECKED_OUT,
            check_in=_today(-10),
            nights=3,
            checked_in_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10)),
            checked_out_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=7)),
        )
        cancelled = factory.Trait(status=StayStatus.CANCELLED, nights_released=factory.SelfAttribute("nights"))
        no_show = factory.Trait(status=StayStatus.NO_SHOW, check_in=_today(-1))

    @factory.post_generation
    def hold_beds(self, create, extracted, **kwargs):
        if create and extracted:
            take_beds(self.station, self.check_in, self.nights)


class FollowUpFactory(factory.django.DjangoModelFactory):
    """The day-7 follow-up of a checked-out stay, sent and waiting for the graduate's answer."""

    class Meta:
        model = FollowUp

    stay = factory.SubFactory(StayFactory, checked_out=True)
    stage = FollowUpStage.DAY_7
    due_on = _today(0)
    sent_at = factory.LazyFunction(lambda: timezone.now())

    class Params:
        not_sent = factory.Trait(sent_at=None, due_on=_today(7))
        open = factory.Trait(outcome="", answered_at=None)
        answered = factory.Trait(
            outcome=FollowUpOutcome.SEARCHING, answered_at=factory.LazyFunction(lambda: timezone.now()), note="还在找"
        )
        call_task = factory.Trait(
            call_task_open=True, sent_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=6))
        )


def take_beds(station: Station, check_in: dt.date, nights: int, guests: int = 1) -> None:
    """Count ``guests`` more on each night, as a booking does (no locking: test set-up only)."""
    dates = [check_in + dt.timedelta(days=i) for i in range(nights)]
    StationNight.objects.bulk_create(
        [StationNight(station=station, date=d, capacity=station.beds) for d in dates], ignore_conflicts=True
    )
    StationNight.objects.filter(station=station, date__in=dates).update(booked=F("booked") + guests)


def close_night(station: Station, date: dt.date, reason: str = "维修") -> StationClosure:
    return StationClosure.objects.create(station=station, date=date, reason=reason)


def invitation_letter(user):
    """An invitation or offer letter the graduate uploaded (through the upload service)."""
    return portal_services.document_upload(
        owner=user,
        kind=DocumentKind.INVITATION_LETTER,
        upload=SimpleUploadedFile("offer-letter.pdf", LETTER_PDF, content_type="application/pdf"),
    )


def interview_for(user, *, on: dt.date | None = None) -> Interview:
    """An interview invitation in the jobs programme for ``user`` on ``on`` (tomorrow) at 10:00."""
    on = on or timezone.localdate() + dt.timedelta(days=1)
    application = JobApplicationFactory(applicant=user, status=ApplicationStatus.INTERVIEW)
    starts_at = timezone.make_aware(dt.datetime.combine(on, dt.time(10)))
    return Interview.objects.create(application=application, starts_at=starts_at, place="洛阳市洛龙区开元大道 1 号")


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)

"""Fixtures of the youth-station tests: a station per district, a clock the tests move
from the booking day to check-in and check-out, eligible graduates, and the two ways a
graduate shows a job search (an uploaded invitation letter, an interview invitation from
the jobs programme)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apartments.constants import StationKind
from apartments.models import Station
from portal import services as portal_services
from portal.constants import DocumentKind
from portal.models import Document, Parameter

# A minimal well-formed PDF: the header the upload sniffs and the end marker it checks.
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

# The day the tests start on: a Monday away from leap days and month ends.
DAY0 = dt.date(2026, 5, 11)


_real_now = timezone.now
_moment: dt.datetime | None = None


def _now() -> dt.datetime:
    return _moment if _moment is not None else _real_now()


class Clock:
    """Moves ``timezone.now`` (and so ``localdate``, ``auto_now`` and the services'
    "today") to a given local day and hour.

    ``timezone.now`` is replaced by one stable function that reads the moment set here and
    falls back to the real clock after the test, so code that kept a reference to it (a
    factory's ``LazyFunction(timezone.now)`` imported during a test) is never left stuck
    on a stale moment."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(timezone, "now", _now)
        self.moment: dt.datetime | None = None

    def set(self, day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
        global _moment
        self.moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE))
        _moment = self.moment.astimezone(dt.UTC)
        return self.moment

    @property
    def today(self) -> dt.date:
        return self.moment.date()


@pytest.fixture
def clock(monkeypatch):
    global _moment
    clock = Clock(monkeypatch)
    clock.set(DAY0, hour=9)
    yield clock
    _moment = None


def make_station(district, *, beds: int = 2, name: str = "洛龙青年驿站") -> Station:
    return Station.objects.create(
        district=district,
        name=name,
        kind=StationKind.YOUTH_APARTMENT,
        address="洛阳市洛龙区开元大道 8 号",
        beds=beds,
        contact_name="王老师",
        contact_phone="0379-65000000",
    )


@pytest.fixture
def station(district_1):
    """Two beds in 洛龙区 (district 1, served by staff_1)."""
    return make_station(district_1)


@pytest.fixture
def station_2(district_2):
    """Two beds in 涧西区 (district 2, served by staff_2)."""
    return make_station(district_2, name="涧西青年驿站")


def make_graduate(*, district=None, today: dt.date | None = None, **profile):
    """A graduate who meets the station criteria except the job-search reason: household
    registration in 郑州, graduated about half a year ago, bachelor in mechanical engineering."""
    from tests.portal.factories import ProfileFactory

    today = today or timezone.localdate()
    fields = {"complete": True, "graduation_date": today - dt.timedelta(days=180), "hukou_city": "郑州市"}
    if district is not None:
        fields["district"] = district
    fields.update(profile)
    return ProfileFactory(**fields).user


@pytest.fixture
def graduate(clock, district_1):
    return make_graduate(district=district_1)


@pytest.fixture
def graduate_2(clock, district_2):
    return make_graduate(district=district_2)


def give_letter(user, *, kind: str = DocumentKind.INVITATION_LETTER) -> Document:
    """An uploaded invitation or offer letter (through the upload service)."""
    upload = SimpleUploadedFile("invitation.pdf", PDF_BYTES, content_type="application/pdf")
    return portal_services.document_upload(owner=user, kind=kind, upload=upload)


def give_interview(user, *, starts_at: dt.datetime):
    """An interview invitation in the jobs programme: an application to a published
    position, and the employer inviting through the jobs service."""
    from jobs import services as jobs_services
    from tests.jobs.factories import JobApplicationFactory

    application = JobApplicationFactory(applicant=user)
    employer = application.position.organisation.memberships.get().user
    return jobs_services.job_application_invite(
        application=application, actor=employer, starts_at=starts_at, place="洛阳市洛龙区开元大道 1 号"
    )


def set_parameter(key: str, value, *, effective_from: dt.date) -> Parameter:
    """A newer row of a policy parameter, as city staff would enter it."""
    return Parameter.objects.create(key=key, value=value, effective_from=effective_from, note="test")


# --- talent apartments and affordable rentals -------------------------------------------------


def make_project(
    district,
    *,
    kind: str = "talent_apartment",
    name: str = "炎黄科技园青年人才公寓",
    types: tuple[tuple[str, str, str, int], ...] = (
        ("两室一厅", "90", "1800", 2),
        ("一室一厅", "60", "1200", 2),
        ("单间", "45", "900", 2),
    ),
):
    """A project with unit types (name, m², monthly rent, number of vacant units)."""
    from decimal import Decimal

    from apartments.models import HousingProject, Unit, UnitType

    project = HousingProject.objects.create(
        name=name,
        kind=kind,
        district=district,
        address="洛阳市洛龙区炎黄科技园",
        description="拎包入住的青年人才公寓。",
        amenities="拎包入住\n地铁 2 号线",
    )
    for index, (type_name, area, rent, count) in enumerate(types):
        unit_type = UnitType.objects.create(
            project=project,
            name=type_name,
            area=Decimal(area),
            rooms=2 if Decimal(area) >= 90 else 1,
            monthly_rent=Decimal(rent),
        )
        Unit.objects.bulk_create(
            [
                Unit(project=project, unit_type=unit_type, building="3", floor=index + 1, number=f"{index + 1}{n:02d}")
                for n in range(1, count + 1)
            ]
        )
    return project


def make_round(
    project, *, units: dict[str, int] | None = None, status: str = "open", opens_at=None, closes_at=None, **fields
):
    """A round of ``project`` open from a day ago for a week, offering ``units`` per type name
    (by default every unit of every type)."""
    from apartments.models import AllocationRound, RoundUnitType

    now = timezone.now()
    round = AllocationRound.objects.create(
        project=project,
        name=fields.pop("name", "2026年第一批"),
        opens_at=opens_at or now - dt.timedelta(days=1),
        closes_at=closes_at or now + dt.timedelta(days=7),
        status=status,
        priority_order=fields.pop("priority_order", ["out_of_town", "postgraduate", "bachelor", "technician"]),
        **fields,
    )
    for unit_type in project.unit_types.all():
        count = (units or {}).get(unit_type.name, unit_type.units.count())
        if count:
            RoundUnitType.objects.create(round=round, unit_type=unit_type, units=count)
    return round


def make_housing_graduate(*, district=None, works_in_luoyang: bool = True, **profile):
    """A graduate whose profile is complete (degree certificate uploaded, consent given),
    working in Luoyang, from 郑州, bachelor, graduated about half a year ago."""
    user = make_graduate(district=district, works_in_luoyang=works_in_luoyang, **profile)
    give_letter(user, kind=DocumentKind.DEGREE_CERTIFICATE)
    return user


def housing_apply(user, round, *, types=None, household_size: int = 1):
    from apartments import services

    return services.housing_application_submit(
        applicant=user,
        round=round,
        unit_types=types if types is not None else list(round.project.unit_types.all()),
        household_size=household_size,
        no_home_declared=True,
    )

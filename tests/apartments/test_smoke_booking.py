import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apartments import services
from apartments.constants import StayStatus
from apartments.models import Station, StationNight
from portal.models import Document


@pytest.fixture
def station(district_1):
    return Station.objects.create(
        district=district_1,
        name="洛龙青年驿站",
        kind="youth_apartment",
        address="开元大道",
        beds=2,
        contact_name="王",
        contact_phone="0379-1",
    )


def _letter(user):
    return Document.objects.create(
        owner=user, kind="invitation_letter", file="x.pdf", content_type="application/pdf", size=1, sha256="0"
    )


@pytest.mark.django_db
def test_book_cancel_and_cap(graduate_a, graduate_b, station, staff_1):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    stay = services.stay_book(
        applicant=graduate_a, station=station, check_in=tomorrow, nights=3, invitation_document=_letter(graduate_a)
    )
    assert stay.eligibility["eligible"] is True
    assert list(StationNight.objects.filter(station=station).values_list("booked", flat=True)) == [1, 1, 1]
    with pytest.raises(ValidationError):  # one active stay
        services.stay_book(
            applicant=graduate_a, station=station, check_in=tomorrow, nights=1, invitation_document=_letter(graduate_a)
        )
    services.stay_cancel(stay=stay, actor=graduate_a)
    stay.refresh_from_db()
    assert stay.status == StayStatus.CANCELLED
    assert list(StationNight.objects.filter(station=station).values_list("booked", flat=True)) == [0, 0, 0]
    with pytest.raises(ValidationError) as exc:
        services.stay_book(
            applicant=graduate_b, station=station, check_in=tomorrow, nights=16, invitation_document=_letter(graduate_b)
        )
    assert "nights" in str(exc.value) or "晚" in str(exc.value) or "Free nights" in str(exc.value)

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from events import services
from events.constants import RegistrationStatus
from tests.portal.factories import ProfileFactory


@pytest.fixture
def event(city_staff, district_1):
    now = timezone.now()
    return services.event_create(
        actor=city_staff,
        data={
            "kind": "salon",
            "title": "读书夜",
            "description": "d",
            "district": district_1,
            "place": "书房",
            "starts_at": now + dt.timedelta(days=2),
            "ends_at": now + dt.timedelta(days=2, hours=2),
            "capacity": 1,
            "registration_opens": now - dt.timedelta(hours=1),
            "registration_closes": now + dt.timedelta(days=1),
        },
    )


@pytest.mark.django_db
def test_register_waitlist_offer_accept_and_check_in(
    event, city_staff, django_capture_on_commit_callbacks, at_the_event
):
    services.event_publish(event=event, actor=city_staff)
    a, b = ProfileFactory(complete=True).user, ProfileFactory(complete=True).user
    with django_capture_on_commit_callbacks(execute=True):
        first = services.registration_create(event=event, user=a)
    assert first.status == RegistrationStatus.CONFIRMED
    assert any(att[0].endswith(".ics") for m in mail.outbox for att in m.attachments)
    second = services.registration_create(event=event, user=b)
    assert second.status == RegistrationStatus.WAITLISTED
    services.registration_cancel(registration=first, actor=a)
    second.refresh_from_db()
    assert second.status == RegistrationStatus.OFFERED and second.offer_expires_at
    services.registration_accept_offer(registration=second, actor=b)
    second.refresh_from_db()
    assert second.status == RegistrationStatus.CONFIRMED
    at_the_event(event)
    checked = services.registration_check_in(event=event, code=second.check_in_code.lower(), actor=city_staff)
    assert checked.status == RegistrationStatus.ATTENDED

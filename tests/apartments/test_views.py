"""The youth-station pages: the list of stations with tonight's free beds, a station's page
with 30 nights of free beds and, for a signed-in graduate, each booking criterion with ✓/✗;
booking, cancelling, bed alerts, the job-suggestion switch and the follow-up answer. Another
graduate's stay answers 404, anonymous visitors are sent to sign in, no page answers 500,
and the list page runs a constant number of queries."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apartments import services
from apartments.constants import FollowUpOutcome, FollowUpStage, StayStatus
from apartments.models import BedAlert, StationNight, Stay
from portal.models import ApplicantProfile
from tests.apartments.factories import (
    FollowUpFactory,
    StationFactory,
    StayFactory,
    close_night,
    interview_for,
    invitation_letter,
    take_beds,
    tomorrow,
)

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
STATIONS = reverse("apartments:stations")
MY_STAYS = reverse("apartments:my_stays")


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _calendar(response) -> dict[str, int]:
    """Free beds per night as the calendar shows them."""
    return {d: int(n) for d, n in re.findall(r'data-date="([\d-]+)" data-free="(\d+)"', response.content.decode())}


def _criteria(response) -> dict[str, bool]:
    return {
        c: p == "yes" for c, p in re.findall(r'data-code="(\w+)" data-passed="(yes|no)"', response.content.decode())
    }


@pytest.fixture
def client_en(client):
    """Pages in English, so assertions do not depend on the state of the .po files."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def station(district_1):
    return StationFactory(district=district_1, name="洛龙区青年驿站", beds=2)


@pytest.fixture
def station_url(station):
    return reverse("apartments:station", args=[station.pk])


@pytest.fixture
def book_url(station):
    return reverse("apartments:book", args=[station.pk])


@pytest.fixture
def letter_a(graduate_a):
    return invitation_letter(graduate_a)


@pytest.fixture
def stay_a(graduate_a, station, letter_a):
    return services.stay_book(
        applicant=graduate_a, station=station, check_in=tomorrow(), nights=2, invitation_document=letter_a
    )


def _as(client, user):
    client.force_login(user)
    return client


# --- The list of stations ------------------------------------------------------------------------


def test_stations_list_shows_free_beds_tonight(client_en, station, district_2):
    today = timezone.localdate()
    take_beds(station, today, 1)
    take_beds(station, today + dt.timedelta(days=1), 2)  # tomorrow's bookings do not count tonight
    closed = StationFactory(district=district_2, name="涧西区青年驿站", beds=6)
    close_night(closed, today)
    empty = StationFactory(name="西工区青年驿站", beds=3)
    StationFactory(name="停用驿站", inactive=True)

    response = client_en.get(STATIONS)

    assert response.status_code == 200
    free = {s.name: s.free_tonight for s in response.context["stations"]}
    assert free == {"洛龙区青年驿站": 1, "涧西区青年驿站": 0, "西工区青年驿站": 3}
    text = _text(response)
    assert "停用驿站" not in text
    row = re.search(rf'data-station="{empty.pk}".*?</tr>', text).group(0)
    assert 'data-testid="free-tonight">3</strong> / 3' in row
    row = re.search(rf'data-station="{closed.pk}".*?</tr>', text).group(0)
    assert 'data-testid="free-tonight">0</strong> / 6' in row


def test_stations_list_in_chinese_by_default(client, station):
    response = client.get(STATIONS)

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


# --- A station's page ----------------------------------------------------------------------------


def test_station_page_shows_thirty_nights_of_free_beds(client_en, station, station_url, stay_a):
    day3 = tomorrow() + dt.timedelta(days=2)
    close_night(station, day3)

    response = client_en.get(station_url)

    assert response.status_code == 200
    nights = _calendar(response)
    today = timezone.localdate()
    assert len(nights) == 30
    assert min(nights) == today.isoformat()
    assert max(nights) == (today + dt.timedelta(days=29)).isoformat()
    assert nights[today.isoformat()] == 2
    assert nights[tomorrow().isoformat()] == 1
    assert nights[day3.isoformat()] == 0
    assert "Sign in to book" in _text(response)
    assert 'data-testid="criteria"' not in _text(response)


def test_inactive_or_unknown_station_answers_404(client_en, graduate_a):
    inactive = StationFactory(inactive=True)
    _as(client_en, graduate_a)

    assert client_en.get(reverse("apartments:station", args=[inactive.pk])).status_code == 404
    assert client_en.get(reverse("apartments:station", args=[999999])).status_code == 404
    assert client_en.post(reverse("apartments:book", args=[inactive.pk])).status_code == 404


def test_graduate_from_luoyang_sees_the_hukou_criterion_failed(client_en, graduate_a, station_url, letter_a):
    ApplicantProfile.objects.filter(user=graduate_a).update(hukou_city="洛阳市")

    response = _as(client_en, graduate_a).get(station_url)

    criteria = _criteria(response)
    assert criteria["hukou"] is False
    assert criteria["reason"] is True  # the uploaded letter is chosen by default
    assert "Household registration: in Luoyang" in _text(response)
    assert "✗" in _text(response)


def test_graduate_without_interview_or_letter_sees_the_reason_criterion_failed(client_en, graduate_a, station_url):
    response = _as(client_en, graduate_a).get(station_url)

    criteria = _criteria(response)
    assert criteria["reason"] is False
    assert criteria["hukou"] is True and criteria["graduation"] is True and criteria["nights"] is True
    assert "no interview invitation yet" in _text(response)


def test_graduate_with_an_interview_meets_every_criterion(client_en, graduate_a, station_url):
    interview_for(graduate_a, on=tomorrow())

    response = _as(client_en, graduate_a).get(station_url)

    assert set(_criteria(response).values()) == {True}
    assert "interview invitation in the jobs programme" in _text(response)


def test_checking_other_dates_shows_the_criteria_for_them(client_en, graduate_a, station_url, letter_a):
    check_in = tomorrow() + dt.timedelta(days=3)

    response = _as(client_en, graduate_a).get(
        station_url, {"check_in": check_in.isoformat(), "nights": 16, "invitation_document": letter_a.pk}
    )

    assert response.status_code == 200
    assert _criteria(response)["nights"] is False
    assert "16 asked" in _text(response)
    assert f'value="{check_in.isoformat()}"' in _text(response)
    assert "16 nights from" in _text(response)


def test_bad_dates_in_the_address_show_the_field_errors(client_en, graduate_a, station_url):
    response = _as(client_en, graduate_a).get(station_url, {"check_in": "9999-12-31", "nights": "many"})

    assert response.status_code == 200
    assert 'role="alert"' in _text(response)
    assert _criteria(response) == {}


def test_the_date_picker_gets_an_iso_date_in_chinese_too(client, graduate_a, station_url):
    response = _as(client, graduate_a).get(station_url)

    assert f'name="check_in" value="{tomorrow().isoformat()}"' in _text(response)


# --- Booking through the page --------------------------------------------------------------------


def test_book_with_an_invitation_letter_and_land_on_my_stays(client_en, graduate_a, station, book_url, letter_a):
    response = _as(client_en, graduate_a).post(
        book_url,
        {"check_in": tomorrow().isoformat(), "nights": 2, "invitation_document": letter_a.pk, "action": "book"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == MY_STAYS
    stay = Stay.objects.get()
    assert (stay.applicant, stay.station, stay.nights, stay.status) == (graduate_a, station, 2, StayStatus.BOOKED)
    assert stay.invitation_document == letter_a
    assert "Your stay is booked" in " ".join(_messages(response))
    assert station.name in _text(response)
    assert list(StationNight.objects.filter(station=station).values_list("booked", flat=True)) == [1, 1]


def test_a_refused_booking_shows_the_messages_and_keeps_the_chosen_dates(client_en, graduate_a, book_url, station_url):
    ApplicantProfile.objects.filter(user=graduate_a).update(hukou_city="洛阳市")
    check_in = tomorrow() + dt.timedelta(days=4)

    response = _as(client_en, graduate_a).post(
        book_url, {"check_in": check_in.isoformat(), "nights": 3, "action": "book"}, follow=True
    )

    assert response.redirect_chain[-1][0].startswith(station_url + "?")
    messages = " ".join(_messages(response))
    assert "Household registration: in Luoyang" in messages
    assert "no interview invitation yet" in messages
    text = _text(response)
    assert f'name="check_in" value="{check_in.isoformat()}"' in text
    assert 'name="nights" value="3"' in text
    assert "3 nights from" in text
    assert _criteria(response)["hukou"] is False
    assert Stay.objects.count() == 0


def test_a_full_night_is_refused_with_a_message(client_en, graduate_a, graduate_b, district_1, letter_a):
    small = StationFactory(district=district_1, beds=1)
    StayFactory(applicant=graduate_b, station=small, check_in=tomorrow(), nights=1, hold_beds=True)

    response = _as(client_en, graduate_a).post(
        reverse("apartments:book", args=[small.pk]),
        {"check_in": tomorrow().isoformat(), "nights": 2, "invitation_document": letter_a.pk, "action": "book"},
        follow=True,
    )

    assert "No bed is free" in " ".join(_messages(response))
    assert not Stay.objects.filter(applicant=graduate_a).exists()


def test_check_these_dates_books_nothing_and_shows_the_criteria(client_en, graduate_a, book_url, station_url, letter_a):
    check_in = tomorrow() + dt.timedelta(days=2)

    response = _as(client_en, graduate_a).post(
        book_url,
        {"check_in": check_in.isoformat(), "nights": 4, "invitation_document": letter_a.pk, "action": "check"},
        follow=True,
    )

    assert response.redirect_chain[-1][0].startswith(station_url + "?")
    assert "csrfmiddlewaretoken" not in response.redirect_chain[-1][0]
    assert Stay.objects.count() == 0
    assert set(_criteria(response).values()) == {True}
    assert "4 nights from" in _text(response)
    assert _messages(response) == []


@pytest.mark.parametrize(
    "data",
    [
        {"check_in": "", "nights": 2},
        {"check_in": "2020-01-01", "nights": 2},
        {"check_in": "next week", "nights": 2},
        {"nights": 0},
        {"nights": 31},
        {"nights": "two"},
        {"invitation_document": "999999"},
        {},
    ],
)
def test_bad_booking_input_books_nothing_and_shows_the_errors(client_en, graduate_a, book_url, data):
    body = {"check_in": tomorrow().isoformat(), "nights": 2, "action": "book", **data} if data else {}

    response = _as(client_en, graduate_a).post(book_url, body, follow=True)

    assert response.status_code == 200
    assert Stay.objects.count() == 0


def test_another_graduates_letter_is_not_a_choice(client_en, graduate_a, graduate_b, book_url):
    letter_b = invitation_letter(graduate_b)

    response = _as(client_en, graduate_a).post(
        book_url,
        {"check_in": tomorrow().isoformat(), "nights": 2, "invitation_document": letter_b.pk, "action": "book"},
        follow=True,
    )

    assert Stay.objects.count() == 0
    assert 'role="alert"' in _text(response)


def test_booking_page_needs_post(client_en, graduate_a, book_url):
    assert _as(client_en, graduate_a).get(book_url).status_code == 405


# --- My stays: cancel, job suggestions, follow-up -------------------------------------------------


def test_my_stays_lists_my_stays_only(client_en, graduate_a, graduate_b, stay_a):
    other = StayFactory(applicant=graduate_b, station=StationFactory(name="别人的驿站"))

    response = _as(client_en, graduate_a).get(MY_STAYS)

    assert response.status_code == 200
    assert [s.pk for s in response.context["stays"]] == [stay_a.pk]
    assert other.station.name not in _text(response)
    assert "Free nights used or booked: 2" in _text(response)


def test_cancel_frees_the_night_on_the_calendar(client_en, graduate_a, station_url, stay_a):
    _as(client_en, graduate_a)
    assert _calendar(client_en.get(station_url))[tomorrow().isoformat()] == 1

    response = client_en.post(reverse("apartments:cancel", args=[stay_a.pk]), follow=True)

    assert response.redirect_chain[-1][0] == MY_STAYS
    assert "cancelled" in " ".join(_messages(response))
    stay_a.refresh_from_db()
    assert stay_a.status == StayStatus.CANCELLED
    assert _calendar(client_en.get(station_url))[tomorrow().isoformat()] == 2


def test_cancelling_twice_shows_a_message(client_en, graduate_a, stay_a):
    _as(client_en, graduate_a)
    client_en.post(reverse("apartments:cancel", args=[stay_a.pk]))

    response = client_en.post(reverse("apartments:cancel", args=[stay_a.pk]), follow=True)

    assert response.status_code == 200
    assert _messages(response)


def test_job_push_switch(client_en, graduate_a, stay_a):
    _as(client_en, graduate_a)
    assert "Stop daily job suggestions" in _text(client_en.get(MY_STAYS))

    response = client_en.post(reverse("apartments:job_push", args=[stay_a.pk]), {"enabled": "0"}, follow=True)

    stay_a.refresh_from_db()
    assert stay_a.job_push is False
    assert "Send me daily job suggestions" in _text(response)
    client_en.post(reverse("apartments:job_push", args=[stay_a.pk]), {"enabled": "1"})
    stay_a.refresh_from_db()
    assert stay_a.job_push is True


@pytest.fixture
def follow_up_a(graduate_a):
    return FollowUpFactory(stay=StayFactory(applicant=graduate_a, checked_out=True))


def test_answer_the_follow_up_from_my_stays(client_en, graduate_a, follow_up_a):
    _as(client_en, graduate_a)
    page = client_en.get(MY_STAYS)
    assert reverse("apartments:follow_up", args=[follow_up_a.pk]) in _text(page)

    response = client_en.post(
        reverse("apartments:follow_up", args=[follow_up_a.pk]),
        {"outcome": FollowUpOutcome.WORKING_IN_LUOYANG, "employer": "洛阳轴承集团", "note": ""},
        follow=True,
    )

    assert "Thank you for your answer" in " ".join(_messages(response))
    follow_up_a.refresh_from_db()
    assert follow_up_a.outcome == FollowUpOutcome.WORKING_IN_LUOYANG
    assert follow_up_a.employer == "洛阳轴承集团"
    assert reverse("apartments:follow_up", args=[follow_up_a.pk]) not in _text(response)


def test_an_answered_follow_up_cannot_be_answered_again(client_en, graduate_a, follow_up_a, staff_1):
    services.follow_up_answer(
        follow_up=follow_up_a, actor=staff_1, outcome=FollowUpOutcome.LEFT_LUOYANG, note="电话回访"
    )

    response = _as(client_en, graduate_a).post(
        reverse("apartments:follow_up", args=[follow_up_a.pk]), {"outcome": FollowUpOutcome.SEARCHING}, follow=True
    )

    assert "No follow-up" in " ".join(_messages(response))
    follow_up_a.refresh_from_db()
    assert follow_up_a.outcome == FollowUpOutcome.LEFT_LUOYANG
    assert follow_up_a.answered_by == staff_1


def test_an_invalid_follow_up_answer_shows_a_message(client_en, graduate_a, follow_up_a):
    response = _as(client_en, graduate_a).post(
        reverse("apartments:follow_up", args=[follow_up_a.pk]), {"outcome": "rich"}, follow=True
    )

    assert "Choose one of the answers" in " ".join(_messages(response))
    follow_up_a.refresh_from_db()
    assert follow_up_a.outcome == ""


def test_two_open_follow_ups_have_distinct_field_ids(client_en, graduate_a, follow_up_a):
    FollowUpFactory(stay=follow_up_a.stay, stage=FollowUpStage.DAY_30)

    text = _text(_as(client_en, graduate_a).get(MY_STAYS))

    ids = re.findall(r'id="(id_[^"]+)"', text)
    assert len([i for i in ids if i.startswith("id_follow_up_")]) >= 2
    assert len(ids) == len(set(ids))


# --- Bed alerts ----------------------------------------------------------------------------------


def test_bed_alert_subscribe(client_en, graduate_a, station):
    start = tomorrow()

    response = _as(client_en, graduate_a).post(
        reverse("apartments:alert", args=[station.pk]),
        {"start": start.isoformat(), "end": (start + dt.timedelta(days=2)).isoformat()},
        follow=True,
    )

    assert "We will tell you when a bed frees" in " ".join(_messages(response))
    alert = BedAlert.objects.get()
    assert (alert.user, alert.station, alert.start) == (graduate_a, station, start)


@pytest.mark.parametrize(
    ("start", "end"),
    [(5, 2), (-3, 1), (1, 40), ("x", 2)],
)
def test_bed_alert_with_an_invalid_range_shows_a_message(client_en, graduate_a, station, start, end):
    today = timezone.localdate()
    start = "someday" if start == "x" else (today + dt.timedelta(days=start)).isoformat()

    response = _as(client_en, graduate_a).post(
        reverse("apartments:alert", args=[station.pk]),
        {"start": start, "end": (today + dt.timedelta(days=end)).isoformat()},
        follow=True,
    )

    assert response.status_code == 200
    assert _messages(response)
    assert BedAlert.objects.count() == 0


# --- Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "my_stays"),
        ("post", "book"),
        ("post", "alert"),
        ("post", "cancel"),
        ("post", "job_push"),
        ("post", "follow_up"),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client_en, station, method, name):
    url = MY_STAYS if name == "my_stays" else reverse(f"apartments:{name}", args=[station.pk])

    response = getattr(client_en, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert Stay.objects.count() == 0 and BedAlert.objects.count() == 0


def test_another_graduates_stay_answers_404(client_en, graduate_b, stay_a):
    follow_up = FollowUpFactory(stay=StayFactory(applicant=stay_a.applicant, checked_out=True))
    _as(client_en, graduate_b)

    assert client_en.post(reverse("apartments:cancel", args=[stay_a.pk])).status_code == 404
    assert client_en.post(reverse("apartments:job_push", args=[stay_a.pk]), {"enabled": "0"}).status_code == 404
    response = client_en.post(reverse("apartments:follow_up", args=[follow_up.pk]), {"outcome": "searching"})
    assert response.status_code == 404
    stay_a.refresh_from_db()
    follow_up.refresh_from_db()
    assert (stay_a.status, stay_a.job_push, follow_up.outcome) == (StayStatus.BOOKED, True, "")


@pytest.mark.parametrize("role", ["anonymous", "graduate_a", "graduate_b", "staff_1", "staff_2", "city_staff"])
def test_every_page_answers_for_every_role(client_en, request, station, stay_a, role):
    FollowUpFactory(stay=StayFactory(applicant=stay_a.applicant, checked_out=True))
    if role != "anonymous":
        _as(client_en, request.getfixturevalue(role))
    pages = [STATIONS, reverse("apartments:station", args=[station.pk]), MY_STAYS]

    for url in pages:
        response = client_en.get(url)
        expected = 302 if role == "anonymous" and url == MY_STAYS else 200
        assert response.status_code == expected, (url, role)
    with_dates = client_en.get(pages[1], {"check_in": tomorrow().isoformat(), "nights": 3})
    assert with_dates.status_code == 200


# --- Query budgets -----------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["anonymous", "graduate_a"])
def test_stations_list_queries_do_not_grow_with_the_stations(client_en, request, district_1, district_2, role):
    if role != "anonymous":
        _as(client_en, request.getfixturevalue(role))
    today = timezone.localdate()
    for i in range(3):
        take_beds(StationFactory(district=district_1 if i % 2 else district_2), today, 1)
    client_en.get(STATIONS)
    few = _count(client_en, STATIONS)
    for i in range(27):
        station = StationFactory(district=district_1 if i % 2 else district_2)
        take_beds(station, today, 1)
        if i % 4 == 0:
            close_night(station, today + dt.timedelta(days=1))

    many = _count(client_en, STATIONS)

    assert few == many
    assert len(re.findall(r"data-station=", _text(client_en.get(STATIONS)))) == 30


def test_my_stays_queries_do_not_grow_with_the_stays(client_en, graduate_a):
    _as(client_en, graduate_a)
    for _ in range(3):
        FollowUpFactory(stay=StayFactory(applicant=graduate_a, checked_out=True))
    client_en.get(MY_STAYS)
    few = _count(client_en, MY_STAYS)
    for _ in range(10):
        FollowUpFactory(stay=StayFactory(applicant=graduate_a, checked_out=True))

    many = _count(client_en, MY_STAYS)

    assert few == many


def test_station_photo_is_public_and_404_without_one(client, district_1, city_staff):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from tests.apartments.factories import StationFactory

    station = StationFactory(district=district_1)
    assert client.get(f"/stations/{station.pk}/photo/").status_code == 404
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="JPEG")
    station.photo.save("p.jpg", SimpleUploadedFile("p.jpg", buffer.getvalue()), save=True)
    response = client.get(f"/stations/{station.pk}/photo/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert f"/stations/{station.pk}/photo/" in client.get(f"/stations/{station.pk}/").content.decode()

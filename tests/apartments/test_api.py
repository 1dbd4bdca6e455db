"""The youth-station API under /api/v1/: stations with tonight's free beds and a calendar of
free beds for anyone; the eligibility preview, booking, cancelling, the job-suggestion
switch and the follow-up answer for the signed-in graduate's own stays. Bad input answers
400 (never 500), another graduate's stay 404, anonymous callers 401; every path is in the
OpenAPI schema; the lists run a constant number of queries."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apartments import services
from apartments.constants import FollowUpOutcome, FollowUpStage, StayStatus
from apartments.models import FollowUp, StationNight, Stay
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

STATIONS = "/api/v1/stations/"
STAYS = "/api/v1/station-stays/"


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client


def _booked(station) -> list[int]:
    return list(StationNight.objects.filter(station=station).order_by("date").values_list("booked", flat=True))


@pytest.fixture
def station(district_1):
    return StationFactory(district=district_1, name="洛龙区青年驿站", beds=2)


@pytest.fixture
def letter_a(graduate_a):
    return invitation_letter(graduate_a)


@pytest.fixture
def stay_a(graduate_a, station, letter_a):
    return services.stay_book(
        applicant=graduate_a, station=station, check_in=tomorrow(), nights=2, invitation_document=letter_a
    )


def _book(client, station, *, check_in=None, nights=2, **extra):
    body = {"station": station.pk, "check_in": (check_in or tomorrow()).isoformat(), "nights": nights, **extra}
    return client.post(STAYS, body, format="json")


# --- Stations -----------------------------------------------------------------------------------


def test_stations_list_is_public_and_shows_free_beds_tonight(station, district_2):
    today = timezone.localdate()
    full = StationFactory(district=district_2, name="涧西区青年驿站", beds=3)
    take_beds(full, today, 1, guests=3)
    closed = StationFactory(name="西工区青年驿站", beds=5)
    close_night(closed, today)
    take_beds(station, today, 1)
    StationFactory(name="停用驿站", inactive=True)

    response = client_for().get(STATIONS)

    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {"洛龙区青年驿站", "涧西区青年驿站", "西工区青年驿站"}
    assert rows["洛龙区青年驿站"]["free_tonight"] == 1
    assert rows["洛龙区青年驿站"]["beds"] == 2
    assert rows["洛龙区青年驿站"]["district"] == "luolong"
    assert rows["涧西区青年驿站"]["free_tonight"] == 0
    assert rows["西工区青年驿站"]["free_tonight"] == 0
    assert rows["洛龙区青年驿站"]["kind"] == "youth_apartment"


def test_station_detail_with_free_beds_tonight(station):
    take_beds(station, timezone.localdate(), 1)

    response = client_for().get(f"{STATIONS}{station.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == station.pk
    assert body["free_tonight"] == 1
    assert body["contact_phone"] == station.contact_phone


def test_inactive_or_unknown_station_answers_404(station):
    inactive = StationFactory(inactive=True)

    assert client_for().get(f"{STATIONS}{inactive.pk}/").status_code == 404
    assert client_for().get(f"{STATIONS}{inactive.pk}/availability/").status_code == 404
    assert client_for().get(f"{STATIONS}999999/").status_code == 404
    assert client_for().get(f"{STATIONS}abc/").status_code == 404


def test_availability_defaults_to_thirty_nights_from_today(station):
    response = client_for().get(f"{STATIONS}{station.pk}/availability/")

    assert response.status_code == 200
    body = response.json()
    today = timezone.localdate()
    assert body["station"] == station.pk
    assert body["start"] == today.isoformat()
    assert body["end"] == (today + dt.timedelta(days=29)).isoformat()
    assert len(body["nights"]) == 30
    assert all(n["free"] == 2 and n["beds"] == 2 and not n["closed"] for n in body["nights"])


def test_availability_counts_bookings_and_closures_per_night(station, stay_a):
    day1, day2, day3 = (tomorrow() + dt.timedelta(days=i) for i in range(3))
    close_night(station, day3)
    url = f"{STATIONS}{station.pk}/availability/?from={day1}&to={day3}"

    response = client_for().get(url)

    assert response.status_code == 200
    nights = response.json()["nights"]
    assert [(n["date"], n["free"], n["closed"]) for n in nights] == [
        (day1.isoformat(), 1, False),
        (day2.isoformat(), 1, False),
        (day3.isoformat(), 0, True),
    ]


def test_availability_allows_sixty_nights_at_most(station):
    start = timezone.localdate()

    ok = client_for().get(f"{STATIONS}{station.pk}/availability/", {"from": start, "to": start + dt.timedelta(days=59)})
    too_many = client_for().get(
        f"{STATIONS}{station.pk}/availability/", {"from": start, "to": start + dt.timedelta(days=60)}
    )

    assert ok.status_code == 200
    assert len(ok.json()["nights"]) == 60
    assert too_many.status_code == 400
    assert "at most 60 nights" in too_many.json()["to"][0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "tomorrow"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "1999-01-01"}, "from"),
        ({"from": "9999-12-31", "to": "9999-12-31"}, "from"),
        ({"from": "+1", "to": ""}, "from"),
        ("reversed", "to"),
    ],
)
def test_availability_with_bad_dates_answers_400_with_a_message(station, query, field):
    if query == "reversed":
        query = {"from": tomorrow() + dt.timedelta(days=5), "to": tomorrow()}

    response = client_for().get(f"{STATIONS}{station.pk}/availability/", query)

    assert response.status_code == 400
    assert response.json()[field][0]


# --- Eligibility preview --------------------------------------------------------------------------


def test_eligibility_preview_needs_sign_in(station):
    response = client_for().get(f"{STATIONS}{station.pk}/eligibility/", {"check_in": tomorrow(), "nights": 2})

    assert response.status_code == 401


def test_eligibility_preview_lists_each_criterion(graduate_a, station, letter_a):
    url = f"{STATIONS}{station.pk}/eligibility/"
    api = client_for(graduate_a)

    without = api.get(url, {"check_in": tomorrow(), "nights": 2}).json()
    with_letter = api.get(url, {"check_in": tomorrow(), "nights": 2, "invitation_document": letter_a.pk}).json()

    assert without["eligible"] is False
    assert {c["code"]: c["passed"] for c in without["criteria"]}["reason"] is False
    assert {c["code"] for c in without["criteria"]} >= {"hukou", "graduation", "reason", "nights", "advance"}
    assert with_letter["eligible"] is True
    assert with_letter["parameters"]["max_nights"] == 15
    assert Stay.objects.count() == 0


def test_eligibility_preview_refuses_another_graduates_letter(graduate_a, graduate_b, station):
    letter_b = invitation_letter(graduate_b)

    response = client_for(graduate_a).get(
        f"{STATIONS}{station.pk}/eligibility/",
        {"check_in": tomorrow(), "nights": 2, "invitation_document": letter_b.pk},
    )

    assert response.status_code == 400
    assert "invitation_document" in response.json()


def test_eligibility_preview_with_bad_input_answers_400(graduate_a, station):
    response = client_for(graduate_a).get(f"{STATIONS}{station.pk}/eligibility/", {"check_in": "soon", "nights": "-1"})

    assert response.status_code == 400
    assert set(response.json()) == {"check_in", "nights"}


# --- Booking -----------------------------------------------------------------------------------


def test_book_with_an_invitation_letter(graduate_a, station, letter_a):
    response = _book(client_for(graduate_a), station, invitation_document=letter_a.pk)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == StayStatus.BOOKED
    assert body["station"]["id"] == station.pk
    assert body["check_in"] == tomorrow().isoformat()
    assert body["check_out"] == (tomorrow() + dt.timedelta(days=2)).isoformat()
    assert body["invitation_document"] == letter_a.pk
    assert body["interview"] is None
    assert body["eligibility"]["eligible"] is True
    assert {c["code"] for c in body["eligibility"]["criteria"]} >= {"hukou", "reason"}
    assert body["follow_ups"] == []
    assert _booked(station) == [1, 1]
    assert Stay.objects.get().applicant == graduate_a


def test_book_with_an_interview_invitation_from_the_jobs_programme(graduate_a, station):
    interview = interview_for(graduate_a, on=tomorrow() + dt.timedelta(days=1))

    response = _book(client_for(graduate_a), station)

    assert response.status_code == 201, response.content
    assert response.json()["interview"] == interview.pk
    criteria = {c["code"]: c for c in response.json()["eligibility"]["criteria"]}
    assert criteria["reason"]["passed"] is True
    assert "interview" in criteria["reason"]["message"]


def test_an_ineligible_booking_lists_the_failed_criteria_with_codes(graduate_a, station):
    ApplicantProfile.objects.filter(user=graduate_a).update(hukou_city="洛阳市")
    graduate_a.refresh_from_db()
    graduate_a.profile.refresh_from_db()

    response = _book(client_for(graduate_a), station)

    assert response.status_code == 400
    body = response.json()
    assert {c["code"] for c in body["failed_criteria"]} == {"hukou", "reason"}
    assert all(set(c) == {"code", "message"} and c["message"] for c in body["failed_criteria"])
    assert any("Household registration" in m for m in body["non_field_errors"])
    assert Stay.objects.count() == 0
    assert _booked(station) == []


def test_more_nights_than_the_allowance_is_refused(graduate_a, station, letter_a):
    response = _book(client_for(graduate_a), station, nights=16, invitation_document=letter_a.pk)

    assert response.status_code == 400
    assert [c["code"] for c in response.json()["failed_criteria"]] == ["nights"]


def test_a_second_active_stay_is_refused(graduate_a, station, stay_a, letter_a):
    other = StationFactory()

    response = _book(
        client_for(graduate_a),
        other,
        check_in=tomorrow() + dt.timedelta(days=5),
        nights=1,
        invitation_document=letter_a.pk,
    )

    assert response.status_code == 400
    assert [c["code"] for c in response.json()["failed_criteria"]] == ["one_active_stay"]


def test_a_full_night_is_refused_with_its_code(graduate_a, graduate_b, district_1, letter_a):
    small = StationFactory(district=district_1, beds=1)
    services.stay_book(
        applicant=graduate_b,
        station=small,
        check_in=tomorrow() + dt.timedelta(days=1),
        nights=1,
        invitation_document=invitation_letter(graduate_b),
    )

    response = _book(client_for(graduate_a), small, nights=3, invitation_document=letter_a.pk)

    assert response.status_code == 400
    body = response.json()
    assert [c["code"] for c in body["failed_criteria"]] == ["full"]
    assert "No bed is free" in body["non_field_errors"][0]
    assert _booked(small) == [1]  # nothing taken: the night rows made for the attempt rolled back


def test_a_closed_night_is_refused(graduate_a, station, letter_a):
    close_night(station, tomorrow())

    response = _book(client_for(graduate_a), station, invitation_document=letter_a.pk)

    assert response.status_code == 400
    assert [c["code"] for c in response.json()["failed_criteria"]] == ["closed"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"check_in": "tomorrow", "nights": 2},
        {"nights": 0},
        {"nights": "two"},
        {"nights": 31},
        {"check_in": "1999-01-01"},
        {"check_in": "9999-12-31"},
        {"check_in": "+60days"},
        {"invitation_document": "x"},
        {"invitation_document": 999999},
        {"station": 999999},
        {"station": "x"},
    ],
)
def test_bad_booking_input_answers_400(graduate_a, station, letter_a, body):
    good = {"station": station.pk, "check_in": tomorrow().isoformat(), "nights": 2, "invitation_document": letter_a.pk}

    response = client_for(graduate_a).post(STAYS, {**good, **body} if body else {}, format="json")

    assert response.status_code == 400
    assert Stay.objects.count() == 0


def test_booking_more_than_sixty_days_ahead_is_refused(graduate_a, station, letter_a):
    response = _book(
        client_for(graduate_a),
        station,
        check_in=timezone.localdate() + dt.timedelta(days=61),
        invitation_document=letter_a.pk,
    )

    assert response.status_code == 400
    assert "check_in" in response.json()


def test_an_inactive_station_cannot_be_booked(graduate_a, letter_a):
    closed = StationFactory(inactive=True)

    response = _book(client_for(graduate_a), closed, invitation_document=letter_a.pk)

    assert response.status_code == 400
    assert "station" in response.json()


def test_another_graduates_letter_cannot_be_used(graduate_a, graduate_b, station):
    letter_b = invitation_letter(graduate_b)

    response = _book(client_for(graduate_a), station, invitation_document=letter_b.pk)

    assert response.status_code == 400
    assert "invitation_document" in response.json()
    assert Stay.objects.count() == 0


def test_booking_through_a_form_post_works_too(graduate_a, station, letter_a):
    body = {"station": station.pk, "check_in": tomorrow().isoformat(), "nights": 1, "invitation_document": letter_a.pk}

    response = client_for(graduate_a).post(STAYS, body)

    assert response.status_code == 201


# --- My stays ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", STAYS),
        ("post", STAYS),
        ("get", f"{STAYS}1/"),
        ("post", f"{STAYS}1/cancel/"),
        ("post", f"{STAYS}1/follow-up/"),
        ("post", f"{STAYS}1/job-push/"),
    ],
)
def test_stays_need_sign_in(method, path):
    response = getattr(client_for(), method)(path)

    assert response.status_code == 401


def test_my_stays_lists_only_mine(graduate_a, graduate_b, stay_a):
    StayFactory(applicant=graduate_b)
    older = StayFactory(applicant=graduate_a, checked_out=True)

    response = client_for(graduate_a).get(STAYS)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [stay_a.pk, older.pk]


def test_my_stays_filter_by_status(graduate_a, stay_a):
    older = StayFactory(applicant=graduate_a, checked_out=True)

    response = client_for(graduate_a).get(STAYS, {"status": "checked_out"})
    bad = client_for(graduate_a).get(STAYS, {"status": "sleeping"})

    assert [row["id"] for row in response.json()["results"]] == [older.pk]
    assert bad.status_code == 400


def test_stay_detail_shows_the_stored_eligibility(graduate_a, stay_a):
    response = client_for(graduate_a).get(f"{STAYS}{stay_a.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["eligibility"]["eligible"] is True
    assert body["eligibility"]["parameters"]["max_nights"] == 15
    assert body["nights"] == 2
    assert body["job_push"] is True


def test_another_graduates_stay_answers_404(graduate_b, stay_a):
    api = client_for(graduate_b)
    FollowUpFactory(stay=stay_a)

    assert api.get(f"{STAYS}{stay_a.pk}/").status_code == 404
    assert api.post(f"{STAYS}{stay_a.pk}/cancel/").status_code == 404
    assert api.post(f"{STAYS}{stay_a.pk}/job-push/", {"enabled": False}, format="json").status_code == 404
    assert api.post(f"{STAYS}{stay_a.pk}/follow-up/", {"outcome": "searching"}, format="json").status_code == 404
    stay_a.refresh_from_db()
    assert stay_a.status == StayStatus.BOOKED and stay_a.job_push is True
    assert not FollowUp.objects.exclude(outcome="").exists()


def test_staff_see_no_stays_of_their_own_here(staff_1, stay_a):
    response = client_for(staff_1).get(f"{STAYS}{stay_a.pk}/")

    assert response.status_code == 404


# --- Cancel ----------------------------------------------------------------------------------


def test_cancel_frees_the_nights_at_once(graduate_a, station, stay_a):
    api = client_for(graduate_a)

    response = api.post(f"{STAYS}{stay_a.pk}/cancel/", {"reason": "计划有变"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == StayStatus.CANCELLED
    assert response.json()["status_reason"] == "计划有变"
    assert _booked(station) == [0, 0]
    nights = client_for().get(f"{STATIONS}{station.pk}/availability/", {"from": tomorrow(), "to": tomorrow()})
    assert nights.json()["nights"][0]["free"] == 2


def test_cancel_twice_answers_400(graduate_a, stay_a):
    api = client_for(graduate_a)
    api.post(f"{STAYS}{stay_a.pk}/cancel/")

    response = api.post(f"{STAYS}{stay_a.pk}/cancel/")

    assert response.status_code == 400
    assert response.json()["non_field_errors"]


def test_cancel_with_too_long_a_reason_answers_400(graduate_a, stay_a):
    response = client_for(graduate_a).post(f"{STAYS}{stay_a.pk}/cancel/", {"reason": "x" * 501}, format="json")

    assert response.status_code == 400
    stay_a.refresh_from_db()
    assert stay_a.status == StayStatus.BOOKED


# --- Job suggestions ------------------------------------------------------------------------------


def test_job_push_switch(graduate_a, stay_a):
    api = client_for(graduate_a)

    off = api.post(f"{STAYS}{stay_a.pk}/job-push/", {"enabled": False}, format="json")
    on = api.post(f"{STAYS}{stay_a.pk}/job-push/", {"enabled": True}, format="json")
    bad = api.post(f"{STAYS}{stay_a.pk}/job-push/", {"enabled": "maybe"}, format="json")

    assert off.status_code == 200 and off.json()["job_push"] is False
    assert on.status_code == 200 and on.json()["job_push"] is True
    assert bad.status_code == 400


# --- Follow-up ----------------------------------------------------------------------------------


@pytest.fixture
def past_stay(graduate_a):
    return StayFactory(applicant=graduate_a, checked_out=True)


def test_answer_the_open_follow_up(graduate_a, past_stay):
    follow_up = FollowUpFactory(stay=past_stay)

    response = client_for(graduate_a).post(
        f"{STAYS}{past_stay.pk}/follow-up/",
        {"outcome": FollowUpOutcome.WORKING_IN_LUOYANG, "employer": "洛阳轴承集团", "note": "已入职"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["id"] == follow_up.pk
    assert response.json()["waiting_for_answer"] is False
    follow_up.refresh_from_db()
    assert follow_up.outcome == FollowUpOutcome.WORKING_IN_LUOYANG
    assert follow_up.employer == "洛阳轴承集团"
    assert follow_up.answered_by == graduate_a
    stay = client_for(graduate_a).get(f"{STAYS}{past_stay.pk}/").json()
    assert stay["follow_ups"][0]["outcome"] == FollowUpOutcome.WORKING_IN_LUOYANG


def test_the_earliest_open_follow_up_is_answered_unless_a_stage_is_given(graduate_a, past_stay):
    day7 = FollowUpFactory(
        stay=past_stay, stage=FollowUpStage.DAY_7, due_on=timezone.localdate() - dt.timedelta(days=23)
    )
    day30 = FollowUpFactory(stay=past_stay, stage=FollowUpStage.DAY_30, due_on=timezone.localdate())
    api = client_for(graduate_a)

    by_stage = api.post(f"{STAYS}{past_stay.pk}/follow-up/", {"stage": "day30", "outcome": "searching"}, format="json")
    earliest = api.post(f"{STAYS}{past_stay.pk}/follow-up/", {"outcome": "left_luoyang"}, format="json")

    assert by_stage.json()["id"] == day30.pk
    assert earliest.json()["id"] == day7.pk
    day7.refresh_from_db()
    assert day7.outcome == FollowUpOutcome.LEFT_LUOYANG


@pytest.mark.parametrize("trait", ["not_sent", "answered"])
def test_no_follow_up_waiting_answers_400(graduate_a, past_stay, trait):
    FollowUpFactory(stay=past_stay, **{trait: True})

    response = client_for(graduate_a).post(f"{STAYS}{past_stay.pk}/follow-up/", {"outcome": "searching"}, format="json")

    assert response.status_code == 400
    assert "No follow-up" in response.json()["non_field_errors"][0]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"outcome": "rich"},
        {"outcome": "searching", "employer": "x" * 121},
        {"outcome": "searching", "stage": "day99"},
    ],
)
def test_bad_follow_up_answers_400(graduate_a, past_stay, body):
    follow_up = FollowUpFactory(stay=past_stay)

    response = client_for(graduate_a).post(f"{STAYS}{past_stay.pk}/follow-up/", body, format="json")

    assert response.status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.outcome == ""


# --- Schema and query budgets --------------------------------------------------------------------


def test_the_openapi_schema_includes_the_station_paths(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        "/api/v1/stations/",
        "/api/v1/stations/{id}/",
        "/api/v1/stations/{id}/availability/",
        "/api/v1/stations/{id}/eligibility/",
        "/api/v1/station-stays/",
        "/api/v1/station-stays/{id}/",
        "/api/v1/station-stays/{id}/cancel/",
        "/api/v1/station-stays/{id}/follow-up/",
        "/api/v1/station-stays/{id}/job-push/",
    ):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/v1/stations/{id}/availability/"]["get"]["parameters"]}
    assert {"from", "to"} <= params
    assert "post" in paths["/api/v1/station-stays/"]


def _count(api, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_stations_list_queries_do_not_grow_with_the_stations(district_1, district_2):
    api = client_for()
    today = timezone.localdate()
    for i in range(3):
        take_beds(StationFactory(district=district_1 if i % 2 else district_2), today, 1)
    few = _count(api, STATIONS)
    for i in range(27):
        station = StationFactory(district=district_1 if i % 2 else district_2)
        take_beds(station, today, 1)
        if i % 5 == 0:
            close_night(station, today)

    many = _count(api, STATIONS)

    assert few == many
    assert many <= 4
    assert len(api.get(STATIONS).json()["results"]) == 20


def test_my_stays_queries_do_not_grow_with_the_stays(graduate_a):
    api = client_for(graduate_a)
    for _ in range(3):
        FollowUpFactory(stay=StayFactory(applicant=graduate_a, checked_out=True))
    few = _count(api, STAYS)
    for _ in range(12):
        stay = StayFactory(applicant=graduate_a, checked_out=True)
        FollowUpFactory(stay=stay)
        FollowUpFactory(stay=stay, stage=FollowUpStage.DAY_30)

    many = _count(api, STAYS)

    assert few == many


# --- found by the API fuzz test (tests/portal/test_api_fuzz.py) ------------------------------------


def _openapi(client) -> dict:
    return json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)


def _allows_blank(schema: dict, component: str, field: str) -> bool:
    prop = schema["components"]["schemas"][component]["properties"][field]
    options = [schema["components"]["schemas"][o["$ref"].rsplit("/", 1)[1]] for o in prop.get("oneOf", [])] or [prop]
    return any("" in option.get("enum", []) for option in options)


def test_a_stay_booked_with_a_letter_has_no_interview_and_the_schema_allows_null(client, stay_a, graduate_a):
    stay_props = _openapi(client)["components"]["schemas"]["Stay"]["properties"]

    response = client_for(graduate_a).get(f"{STAYS}{stay_a.pk}/")

    assert response.status_code == 200 and response.json()["interview"] is None
    assert stay_props["interview"]["nullable"] is True and stay_props["invitation_document"]["nullable"] is True


def test_a_follow_up_not_answered_has_a_blank_outcome_and_the_schema_allows_it(client, graduate_a, station):
    stay = StayFactory(applicant=graduate_a, station=station, checked_out=True)
    FollowUpFactory(stay=stay)
    schema = _openapi(client)

    response = client_for(graduate_a).get(f"{STAYS}{stay.pk}/")

    assert response.status_code == 200
    assert [f["outcome"] for f in response.json()["follow_ups"]] == [""]
    assert _allows_blank(schema, "FollowUp", "outcome")


def test_a_malformed_booking_answers_the_field_errors_the_schema_allows(client, graduate_a, station):
    refused = _openapi(client)["components"]["schemas"]["BookingRefused"]

    response = client_for(graduate_a).post(STAYS, {"station": station.pk, "nights": 2}, format="json")

    assert response.status_code == 400 and set(response.json()) == {"check_in"}
    assert not refused.get("required")

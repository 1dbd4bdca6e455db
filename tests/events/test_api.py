"""The events API under /api/v1/: published events with their free places for anyone;
registering (refusals list the failed criteria by code), the signed-in user's
registrations with their place on the waiting list, cancelling and accepting an offered
place; check-in by code for organisers only. Bad input answers 400 (never 500), another
user's registration 404, anonymous callers 401; every path is in the OpenAPI schema; the
lists run a constant number of queries."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from events import services
from events.constants import EventKind, EventStatus, RegistrationStatus
from events.models import Event, Registration
from portal import services as portal_services
from portal.models import Organisation
from tests.portal.factories import ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
MINE = "/api/v1/event-registrations/"


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client


def _event_data(district, **overrides) -> dict:
    now = timezone.now()
    data = {
        "kind": EventKind.SALON,
        "title": "河洛书苑读书夜",
        "description": "共读《洛阳伽蓝记》。",
        "district": district,
        "place": "洛阳市河洛书苑",
        "starts_at": now + dt.timedelta(days=3),
        "ends_at": now + dt.timedelta(days=3, hours=2),
        "capacity": 2,
        "registration_opens": now - dt.timedelta(hours=1),
        "registration_closes": now + dt.timedelta(days=2),
    }
    data.update(overrides)
    return data


def make_event(actor, district, *, publish=True, **overrides) -> Event:
    event = services.event_create(actor=actor, data=_event_data(district, **overrides))
    if publish:
        services.event_publish(event=event, actor=actor)
        event.refresh_from_db()
    return event


def graduate() -> object:
    return ProfileFactory(complete=True).user


@pytest.fixture
def event_1(city_staff, district_1):
    return make_event(city_staff, district_1, title="洛龙读书夜")


@pytest.fixture
def event_2(city_staff, district_2):
    return make_event(city_staff, district_2, title="涧西青年论坛", kind=EventKind.FORUM, capacity=5)


@pytest.fixture
def reg_a(event_1, graduate_a):
    return services.registration_create(event=event_1, user=graduate_a)


@pytest.fixture
def org_event(employer_x, city_staff, district_1):
    """A published recruitment fair organised by employer X's verified organisation."""
    org = Organisation.objects.get(memberships__user=employer_x)
    portal_services.organisation_verify(organisation=org, actor=city_staff)
    org.refresh_from_db()
    event = services.event_create(
        actor=employer_x, organiser=org, data=_event_data(district_1, kind=EventKind.RECRUITMENT, title="校园招聘会")
    )
    services.event_submit(event=event, actor=employer_x)
    services.event_publish(event=event, actor=city_staff)
    event.refresh_from_db()
    return event


# --- Events ---------------------------------------------------------------------------------------


def test_the_event_list_is_public_with_free_places(event_1, event_2, city_staff, district_1, graduate_a):
    make_event(city_staff, district_1, publish=False, title="草稿")
    services.registration_create(event=event_1, user=graduate_a)

    response = client_for().get(EVENTS)

    assert response.status_code == 200
    rows = {row["title"]: row for row in response.json()["results"]}
    assert set(rows) == {"洛龙读书夜", "涧西青年论坛"}
    assert rows["洛龙读书夜"]["free_places"] == 1
    assert rows["洛龙读书夜"]["district"] == "luolong"
    assert rows["涧西青年论坛"]["free_places"] == 5


def test_the_event_list_filters(event_1, event_2, city_staff, district_1, graduate_a, graduate_b):
    later = make_event(
        city_staff,
        district_1,
        title="下月论坛",
        kind=EventKind.FORUM,
        starts_at=timezone.now() + dt.timedelta(days=40),
        ends_at=timezone.now() + dt.timedelta(days=40, hours=2),
    )
    services.registration_create(event=event_1, user=graduate_a)
    services.registration_create(event=event_1, user=graduate_b)  # now full
    client = client_for()

    def titles(**params):
        response = client.get(EVENTS, params)
        assert response.status_code == 200, response.json()
        return {row["title"] for row in response.json()["results"]}

    assert titles(kind="forum") == {"涧西青年论坛", "下月论坛"}
    assert titles(district="luolong") == {"洛龙读书夜", "下月论坛"}
    in_a_month = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    assert titles(date_from=in_a_month) == {later.title}
    assert titles(date_to=in_a_month) == {"洛龙读书夜", "涧西青年论坛"}
    assert titles(free_only="true") == {"涧西青年论坛", "下月论坛"}
    assert titles(kind="forum", district="luolong", free_only="true") == {"下月论坛"}


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "party"},
        {"district": "nowhere"},
        {"date_from": "2026-13-40"},
        {"date_from": "2026-06-10", "date_to": "2026-06-01"},
        {"free_only": "maybe"},
    ],
)
def test_bad_filters_answer_400(event_1, params):
    response = client_for().get(EVENTS, params)

    assert response.status_code == 400
    assert set(response.json()) & set(params)


def test_event_detail_with_free_places(event_1, reg_a):
    response = client_for().get(f"{EVENTS}{event_1.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["free_places"], body["capacity"], body["status"]) == (event_1.pk, 1, 2, "published")
    assert body["where"] == "洛阳市河洛书苑"


def test_drafts_are_not_found_and_cancelled_events_show_as_cancelled(city_staff, district_1, event_1):
    draft = make_event(city_staff, district_1, publish=False)
    services.event_cancel(event=event_1, actor=city_staff, reason="暴雨")

    assert client_for().get(f"{EVENTS}{draft.pk}/").status_code == 404
    assert client_for().get(f"{EVENTS}{event_1.pk}/").json()["status"] == "cancelled"
    assert client_for().get(f"{EVENTS}999999/").status_code == 404


# --- Registering -----------------------------------------------------------------------------------


def test_anonymous_callers_get_401(event_1, reg_a):
    client = client_for()

    assert client.post(f"{EVENTS}{event_1.pk}/register/", {}, format="json").status_code == 401
    assert client.post(f"{EVENTS}{event_1.pk}/check-in/", {"code": "X"}, format="json").status_code == 401
    assert client.get(MINE).status_code == 401
    assert client.get(f"{MINE}{reg_a.pk}/").status_code == 401
    assert client.post(f"{MINE}{reg_a.pk}/cancel/").status_code == 401
    assert client.post(f"{MINE}{reg_a.pk}/accept/").status_code == 401


def test_register_confirmed_with_a_ticket(event_1, graduate_a):
    response = client_for(graduate_a).post(f"{EVENTS}{event_1.pk}/register/", {}, format="json")

    assert response.status_code == 201
    body = response.json()
    registration = Registration.objects.get(pk=body["id"])
    assert body["status"] == "confirmed"
    assert body["check_in_code"] == registration.check_in_code
    assert body["waitlist_position"] is None
    assert body["event"]["id"] == event_1.pk


def test_register_when_full_joins_the_waiting_list(event_1, graduate_a, graduate_b):
    services.registration_create(event=event_1, user=graduate_a)
    services.registration_create(event=event_1, user=graduate_b)

    first = client_for(graduate()).post(f"{EVENTS}{event_1.pk}/register/", {}, format="json").json()
    second = client_for(graduate()).post(f"{EVENTS}{event_1.pk}/register/", {}, format="json").json()

    assert (first["status"], first["waitlist_position"], first["check_in_code"]) == ("waitlisted", 1, None)
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 2)


def test_an_event_needing_approval_holds_the_registration(city_staff, district_1, graduate_a):
    event = make_event(city_staff, district_1, kind=EventKind.SOCIAL, requires_approval=True)

    response = client_for(graduate_a).post(f"{EVENTS}{event.pk}/register/", {}, format="json")

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["check_in_code"]) == ("pending", None)


def test_register_with_answers(city_staff, district_1, graduate_a):
    event = make_event(
        city_staff,
        district_1,
        questions=[
            {"label": "专业", "type": "text", "required": True},
            {"label": "人数", "type": "number"},
            {"label": "场次", "type": "choice", "choices": ["上午", "下午"], "required": True},
        ],
    )
    url = f"{EVENTS}{event.pk}/register/"
    client = client_for(graduate_a)

    missing = client.post(url, {"answers": {"1": "abc", "2": "晚上"}}, format="json")
    assert missing.status_code == 400
    assert len(missing.json()["answers"]) == 3

    response = client.post(url, {"answers": {"0": "机械工程", "1": 3, "2": "下午"}}, format="json")
    assert response.status_code == 201
    assert response.json()["answers"] == {"0": "机械工程", "1": "3", "2": "下午"}


@pytest.mark.parametrize("body", [{"answers": ["a"]}, {"answers": "x"}, {"answers": {"0": "x" * 501}}, [1, 2]])
def test_malformed_registration_bodies_answer_400(event_1, graduate_a, body):
    response = client_for(graduate_a).post(f"{EVENTS}{event_1.pk}/register/", body, format="json")

    assert response.status_code == 400
    assert not Registration.objects.exists()


def test_an_ineligible_registration_lists_the_failed_criteria(city_staff, district_1):
    event = make_event(city_staff, district_1, min_age=18, max_age=35, graduates_only=True)
    nobody = UserFactory()  # no profile: no birth date, no education

    response = client_for(nobody).post(f"{EVENTS}{event.pk}/register/", {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert {c["code"] for c in body["failed_criteria"]} == {"age", "graduate"}
    assert body["non_field_errors"]


def test_registering_twice_is_refused_with_its_code(event_1, graduate_a, reg_a):
    response = client_for(graduate_a).post(f"{EVENTS}{event_1.pk}/register/", {}, format="json")

    assert response.status_code == 400
    assert [c["code"] for c in response.json()["failed_criteria"]] == ["once"]


def test_registration_outside_the_window_is_refused(city_staff, district_1, graduate_a):
    now = timezone.now()
    event = make_event(
        city_staff,
        district_1,
        registration_opens=now + dt.timedelta(hours=1),
        registration_closes=now + dt.timedelta(days=1),
    )

    response = client_for(graduate_a).post(f"{EVENTS}{event.pk}/register/", {}, format="json")

    assert response.status_code == 400
    assert [c["code"] for c in response.json()["failed_criteria"]] == ["window"]


def test_a_cancelled_event_refuses_registrations_and_a_draft_is_not_found(city_staff, district_1, event_1, graduate_a):
    services.event_cancel(event=event_1, actor=city_staff, reason="暴雨")
    draft = make_event(city_staff, district_1, publish=False)
    client = client_for(graduate_a)

    cancelled = client.post(f"{EVENTS}{event_1.pk}/register/", {}, format="json")
    assert cancelled.status_code == 400
    assert "published" in {c["code"] for c in cancelled.json()["failed_criteria"]}
    assert client.post(f"{EVENTS}{draft.pk}/register/", {}, format="json").status_code == 404


# --- My registrations ----------------------------------------------------------------------------------


def test_my_registrations_with_the_waiting_list_position(event_1, event_2, graduate_a, graduate_b):
    services.registration_create(event=event_1, user=graduate_b)
    services.registration_create(event=event_1, user=graduate())
    waiting = services.registration_create(event=event_1, user=graduate_a)
    mine = services.registration_create(event=event_2, user=graduate_a)

    response = client_for(graduate_a).get(MINE)

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {waiting.pk, mine.pk}
    assert rows[waiting.pk]["waitlist_position"] == 1
    assert rows[mine.pk]["status"] == "confirmed"
    assert rows[mine.pk]["check_in_code"] == mine.check_in_code

    only = client_for(graduate_a).get(MINE, {"status": "waitlisted"}).json()["results"]
    assert [row["id"] for row in only] == [waiting.pk]
    assert client_for(graduate_a).get(MINE, {"status": "nonsense"}).status_code == 400
    detail = client_for(graduate_a).get(f"{MINE}{waiting.pk}/").json()
    assert detail["waitlist_position"] == 1


def test_another_users_registration_is_not_found(reg_a, graduate_b):
    client = client_for(graduate_b)

    assert client.get(f"{MINE}{reg_a.pk}/").status_code == 404
    assert client.post(f"{MINE}{reg_a.pk}/cancel/").status_code == 404
    assert client.post(f"{MINE}{reg_a.pk}/accept/").status_code == 404
    reg_a.refresh_from_db()
    assert reg_a.status == RegistrationStatus.CONFIRMED


def test_cancel_frees_the_place_for_the_next_in_line_who_accepts_it(event_1, graduate_a, graduate_b, reg_a):
    services.registration_create(event=event_1, user=graduate())
    waiting = services.registration_create(event=event_1, user=graduate_b)

    response = client_for(graduate_a).post(f"{MINE}{reg_a.pk}/cancel/", {"reason": "临时有事"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    offered = client_for(graduate_b).get(f"{MINE}{waiting.pk}/").json()
    assert offered["status"] == "offered"
    assert offered["offer_expires_at"]

    accepted = client_for(graduate_b).post(f"{MINE}{waiting.pk}/accept/")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "confirmed"
    assert accepted.json()["check_in_code"]


def test_cancel_twice_and_accept_without_an_offer_answer_400(reg_a, graduate_a):
    client = client_for(graduate_a)

    assert client.post(f"{MINE}{reg_a.pk}/accept/").status_code == 400
    assert client.post(f"{MINE}{reg_a.pk}/cancel/").status_code == 200
    again = client.post(f"{MINE}{reg_a.pk}/cancel/")
    assert again.status_code == 400
    assert again.json()["non_field_errors"]
    assert client.post(f"{MINE}{reg_a.pk}/cancel/", {"reason": "x" * 501}, format="json").status_code == 400


def test_an_expired_offer_cannot_be_accepted(event_1, graduate_a, graduate_b, reg_a):
    services.registration_create(event=event_1, user=graduate())
    waiting = services.registration_create(event=event_1, user=graduate_b)
    services.registration_cancel(registration=reg_a, actor=graduate_a)
    Registration.objects.filter(pk=waiting.pk).update(offer_expires_at=timezone.now() - dt.timedelta(minutes=1))

    response = client_for(graduate_b).post(f"{MINE}{waiting.pk}/accept/")

    assert response.status_code == 400
    assert "expired" in response.json()["non_field_errors"][0]


# --- Check-in --------------------------------------------------------------------------------------------


def _check_in(user, event, code):
    return client_for(user).post(f"{EVENTS}{event.pk}/check-in/", {"code": code}, format="json")


def test_organiser_checks_a_participant_in_by_code(staff_1, event_1, reg_a, graduate_a, at_the_event):
    at_the_event(event_1)
    response = _check_in(staff_1, event_1, f" {reg_a.check_in_code.lower()} ")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["participant"]) == (reg_a.pk, "attended", graduate_a.profile.real_name)
    assert body["checked_in_at"]


def test_check_in_errors_answer_400_with_their_code(
    staff_1, city_staff, district_1, event_1, reg_a, graduate_b, at_the_event
):
    other = make_event(city_staff, district_1, title="另一场")
    elsewhere = services.registration_create(event=other, user=graduate_b)
    waiting_event = make_event(city_staff, district_1, title="满员", capacity=1)
    services.registration_create(event=waiting_event, user=graduate())
    waitlisted = services.registration_create(event=waiting_event, user=graduate())

    too_early = _check_in(staff_1, event_1, reg_a.check_in_code)
    at_the_event(event_1)
    unknown = _check_in(staff_1, event_1, "ZZZZZZZZ")
    other_event = _check_in(staff_1, event_1, elsewhere.check_in_code)
    not_confirmed = _check_in(staff_1, waiting_event, waitlisted.check_in_code)
    assert _check_in(staff_1, event_1, reg_a.check_in_code).status_code == 200
    twice = _check_in(staff_1, event_1, reg_a.check_in_code)
    missing = client_for(staff_1).post(f"{EVENTS}{event_1.pk}/check-in/", {}, format="json")

    for response, code in (
        (unknown, "unknown"),
        (other_event, "other_event"),
        (twice, "twice"),
        (not_confirmed, "not_confirmed"),
        (too_early, "too_early"),
    ):
        assert response.status_code == 400
        assert response.json()["error"] == code
        assert response.json()["code"]
    assert missing.status_code == 400
    elsewhere.refresh_from_db()
    assert elsewhere.status == RegistrationStatus.CONFIRMED


def test_only_organisers_check_in(staff_2, graduate_a, graduate_b, employer_y, event_1, reg_a):
    for user in (staff_2, graduate_a, graduate_b, employer_y):
        response = _check_in(user, event_1, reg_a.check_in_code)
        assert response.status_code == 404, user
    reg_a.refresh_from_db()
    assert reg_a.status == RegistrationStatus.CONFIRMED


def test_members_of_the_organising_employer_check_in(org_event, employer_x, employer_y, graduate_a, at_the_event):
    registration = services.registration_create(event=org_event, user=graduate_a)
    at_the_event(org_event)

    assert _check_in(employer_y, org_event, registration.check_in_code).status_code == 404
    response = _check_in(employer_x, org_event, registration.check_in_code)

    assert response.status_code == 200
    assert response.json()["status"] == "attended"


def test_city_staff_check_in_everywhere(city_staff, event_2, graduate_b, at_the_event):
    registration = services.registration_create(event=event_2, user=graduate_b)
    at_the_event(event_2)

    assert _check_in(city_staff, event_2, registration.check_in_code).status_code == 200


# --- Schema and query budgets --------------------------------------------------------------------------------


def test_the_openapi_schema_includes_the_event_paths(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        "/api/v1/events/",
        "/api/v1/events/{id}/",
        "/api/v1/events/{id}/register/",
        "/api/v1/events/{id}/check-in/",
        "/api/v1/event-registrations/",
        "/api/v1/event-registrations/{id}/",
        "/api/v1/event-registrations/{id}/cancel/",
        "/api/v1/event-registrations/{id}/accept/",
    ):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/v1/events/"]["get"]["parameters"]}
    assert {"kind", "district", "date_from", "free_only"} <= params


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx)


def test_the_event_list_query_count_is_constant(city_staff, district_1, django_assert_max_num_queries):
    def fill(n):
        for i in range(n):
            Event.objects.create(**_event_data(district_1, title=f"活动 {i}"), status=EventStatus.PUBLISHED)

    client = client_for()
    fill(3)
    budget = _count(client, EVENTS, {"district": "luolong", "free_only": "true"})
    fill(17)
    with django_assert_max_num_queries(budget):
        response = client.get(EVENTS, {"district": "luolong", "free_only": "true"})
    assert response.json()["count"] == 20


def test_my_registrations_query_count_is_constant(city_staff, district_1, graduate_a, django_assert_max_num_queries):
    def fill(n):
        for i in range(n):
            event = Event.objects.create(**_event_data(district_1, title=f"活动 {i}"), status=EventStatus.PUBLISHED)
            Registration.objects.create(
                event=event, user=UserFactory(), status=RegistrationStatus.CONFIRMED, sequence=1
            )
            Registration.objects.create(event=event, user=graduate_a, status=RegistrationStatus.WAITLISTED, sequence=2)

    client = client_for(graduate_a)
    fill(3)
    budget = _count(client, MINE)
    fill(15)
    with django_assert_max_num_queries(budget):
        response = client.get(MINE)
    assert response.json()["count"] == 18
    assert {row["waitlist_position"] for row in response.json()["results"]} == {1}


# --- found by the API fuzz test (tests/portal/test_api_fuzz.py) ------------------------------------


def _openapi(client) -> dict:
    return json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)


def test_a_malformed_check_in_answers_the_field_errors_the_schema_allows(client, org_event, employer_x):
    refused = _openapi(client)["components"]["schemas"]["CheckInRefused"]

    response = client_for(employer_x).post(f"{EVENTS}{org_event.pk}/check-in/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"code"}  # "This field is required.", no service error code
    assert set(refused.get("required", [])) <= set(response.json())


def test_malformed_answers_answer_per_answer_errors_the_schema_allows(client, event_1, graduate_a):
    refused = _openapi(client)["components"]["schemas"]["RegistrationRefused"]

    response = client_for(graduate_a).post(
        f"{EVENTS}{event_1.pk}/register/", {"answers": {"0": "长" * 700}}, format="json"
    )

    assert response.status_code == 400
    assert isinstance(response.json()["answers"], dict)  # the messages per answer
    assert not refused.get("required") and "type" not in refused["properties"]["answers"]

"""/api/v1/ of the portal core: the signed-in user's profile (ID number write-only, read back
masked), notifications (only one's own), organisations (register, list mine), token
authentication, the OpenAPI schema and query budgets."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portal.constants import OrganisationStatus, Role
from portal.models import ApplicantProfile, Membership, Notification, Organisation
from portal.services.organisations import DUPLICATE_CODE
from tests.portal.factories import (
    NotificationFactory,
    OrganisationFactory,
    ProfileFactory,
    UserFactory,
    make_credit_code,
    make_id_number,
)

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
NOTIFICATIONS = "/api/v1/notifications/"
ORGANISATIONS = "/api/v1/organisations/"


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def organisation_payload(**overrides):
    payload = {
        "name": "洛阳新材料科技有限公司",
        "credit_code": make_credit_code(),
        "kind": "private",
        "district": "luolong",
        "industry": "materials",
        "size": "small",
        "address": "洛阳市洛龙区科技大道 8 号",
        "contact_name": "张经理",
        "contact_phone": "0379-61234567",
        "contact_email": "hr@example.com",
    }
    payload.update(overrides)
    return payload


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", ME),
        ("patch", ME),
        ("get", NOTIFICATIONS),
        ("post", NOTIFICATIONS + "read-all/"),
        ("get", ORGANISATIONS),
        ("post", ORGANISATIONS),
    ],
)
def test_anonymous_requests_are_refused(api, method, url):
    response = getattr(api, method)(url, {}, format="json")

    assert response.status_code in (401, 403)
    assert not ApplicantProfile.objects.exists()
    assert not Organisation.objects.exists()


def test_token_authentication(api):
    user = ProfileFactory(real_name="王芳").user
    token = Token.objects.create(user=user)

    response = api.get(ME, HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert response.json()["real_name"] == "王芳"


def test_a_wrong_token_is_refused(api):
    response = api.get(ME, HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    # 403 rather than 401: SessionAuthentication comes first and sends no WWW-Authenticate.
    assert response.status_code in (401, 403)
    assert not ApplicantProfile.objects.exists()


def test_session_authentication(client, graduate_a):
    client.force_login(graduate_a)

    response = client.get(ME)

    assert response.status_code == 200
    assert response.json()["real_name"] == graduate_a.profile.real_name


# --- /me/ ----------------------------------------------------------------------------------


def test_me_shows_the_id_number_only_masked():
    number = make_id_number(born=dt.date(2001, 3, 15), region="410302")
    user = ProfileFactory(complete=True, id_number=number).user

    response = client_for(user).get(ME)

    assert response.status_code == 200
    data = response.json()
    assert data["id_number_masked"] == number[:4] + "**********" + number[-4:]
    assert "id_number" not in data
    text = response.content.decode()
    assert number not in text
    assert number[4:14] not in text  # not even the middle part
    assert data["birth_date"] == "2001-03-15"
    assert data["gender"] in ("male", "female")
    # Everything but the degree certificate upload: 10 of 11 items.
    assert data["completeness"]["percent"] == 91
    assert len(data["completeness"]["missing"]) == 1


def test_me_creates_the_profile_on_first_read():
    user = UserFactory(phone="+8613987654321")

    response = client_for(user).get(ME)

    assert response.status_code == 200
    assert response.json()["phone"] == "13987654321"
    assert response.json()["id_number_masked"] == ""
    assert ApplicantProfile.objects.filter(user=user).exists()


def test_patch_updates_fields_and_stores_the_id_number_encrypted():
    user = UserFactory()
    number = make_id_number(born=dt.date(1999, 12, 31))

    response = client_for(user).patch(
        ME,
        {
            "real_name": "李雷",
            "id_number": number.lower(),
            "education_level": "master",
            "school": "郑州大学",
            "major": "材料科学",
            "graduation_date": "2025-06-30",
            "hukou_province": "河南省",
            "hukou_city": "郑州市",
            "district": "jianxi",
            "works_in_luoyang": True,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["real_name"] == "李雷"
    assert data["district"] == "jianxi"
    assert data["is_from_outside_luoyang"] is True
    assert data["id_number_masked"] == number[:4] + "**********" + number[-4:]
    assert data["birth_date"] == "1999-12-31"
    assert number not in response.content.decode()
    profile = ApplicantProfile.objects.get(user=user)
    assert profile.real_name == "李雷"
    assert profile.education_level == "master"
    assert profile.district.code == "jianxi"
    assert profile.reveal_id_number() == number
    assert number not in profile.id_number_encrypted


def test_patch_cannot_write_derived_or_masked_fields(graduate_a):
    before = ApplicantProfile.objects.get(user=graduate_a)

    response = client_for(graduate_a).patch(
        ME, {"id_number_masked": "1234**********5678", "birth_date": "1990-01-01", "gender": "male"}, format="json"
    )

    assert response.status_code == 200
    after = ApplicantProfile.objects.get(user=graduate_a)
    assert after.id_number_masked == before.id_number_masked
    assert after.birth_date == before.birth_date
    assert after.gender == before.gender


def test_patch_without_an_id_number_keeps_the_registered_one(graduate_a):
    before = ApplicantProfile.objects.get(user=graduate_a)

    response = client_for(graduate_a).patch(ME, {"school": "洛阳理工学院", "id_number": ""}, format="json")

    assert response.status_code == 200
    after = ApplicantProfile.objects.get(user=graduate_a)
    assert after.school == "洛阳理工学院"
    assert after.id_number_hash == before.id_number_hash
    assert after.reveal_id_number() == before.reveal_id_number()


@pytest.mark.parametrize(
    "bad",
    [
        "41030220000101123",  # 17 characters
        "4103022000010112345",  # 19 characters
        "41030220000101123A",  # letter other than X at the end
        "410302200002301234",  # 30 February
    ],
)
def test_an_invalid_id_number_is_refused_with_a_message(graduate_a, bad):
    response = client_for(graduate_a).patch(ME, {"id_number": bad, "real_name": "改名"}, format="json")

    assert response.status_code == 400
    errors = response.json()["id_number"]
    assert errors and all(isinstance(msg, str) and msg for msg in errors)
    assert ApplicantProfile.objects.get(user=graduate_a).real_name != "改名"


def test_an_id_number_with_a_wrong_check_digit_is_refused(graduate_a):
    good = make_id_number()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")

    response = client_for(graduate_a).patch(ME, {"id_number": wrong}, format="json")

    assert response.status_code == 400
    assert response.json()["id_number"]
    assert wrong not in response.content.decode()


def test_a_duplicate_id_number_is_refused_and_nothing_is_saved(graduate_a, graduate_b):
    number_of_a = graduate_a.profile.reveal_id_number()
    name_of_b = graduate_b.profile.real_name
    hash_of_b = graduate_b.profile.id_number_hash

    response = client_for(graduate_b).patch(ME, {"id_number": number_of_a, "real_name": "冒名"}, format="json")

    assert response.status_code == 400
    with translation.override("zh-hans"):  # the language of a request without Accept-Language
        expected = translation.gettext(
            "This ID number is already registered to another account. If it is yours, contact the service desk."
        )
    assert response.json()["id_number"] == [expected]
    assert number_of_a not in response.content.decode()
    profile_b = ApplicantProfile.objects.get(user=graduate_b)
    assert profile_b.real_name == name_of_b
    assert profile_b.id_number_hash == hash_of_b


def test_me_is_always_the_callers_own_profile(graduate_a, graduate_b):
    response = client_for(graduate_a).get(ME)

    assert response.json()["real_name"] == graduate_a.profile.real_name
    assert graduate_b.profile.real_name not in response.content.decode()


# --- /notifications/ -----------------------------------------------------------------------


def test_the_list_shows_only_my_notifications(graduate_a, graduate_b):
    mine = NotificationFactory.create_batch(2, user=graduate_a)
    NotificationFactory.create_batch(3, user=graduate_b)

    response = client_for(graduate_a).get(NOTIFICATIONS)

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert sorted(n["id"] for n in data["results"]) == sorted(n.pk for n in mine)
    assert set(data["results"][0]) == {"id", "kind", "title", "body", "link", "created_at", "read_at"}


def test_newest_notification_first(graduate_a):
    older = NotificationFactory(user=graduate_a)
    newer = NotificationFactory(user=graduate_a)

    results = client_for(graduate_a).get(NOTIFICATIONS).json()["results"]

    assert [n["id"] for n in results] == [newer.pk, older.pk]


def test_another_users_notification_answers_404(graduate_a, graduate_b):
    theirs = NotificationFactory(user=graduate_b)
    client = client_for(graduate_a)

    assert client.get(f"{NOTIFICATIONS}{theirs.pk}/").status_code == 404
    assert client.post(f"{NOTIFICATIONS}{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_read(graduate_a):
    first, second = NotificationFactory.create_batch(2, user=graduate_a)

    response = client_for(graduate_a).post(f"{NOTIFICATIONS}{first.pk}/read/")

    assert response.status_code == 200
    assert response.json()["id"] == first.pk
    assert response.json()["read_at"] is not None
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None


def test_marking_read_twice_keeps_the_first_time(graduate_a):
    notification = NotificationFactory(user=graduate_a)
    client = client_for(graduate_a)

    first = client.post(f"{NOTIFICATIONS}{notification.pk}/read/").json()["read_at"]
    second = client.post(f"{NOTIFICATIONS}{notification.pk}/read/").json()["read_at"]

    assert first == second


def test_read_all_marks_only_my_unread_notifications(graduate_a, graduate_b):
    NotificationFactory.create_batch(3, user=graduate_a)
    theirs = NotificationFactory(user=graduate_b)

    response = client_for(graduate_a).post(NOTIFICATIONS + "read-all/", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {"marked": 3}
    assert not Notification.objects.filter(user=graduate_a, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_with_ids_ignores_other_peoples_ids(graduate_a, graduate_b):
    a1, a2 = NotificationFactory.create_batch(2, user=graduate_a)
    theirs = NotificationFactory(user=graduate_b)

    response = client_for(graduate_a).post(NOTIFICATIONS + "read-all/", {"ids": [a1.pk, theirs.pk]}, format="json")

    assert response.json() == {"marked": 1}
    assert Notification.objects.filter(read_at__isnull=False).get() == a1
    a2.refresh_from_db()
    assert a2.read_at is None


def test_read_all_rejects_bad_ids(graduate_a):
    response = client_for(graduate_a).post(NOTIFICATIONS + "read-all/", {"ids": ["x"]}, format="json")

    assert response.status_code == 400
    assert "ids" in response.json()


def test_filter_unread(graduate_a):
    read, unread = NotificationFactory.create_batch(2, user=graduate_a)
    client = client_for(graduate_a)
    client.post(f"{NOTIFICATIONS}{read.pk}/read/")

    results = client.get(NOTIFICATIONS, {"read_at__isnull": "true"}).json()["results"]

    assert [n["id"] for n in results] == [unread.pk]


def test_notifications_are_read_only_through_the_api(graduate_a):
    notification = NotificationFactory(user=graduate_a)
    client = client_for(graduate_a)

    assert client.post(NOTIFICATIONS, {"title": "x", "body": "y"}, format="json").status_code == 405
    assert client.delete(f"{NOTIFICATIONS}{notification.pk}/").status_code == 405
    assert client.patch(f"{NOTIFICATIONS}{notification.pk}/", {"title": "x"}, format="json").status_code == 405


def queries_for_list(user, rows):
    NotificationFactory.create_batch(rows, user=user)
    client = APIClient()
    token = Token.objects.get_or_create(user=user)[0]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(NOTIFICATIONS, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_notification_list_query_count_does_not_grow_with_rows(django_assert_max_num_queries):
    few = queries_for_list(UserFactory(), 5)
    many = queries_for_list(UserFactory(), 50)

    assert few == many
    user = UserFactory()
    NotificationFactory.create_batch(50, user=user)
    client = client_for(user)
    with django_assert_max_num_queries(3):
        assert client.get(NOTIFICATIONS).json()["count"] == 50


# --- /organisations/ -----------------------------------------------------------------------


def test_register_an_organisation(graduate_a):
    payload = organisation_payload(credit_code=make_credit_code().lower())

    response = client_for(graduate_a).post(ORGANISATIONS, payload, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == OrganisationStatus.PENDING
    assert data["credit_code"] == payload["credit_code"].upper()
    assert data["district"] == "luolong"
    org = Organisation.objects.get(pk=data["id"])
    assert org.status == OrganisationStatus.PENDING
    membership = Membership.objects.get(organisation=org)
    assert membership.user == graduate_a
    assert membership.role == "owner"
    graduate_a.refresh_from_db()
    assert graduate_a.role == Role.EMPLOYER


def test_registration_cannot_set_its_own_status(graduate_a):
    response = client_for(graduate_a).post(
        ORGANISATIONS, organisation_payload(status="verified", verified_at="2026-01-01T00:00:00Z"), format="json"
    )

    assert response.status_code == 201
    org = Organisation.objects.get()
    assert org.status == OrganisationStatus.PENDING
    assert org.verified_at is None


@pytest.mark.parametrize(
    "code",
    [
        "91410300MA44XXXX",  # too short
        "91410300MA44XXXXXI",  # I is not in the alphabet
        "",
    ],
)
def test_an_invalid_credit_code_is_refused(graduate_a, code):
    response = client_for(graduate_a).post(ORGANISATIONS, organisation_payload(credit_code=code), format="json")

    assert response.status_code == 400
    assert response.json()["credit_code"]
    assert not Organisation.objects.exists()


def test_a_credit_code_with_a_wrong_check_character_is_refused(graduate_a):
    good = make_credit_code()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")

    response = client_for(graduate_a).post(ORGANISATIONS, organisation_payload(credit_code=wrong), format="json")

    assert response.status_code == 400
    assert response.json()["credit_code"]


def test_a_duplicate_credit_code_is_refused_with_a_message(graduate_a, employer_x):
    taken = employer_x.organisations.get().credit_code

    response = client_for(graduate_a).post(ORGANISATIONS, organisation_payload(credit_code=taken), format="json")

    assert response.status_code == 400
    with translation.override("zh-hans"):
        expected = str(DUPLICATE_CODE)
    assert response.json()["credit_code"] == [expected]
    assert Organisation.objects.count() == 1
    assert not Membership.objects.filter(user=graduate_a).exists()


def test_a_missing_field_is_reported_on_that_field(graduate_a):
    payload = organisation_payload()
    del payload["name"]
    payload["district"] = "atlantis"

    response = client_for(graduate_a).post(ORGANISATIONS, payload, format="json")

    assert response.status_code == 400
    assert set(response.json()) >= {"name", "district"}


def test_the_list_shows_only_my_organisations(employer_x, employer_y):
    mine = employer_x.organisations.get()

    response = client_for(employer_x).get(ORGANISATIONS)

    assert response.status_code == 200
    assert [o["id"] for o in response.json()["results"]] == [mine.pk]


def test_another_organisation_answers_404(employer_x, employer_y):
    theirs = employer_y.organisations.get()

    assert client_for(employer_x).get(f"{ORGANISATIONS}{theirs.pk}/").status_code == 404


def test_a_graduate_has_no_organisations(graduate_a, employer_x):
    assert client_for(graduate_a).get(ORGANISATIONS).json()["count"] == 0


def test_organisations_cannot_be_changed_through_the_api(employer_x):
    org = employer_x.organisations.get()
    client = client_for(employer_x)

    assert client.patch(f"{ORGANISATIONS}{org.pk}/", {"status": "verified"}, format="json").status_code == 405
    assert client.delete(f"{ORGANISATIONS}{org.pk}/").status_code == 405
    org.refresh_from_db()
    assert org.status == OrganisationStatus.PENDING


def test_the_organisation_list_query_count_does_not_grow_with_rows(django_assert_max_num_queries):
    def count(rows):
        owner = UserFactory(role=Role.EMPLOYER)
        for _ in range(rows):
            OrganisationFactory(owner=owner)
        client = client_for(owner)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(ORGANISATIONS).json()["count"] == rows
        return len(ctx.captured_queries)

    assert count(2) == count(15)


# --- schema and docs -----------------------------------------------------------------------


def test_the_openapi_schema_describes_the_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in (ME, NOTIFICATIONS, NOTIFICATIONS + "{id}/read/", NOTIFICATIONS + "read-all/", ORGANISATIONS):
        assert path in paths
    profile_fields = schema["components"]["schemas"]["PatchedProfileRequest"]["properties"]
    assert "id_number" in profile_fields  # write-only: accepted ...
    assert "id_number" not in schema["components"]["schemas"]["Profile"]["properties"]  # ... never returned


def test_the_interactive_docs_page(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_format_suffix_urls_do_not_exist(client, graduate_a):
    client.force_login(graduate_a)
    assert client.post("/api/v1/notifications/read-all.json").status_code == 404


# --- found by the API fuzz test (tests/portal/test_api_fuzz.py) ------------------------------------


def _openapi(client) -> dict:
    return json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)


def test_every_operation_documents_the_refusals_it_can_give(client):
    paths = _openapi(client)["paths"]
    codes = {(method.upper(), path): set(op["responses"]) for path, ops in paths.items() for method, op in ops.items()}

    assert all("401" in found for found in codes.values())  # an unknown token, even on public operations
    assert {"200", "401", "403"} <= codes["GET", "/api/v1/me/"] and "404" not in codes["GET", "/api/v1/me/"]
    # A service may refuse a move with no input at all: 400; someone else's notification: 404.
    assert {"200", "400", "401", "403", "404"} <= codes["POST", "/api/v1/notifications/{id}/read/"]
    # The public search: bad filters 400, a page past the last 404, never 403.
    assert {"200", "400", "401", "404"} <= codes["GET", "/api/v1/positions/"]
    assert "403" not in codes["GET", "/api/v1/positions/"]
    assert {"201", "400", "401", "403", "415"} <= codes["POST", "/api/v1/organisations/"]


def test_a_refusal_has_the_documented_body(client, graduate_a):
    schema = _openapi(client)
    documented = schema["paths"]["/api/v1/notifications/{id}/read/"]["post"]["responses"]["404"]
    assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ApiError"}
    assert schema["components"]["schemas"]["ApiError"]["required"] == ["detail"]

    response = client_for(graduate_a).post(f"{NOTIFICATIONS}999999/read/")

    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_a_profile_without_an_id_number_has_a_blank_gender_and_the_schema_allows_it(client):
    user = UserFactory(role=Role.GRADUATE)
    schema = _openapi(client)

    response = client_for(user).get(ME)

    assert response.status_code == 200 and response.json()["gender"] == ""
    options = schema["components"]["schemas"]["Profile"]["properties"]["gender"]["oneOf"]
    enums = [schema["components"]["schemas"][o["$ref"].rsplit("/", 1)[1]]["enum"] for o in options]
    assert any("" in enum for enum in enums)


@pytest.mark.django_db
def test_addresses_outside_the_api_patterns_answer_json(client, graduate_a):
    client.force_login(graduate_a)
    missing = client.get("/api/v1/positions/-1.1/")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    assert missing.json()["detail"]
    # More form fields than Django reads (DATA_UPLOAD_MAX_NUMBER_FIELDS): a JSON 400, not HTML.
    body = "&".join(f"ids={n}" for n in range(1200))
    flooded = client.post("/api/v1/notifications/read-all/", body, content_type="application/x-www-form-urlencoded")
    assert flooded.status_code == 400
    assert flooded["Content-Type"] == "application/json"
    assert flooded.json()["detail"]
    # People still get the portal's pages.
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")

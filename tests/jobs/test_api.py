"""The jobs API under /api/v1/: search and detail for everyone, apply and "my applications"
for graduates, and /employer/ endpoints to create, submit and close positions and to move
applications. Bad input answers 400 (never 500), another tenant's object 404; every path
is in the OpenAPI schema; the search runs a constant number of queries."""

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from jobs import services
from jobs.constants import ApplicationStatus, PositionKind, PositionStatus
from jobs.models import Interview, JobApplication, Position
from portal.constants import DocumentKind, EducationLevel
from portal.models import ApplicantProfile, Document
from tests.jobs.conftest import pdf_upload, png_upload
from tests.jobs.factories import PositionFactory, TraineeshipBaseFactory
from tests.portal.factories import OrganisationFactory, ProfileFactory

pytestmark = pytest.mark.django_db

POSITIONS = "/api/v1/positions/"
MINE = "/api/v1/job-applications/"
EMPLOYER_POSITIONS = "/api/v1/employer/positions/"
EMPLOYER_APPLICATIONS = "/api/v1/employer/applications/"


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client


def _ids(response):
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def application(position, graduate_a):
    return services.job_application_submit(position=position, applicant=graduate_a)


# --- Search and detail --------------------------------------------------------------------------


def test_search_lists_open_published_positions_for_anyone(position, position_y, org_x):
    PositionFactory(organisation=org_x, pending=True)
    PositionFactory(organisation=org_x, expired=True)
    PositionFactory(organisation=org_x, published=True, deadline=timezone.localdate() - dt.timedelta(days=1))

    response = client_for().get(POSITIONS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {position.pk, position_y.pk}
    row = next(r for r in body["results"] if r["id"] == position.pk)
    assert row["organisation"] == position.organisation.name
    assert row["district"] == "luolong"
    assert row["status"] == "published"
    assert "search_text" not in row and "status_reason" not in row


@pytest.fixture
def catalogue(org_x, org_y, district_1):
    base = TraineeshipBaseFactory(organisation__district=district_1)
    return {
        "bearing": PositionFactory(
            organisation=org_x,
            published=True,
            title="轴承工艺工程师",
            salary_min=6000,
            salary_max=9000,
            published_at=timezone.now() - dt.timedelta(days=2),
            deadline=timezone.localdate() + dt.timedelta(days=30),
        ),
        "data": PositionFactory(
            organisation=org_y,
            published=True,
            title="Data engineer (数据工程师)",
            kind=PositionKind.INTERNSHIP,
            description="Pipelines in Python; 生产数据。",
            industry="big_data",
            education_level=EducationLevel.JUNIOR_COLLEGE,
            salary_min=3000,
            salary_max=4000,
            published_at=timezone.now() - dt.timedelta(days=1),
            deadline=timezone.localdate() + dt.timedelta(days=5),
        ),
        "trainee": PositionFactory(
            organisation=base.organisation,
            published=True,
            title="机械设计见习生",
            kind=PositionKind.TRAINEESHIP,
            description="结构设计与测试。",
            industry="equipment",
            education_level="",
            salary_min=2000,
            salary_max=2400,
            published_at=timezone.now(),
            deadline=timezone.localdate() + dt.timedelta(days=60),
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["trainee", "data", "bearing"]),
        ({"q": "轴承"}, ["bearing"]),
        ({"q": "engineer"}, ["data"]),
        ({"q": "工程师 数据"}, ["data"]),
        ({"kind": "internship"}, ["data"]),
        ({"district": "jianxi"}, ["data"]),
        ({"industry": "bearings"}, ["bearing"]),
        ({"education": "junior_college"}, ["trainee", "data"]),
        ({"salary_min": 5000}, ["bearing"]),
        ({"base_only": "true"}, ["trainee"]),
        ({"ordering": "deadline"}, ["data", "bearing", "trainee"]),
        ({"ordering": "salary"}, ["bearing", "data", "trainee"]),
        ({"ordering": "newest", "district": "luolong"}, ["trainee", "bearing"]),
    ],
)
def test_search_words_filters_and_ordering(catalogue, params, expected):
    names = {p.pk: name for name, p in catalogue.items()}

    response = client_for().get(POSITIONS, params)

    assert response.status_code == 200
    assert [names[pk] for pk in _ids(response)] == expected


def test_search_is_paginated(org_x):
    for i in range(25):
        PositionFactory(organisation=org_x, published=True, title=f"岗位 {i}")

    first = client_for().get(POSITIONS).json()
    second = client_for().get(POSITIONS, {"page": 2}).json()

    assert (first["count"], len(first["results"]), len(second["results"])) == (25, 20, 5)
    assert first["next"].endswith("?page=2") and second["next"] is None
    assert client_for().get(POSITIONS, {"page": 9}).status_code == 404


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("kind", "pirate"),
        ("district", "atlantis"),
        ("industry", "mining"),
        ("education", "phd"),
        ("salary_min", "a lot"),
        ("salary_min", "-5"),
        ("base_only", "maybe"),
        ("ordering", "price"),
        ("q", "x" * 101),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_it(position, param, value):
    response = client_for().get(POSITIONS, {param: value})

    assert response.status_code == 400
    assert param in response.json()


def test_detail_of_a_published_position(position):
    response = client_for().get(f"{POSITIONS}{position.pk}/")

    assert response.status_code == 200
    assert response.json()["title"] == "轴承工艺工程师"


@pytest.mark.parametrize("status", ["draft", "pending", "rejected", "closed", "expired"])
def test_detail_of_a_position_not_published_is_404(org_x, status):
    hidden = PositionFactory(organisation=org_x, **{status: True})

    assert client_for().get(f"{POSITIONS}{hidden.pk}/").status_code == 404


def test_a_malformed_id_is_404(position, graduate_a):
    api = client_for(graduate_a)

    assert api.get(f"{POSITIONS}abc/").status_code == 404
    assert api.post(f"{POSITIONS}1.5/apply/", {}, format="json").status_code == 404
    assert api.get(f"{MINE}-1/").status_code == 404


def test_search_is_read_only(position, graduate_a):
    api = client_for(graduate_a)

    assert api.post(POSITIONS, {"title": "x"}, format="json").status_code == 405
    assert api.delete(f"{POSITIONS}{position.pk}/").status_code == 405


# --- Applying -------------------------------------------------------------------------------------


def test_apply_then_a_duplicate_is_400(position, graduate_a, employer_x):
    api = client_for(graduate_a)

    first = api.post(f"{POSITIONS}{position.pk}/apply/", {"cover_note": "我想申请。"}, format="json")
    second = api.post(f"{POSITIONS}{position.pk}/apply/", {}, format="json")

    assert first.status_code == 201
    body = first.json()
    assert (body["status"], body["cover_note"], body["position"]["id"]) == ("submitted", "我想申请。", position.pk)
    assert second.status_code == 400
    assert second.json() == {"non_field_errors": ["You have already applied for this position."]}
    assert JobApplication.objects.count() == 1


def test_apply_with_a_cv_and_a_shared_document_as_multipart(position, graduate_a):
    certificate = Document.objects.get(owner=graduate_a, kind=DocumentKind.DEGREE_CERTIFICATE)

    response = client_for(graduate_a).post(
        f"{POSITIONS}{position.pk}/apply/",
        {"cv": pdf_upload(), "shared_documents": [certificate.pk]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    application = JobApplication.objects.get()
    assert application.cv.content_type == "application/pdf"
    assert list(application.shared_documents.all()) == [certificate]


def test_apply_refusals_are_400_with_the_reason(position, graduate_a, graduate_b, district_1):
    incomplete = ProfileFactory(district=district_1).user
    theirs = Document.objects.get(owner=graduate_b)

    missing = client_for(incomplete).post(f"{POSITIONS}{position.pk}/apply/", {}, format="json")
    not_pdf = client_for(graduate_a).post(
        f"{POSITIONS}{position.pk}/apply/", {"cv": png_upload("cv.png")}, format="multipart"
    )
    not_mine = client_for(graduate_a).post(
        f"{POSITIONS}{position.pk}/apply/", {"shared_documents": [theirs.pk]}, format="json"
    )
    bad_body = client_for(graduate_a).post(
        f"{POSITIONS}{position.pk}/apply/", {"shared_documents": "all"}, format="json"
    )

    assert missing.status_code == 400
    assert any(m.startswith("Your profile is missing") for m in missing.json()["non_field_errors"])
    assert (not_pdf.status_code, not_pdf.json()) == (400, {"non_field_errors": ["The CV must be a PDF file."]})
    assert (not_mine.status_code, not_mine.json()) == (
        400,
        {"non_field_errors": ["You can only share your own documents."]},
    )
    assert bad_body.status_code == 400 and "shared_documents" in bad_body.json()
    assert not JobApplication.objects.exists()


def test_apply_to_a_position_not_published_is_404(org_x, graduate_a):
    draft = PositionFactory(organisation=org_x)

    assert client_for(graduate_a).post(f"{POSITIONS}{draft.pk}/apply/", {}, format="json").status_code == 404


def test_apply_needs_sign_in(position):
    response = client_for().post(f"{POSITIONS}{position.pk}/apply/", {}, format="json")

    assert response.status_code in (401, 403)
    assert not JobApplication.objects.exists()


def test_my_applications_lists_mine_only(application, position_y, graduate_a, graduate_b, employer_x):
    services.job_application_submit(position=position_y, applicant=graduate_b)
    services.job_application_invite(
        application=application, actor=employer_x, starts_at=timezone.now() + dt.timedelta(days=2), place="会议室"
    )

    mine = client_for(graduate_a).get(MINE).json()
    theirs = client_for(graduate_b).get(MINE).json()

    assert [row["id"] for row in mine["results"]] == [application.pk]
    assert mine["results"][0]["status"] == "interview"
    assert mine["results"][0]["interviews"][0]["place"] == "会议室"
    assert [row["position"]["id"] for row in theirs["results"]] == [position_y.pk]
    assert client_for(graduate_b).get(f"{MINE}{application.pk}/").status_code == 404
    assert client_for().get(MINE).status_code in (401, 403)


def test_withdraw_through_the_api(application, graduate_a, graduate_b):
    assert client_for(graduate_b).post(f"{MINE}{application.pk}/withdraw/").status_code == 404

    response = client_for(graduate_a).post(f"{MINE}{application.pk}/withdraw/")
    again = client_for(graduate_a).post(f"{MINE}{application.pk}/withdraw/")

    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert again.status_code == 400


# --- Employer endpoints ---------------------------------------------------------------------------


def _payload(org, **overrides):
    payload = {
        "organisation_id": org.pk,
        "kind": "traineeship",
        "title": "质量管理见习生",
        "description": "质量体系文件管理与检验数据统计。",
        "district": "luolong",
        "industry": "bearings",
        "education_level": "junior_college",
        "majors": "",
        "headcount": 2,
        "salary_min": 2000,
        "salary_max": 2000,
        "work_address": "洛阳市洛龙区开元大道 1 号",
        "deadline": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
    }
    payload.update(overrides)
    return payload


def test_employer_creates_updates_submits_and_closes_a_position(org_x, employer_x, staff_1):
    api = client_for(employer_x)

    created = api.post(EMPLOYER_POSITIONS, _payload(org_x), format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert (created.json()["status"], created.json()["applicant_count"]) == ("draft", 0)

    patched = api.patch(f"{EMPLOYER_POSITIONS}{pk}/", {"title": "质量管理见习生（2 名）"}, format="json")
    assert patched.status_code == 200 and patched.json()["title"] == "质量管理见习生（2 名）"

    submitted = api.post(f"{EMPLOYER_POSITIONS}{pk}/submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending"
    assert api.patch(f"{EMPLOYER_POSITIONS}{pk}/", {"title": "再改"}, format="json").status_code == 400

    services.position_approve(position=Position.objects.get(pk=pk), actor=staff_1)
    closed = api.post(f"{EMPLOYER_POSITIONS}{pk}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert api.post(f"{EMPLOYER_POSITIONS}{pk}/close/").status_code == 400


def test_employer_position_list_is_their_own_with_applicant_counts(position, application, position_y, employer_x):
    body = client_for(employer_x).get(EMPLOYER_POSITIONS).json()

    assert [(row["id"], row["applicant_count"]) for row in body["results"]] == [(position.pk, 1)]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"salary_min": 5000, "salary_max": 4000}, "salary_max"),
        ({"deadline": "2020-01-01"}, "deadline"),
        ({"headcount": 0}, "headcount"),
        ({"kind": "pirate"}, "kind"),
        ({"district": "atlantis"}, "district"),
        ({"title": ""}, "title"),
    ],
)
def test_invalid_position_is_400_on_the_field(org_x, employer_x, overrides, field):
    response = client_for(employer_x).post(EMPLOYER_POSITIONS, _payload(org_x, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Position.objects.exists()


def test_unverified_organisation_cannot_create(district_1):
    pending = OrganisationFactory(district=district_1)
    api = client_for(pending.memberships.get().user)

    with translation.override("en"):
        response = api.post(EMPLOYER_POSITIONS, _payload(pending), format="json")

    assert response.status_code == 400
    assert "Only verified organisations" in response.json()["non_field_errors"][0]


def test_creating_for_someone_else_s_organisation_is_404(org_x, employer_y, graduate_a):
    for user in (employer_y, graduate_a):
        assert client_for(user).post(EMPLOYER_POSITIONS, _payload(org_x), format="json").status_code == 404
    assert not Position.objects.exists()


def test_another_employer_gets_404_on_positions(position, employer_y):
    api = client_for(employer_y)

    assert api.get(f"{EMPLOYER_POSITIONS}{position.pk}/").status_code == 404
    assert api.patch(f"{EMPLOYER_POSITIONS}{position.pk}/", {"title": "x"}, format="json").status_code == 404
    assert api.post(f"{EMPLOYER_POSITIONS}{position.pk}/submit/").status_code == 404
    assert api.post(f"{EMPLOYER_POSITIONS}{position.pk}/close/").status_code == 404
    position.refresh_from_db()
    assert position.status == PositionStatus.PUBLISHED


def test_employer_application_list_shows_the_id_number_masked(application, employer_x, graduate_a):
    profile = ApplicantProfile.objects.get(user=graduate_a)

    response = client_for(employer_x).get(EMPLOYER_APPLICATIONS)

    (row,) = response.json()["results"]
    assert row["applicant"]["id_number_masked"] == profile.id_number_masked
    assert profile.reveal_id_number() not in json.dumps(response.json())
    assert row["applicant"]["education_level"] == "bachelor"


def test_decide_moves_the_application_and_notifies(application, employer_x, graduate_a, org_x):
    api = client_for(employer_x)
    url = f"{EMPLOYER_APPLICATIONS}{application.pk}/decide/"

    assert api.post(url, {"to": "viewed"}, format="json").json()["status"] == "viewed"
    assert api.post(url, {"to": "offered"}, format="json").json()["status"] == "offered"
    hired = api.post(url, {"to": "hired"}, format="json")

    assert hired.status_code == 200 and hired.json()["status"] == "hired"
    assert ApplicantProfile.objects.get(user=graduate_a).current_employer == org_x.name
    assert api.post(url, {"to": "rejected", "reason": "太晚了"}, format="json").status_code == 400
    assert api.post(url, {"to": "withdrawn"}, format="json").status_code == 400


def test_decide_reject_with_a_reason(application, employer_x):
    response = client_for(employer_x).post(
        f"{EMPLOYER_APPLICATIONS}{application.pk}/decide/", {"to": "rejected", "reason": "岗位已满"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("rejected", "岗位已满")


def test_invite_through_the_api(application, employer_x):
    api = client_for(employer_x)
    url = f"{EMPLOYER_APPLICATIONS}{application.pk}/invite/"
    when = (timezone.now() + dt.timedelta(days=3)).isoformat()

    created = api.post(
        url, {"starts_at": when, "online_link": "https://meeting.example.com/7", "note": "线上面试"}, format="json"
    )
    past = api.post(
        url, {"starts_at": (timezone.now() - dt.timedelta(days=1)).isoformat(), "place": "会议室"}, format="json"
    )
    nowhere = api.post(url, {"starts_at": when}, format="json")
    garbage = api.post(url, {"starts_at": "soon", "place": "会议室"}, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["online_link"] == "https://meeting.example.com/7"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INTERVIEW
    assert (past.status_code, past.json()) == (400, {"non_field_errors": ["The interview must be in the future."]})
    assert (nowhere.status_code, nowhere.json()) == (
        400,
        {"non_field_errors": ["Give a place or an online meeting link."]},
    )
    assert garbage.status_code == 400 and "starts_at" in garbage.json()
    assert Interview.objects.count() == 1


def test_another_employer_gets_404_on_applications(application, employer_y, graduate_a):
    for user in (employer_y, graduate_a):
        api = client_for(user)
        assert api.get(f"{EMPLOYER_APPLICATIONS}{application.pk}/").status_code == 404
        assert (
            api.post(f"{EMPLOYER_APPLICATIONS}{application.pk}/decide/", {"to": "rejected"}, format="json").status_code
            == 404
        )
        assert (
            api.post(
                f"{EMPLOYER_APPLICATIONS}{application.pk}/invite/",
                {"starts_at": (timezone.now() + dt.timedelta(days=1)).isoformat(), "place": "x"},
                format="json",
            ).status_code
            == 404
        )
        assert api.get(EMPLOYER_APPLICATIONS).json()["results"] == []
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_employer_endpoints_need_sign_in(position, application):
    api = client_for()
    for url in (EMPLOYER_POSITIONS, f"{EMPLOYER_POSITIONS}{position.pk}/", EMPLOYER_APPLICATIONS):
        assert api.get(url).status_code in (401, 403)


# --- Schema and query budget ---------------------------------------------------------------------


def test_the_openapi_schema_includes_the_jobs_paths(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        "/api/v1/positions/",
        "/api/v1/positions/{id}/",
        "/api/v1/positions/{id}/apply/",
        "/api/v1/job-applications/",
        "/api/v1/job-applications/{id}/withdraw/",
        "/api/v1/employer/positions/",
        "/api/v1/employer/positions/{id}/submit/",
        "/api/v1/employer/positions/{id}/close/",
        "/api/v1/employer/applications/",
        "/api/v1/employer/applications/{id}/decide/",
        "/api/v1/employer/applications/{id}/invite/",
    ):
        assert path in paths, path
    search_params = {p["name"] for p in paths["/api/v1/positions/"]["get"]["parameters"]}
    assert {
        "q",
        "kind",
        "district",
        "industry",
        "education",
        "salary_min",
        "base_only",
        "ordering",
        "page",
    } <= search_params
    # The detail and apply routes do not pretend to take the search filters.
    assert "q" not in {p["name"] for p in paths["/api/v1/positions/{id}/apply/"]["post"].get("parameters", [])}


SEARCH_API_MAX_QUERIES = 3  # the district filter's lookup, the count and the page


def test_search_api_queries_do_not_grow_with_the_rows(org_x, org_y, django_assert_max_num_queries):
    url = f"{POSITIONS}?q=工程师&ordering=salary&district=luolong"
    api = client_for()

    def count() -> int:
        cache.clear()  # measure the uncached search (results are cached for a while)
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        PositionFactory(organisation=org_x, published=True, title=f"工程师 {i}")
    api.get(url)
    few = count()
    for i in range(27):
        PositionFactory(organisation=org_x, published=True, title=f"工程师 {i + 3}")
    many = count()

    assert few == many
    cache.clear()
    with django_assert_max_num_queries(SEARCH_API_MAX_QUERIES):
        response = api.get(url)
    assert len(response.json()["results"]) == 20
    with django_assert_max_num_queries(0):  # the same search again comes from the shared cache
        assert api.get(url).json() == response.json()


def test_employer_application_list_queries_do_not_grow(position, employer_x):
    api = client_for(employer_x)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(EMPLOYER_APPLICATIONS).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        graduate = ProfileFactory(complete=True).user
        Document.objects.create(
            owner=graduate, kind=DocumentKind.DEGREE_CERTIFICATE, content_type="image/png", size=1, file="x.png"
        )
        services.job_application_submit(position=position, applicant=graduate)
    few = count()
    for _ in range(12):
        graduate = ProfileFactory(complete=True).user
        Document.objects.create(
            owner=graduate, kind=DocumentKind.DEGREE_CERTIFICATE, content_type="image/png", size=1, file="x.png"
        )
        services.job_application_submit(position=position, applicant=graduate)
    assert count() == few


# --- found by the API fuzz test (tests/portal/test_api_fuzz.py) ------------------------------------


def _openapi(client) -> dict:
    return json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)


def _allows_blank(schema: dict, component: str, field: str) -> bool:
    prop = schema["components"]["schemas"][component]["properties"][field]
    options = [schema["components"]["schemas"][o["$ref"].rsplit("/", 1)[1]] for o in prop.get("oneOf", [])] or [prop]
    return any("" in option.get("enum", []) for option in options)


def test_a_position_never_rejected_has_a_blank_rejection_reason_and_the_schema_allows_it(client, position, employer_x):
    schema = _openapi(client)

    response = client_for(employer_x).get(f"{EMPLOYER_POSITIONS}{position.pk}/")

    assert response.status_code == 200 and response.json()["rejection_reason"] == ""
    assert _allows_blank(schema, "EmployerPosition", "rejection_reason")


def test_creating_for_someone_else_s_organisation_is_a_documented_404(client, org_x, employer_y):
    documented = _openapi(client)["paths"][EMPLOYER_POSITIONS]["post"]["responses"]

    response = client_for(employer_y).post(EMPLOYER_POSITIONS, _payload(org_x), format="json")

    assert response.status_code == 404 and "404" in documented

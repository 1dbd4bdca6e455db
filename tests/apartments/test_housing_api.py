"""The housing API under /api/v1/: projects with unit types, live vacancies, photos and
published rounds for anyone; the eligibility check, applying, withdrawing, and answering a
unit offer after the draw for the signed-in graduate's own records. Bad input answers 400
with a message (never 500), another graduate's application or offer 404, anonymous callers
401; every path is in the OpenAPI schema, which stays valid; the lists run a constant number
of queries."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apartments import services
from apartments.constants import HousingApplicationStatus as A
from apartments.constants import OfferStatus, RoundStatus, UnitState
from apartments.models import HousingApplication, HousingOffer, Lease, ProjectPhoto, Unit
from portal.constants import DocumentKind, EducationLevel
from portal.models import ApplicantProfile, Document
from tests.apartments.conftest import give_letter, housing_apply, make_housing_graduate, make_project, make_round

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/apartment-projects/"
APPLICATIONS = "/api/v1/housing-applications/"
OFFERS = "/api/v1/housing-offers/"
SEED = "03 17 22 28 31 + 09"
SEED_SOURCE = "福彩双色球 2026138 期"


def client_for(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def project(clock, district_1):
    """炎黄科技园青年人才公寓 (talent apartment, 洛龙区): 90, 60 and 45 m², two units each."""
    return make_project(district_1)


@pytest.fixture
def round(project):
    return make_round(project)


@pytest.fixture
def applicant_a(clock, district_1):
    return make_housing_graduate(district=district_1)


@pytest.fixture
def applicant_b(clock, district_2):
    return make_housing_graduate(district=district_2)


@pytest.fixture
def application_a(applicant_a, round):
    return housing_apply(applicant_a, round)


def _apply_body(round, **extra) -> dict:
    body = {
        "round": round.pk,
        "unit_types": [t.pk for t in round.project.unit_types.all()],
        "household_size": 2,
        "no_home_declared": True,
    }
    body.update(extra)
    return body


def _apply(user, round, **extra):
    return client_for(user).post(APPLICATIONS, _apply_body(round, **extra), format="json")


def _set_education(user, level: str) -> None:
    ApplicantProfile.objects.filter(user=user).update(education_level=level)


def _draw(round, staff, clock, capture) -> None:
    """Approve every submitted application, close the window, publish the seed and draw
    (the Celery task runs eagerly on commit and makes the first offers)."""
    for app in HousingApplication.objects.filter(round=round, status=A.SUBMITTED):
        services.housing_application_approve(application=app, actor=staff)
    clock.set(clock.today + dt.timedelta(days=8))
    services.round_publish_seed(round=round, actor=staff, public_seed=SEED, source=SEED_SOURCE)
    with capture(execute=True):
        services.round_draw_start(round=round, actor=staff)
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAWN


# --- projects -----------------------------------------------------------------------------------


def test_projects_list_is_public_with_types_vacancies_photos_and_open_rounds(project, round, district_2):
    Unit.objects.filter(project=project, unit_type__name="单间").update(state=UnitState.LET)
    Unit.objects.filter(project=project, unit_type__name="一室一厅").first().delete()
    photo = ProjectPhoto.objects.create(
        project=project, image="housing/p.jpg", thumbnail="housing/p-t.jpg", caption="外景"
    )
    hidden = make_project(district_2, name="未发布公寓")
    hidden.published = False
    hidden.save()

    response = client_for().get(PROJECTS)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == [project.name]
    row = rows[0]
    assert row["kind"] == "talent_apartment"
    assert row["district"] == "luolong"
    assert row["amenities"] == ["拎包入住", "地铁 2 号线"]
    assert (row["vacant_units"], row["total_units"]) == (3, 5)
    types = {t["name"]: t for t in row["unit_types"]}
    assert types["两室一厅"]["area"] == "90.00"
    assert types["两室一厅"]["rooms"] == 2
    assert types["两室一厅"]["furnished"] is True
    assert types["两室一厅"]["monthly_rent"] == "1800.00"
    assert {n: (t["vacant_units"], t["total_units"]) for n, t in types.items()} == {
        "两室一厅": (2, 2),
        "一室一厅": (1, 1),
        "单间": (0, 2),
    }
    photo_url = "http://testserver" + reverse("apartments:project_photo", args=[photo.pk])
    assert row["photos"] == [
        {"id": photo.pk, "caption": "外景", "url": photo_url, "thumbnail_url": photo_url + "?size=thumb"}
    ]
    assert [(r["id"], r["is_open"], r["status"]) for r in row["open_rounds"]] == [(round.pk, True, "open")]


def test_projects_filter_by_district_and_kind(project, district_2):
    other = make_project(district_2, kind="affordable_rental", name="涧西保障性租赁住房")
    api = client_for()

    by_district = api.get(PROJECTS, {"district": "jianxi"}).json()["results"]
    by_kind = api.get(PROJECTS, {"kind": "talent_apartment"}).json()["results"]
    both = api.get(PROJECTS, {"district": "jianxi", "kind": "talent_apartment"}).json()["results"]

    assert [p["id"] for p in by_district] == [other.pk]
    assert [p["id"] for p in by_kind] == [project.pk]
    assert both == []


@pytest.mark.parametrize(("query", "field"), [({"district": "atlantis"}, "district"), ({"kind": "castle"}, "kind")])
def test_projects_with_a_bad_filter_answer_400(project, query, field):
    response = client_for().get(PROJECTS, query)

    assert response.status_code == 400
    assert response.json()[field][0]


def test_project_detail_lists_the_published_rounds_with_units_and_the_seed_once_published(
    project, round, staff_1, clock
):
    make_round(project, name="草稿批次", status=RoundStatus.DRAFT)
    url = f"{PROJECTS}{project.pk}/"

    before = client_for().get(url)
    clock.set(clock.today + dt.timedelta(days=8))
    services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source=SEED_SOURCE)
    after = client_for().get(url)

    assert before.status_code == 200
    body = before.json()
    assert body["id"] == project.pk
    assert [t["name"] for t in body["unit_types"]] == ["两室一厅", "一室一厅", "单间"]
    [listed] = body["rounds"]
    assert listed["id"] == round.pk
    assert listed["is_open"] is True
    assert listed["status"] == "open"
    assert {c["unit_type_name"]: c["units"] for c in listed["unit_counts"]} == {"两室一厅": 2, "一室一厅": 2, "单间": 2}
    assert listed["public_seed"] is None and listed["seed_source"] is None
    [published] = after.json()["rounds"]
    assert published["is_open"] is False  # the window has closed
    assert published["public_seed"] == SEED
    assert published["seed_source"] == SEED_SOURCE


def test_unpublished_or_unknown_project_answers_404(project, applicant_a):
    project.published = False
    project.save()

    assert client_for().get(f"{PROJECTS}{project.pk}/").status_code == 404
    assert client_for(applicant_a).get(f"{PROJECTS}{project.pk}/eligibility/").status_code == 404
    assert client_for().get(f"{PROJECTS}999999/").status_code == 404
    assert client_for().get(f"{PROJECTS}abc/").status_code == 404


# --- eligibility --------------------------------------------------------------------------------


def test_eligibility_needs_sign_in(project):
    assert client_for().get(f"{PROJECTS}{project.pk}/eligibility/").status_code == 401


def test_eligibility_of_a_bachelor_for_a_talent_apartment(project, applicant_a):
    response = client_for(applicant_a).get(f"{PROJECTS}{project.pk}/eligibility/")

    assert response.status_code == 200
    body = response.json()
    assert body["eligible"] is True
    criteria = {c["code"]: c for c in body["criteria"]}
    assert set(criteria) == {"profile", "education", "no_active_lease"}
    assert criteria["education"]["passed"] is True
    assert "Bachelor" in criteria["education"]["message"]
    assert all(c["blocking"] is True for c in body["criteria"])
    assert body["parameters"]["graduation_years"] == 3
    assert HousingApplication.objects.count() == 0


def test_eligibility_of_a_junior_college_graduate_fails_on_education(project, applicant_a):
    _set_education(applicant_a, EducationLevel.JUNIOR_COLLEGE)

    body = client_for(applicant_a).get(f"{PROJECTS}{project.pk}/eligibility/").json()

    assert body["eligible"] is False
    education = next(c for c in body["criteria"] if c["code"] == "education")
    assert education["passed"] is False
    assert "bachelor's degree or above" in education["message"]


def test_eligibility_is_for_graduates_only(project, employer_x):
    response = client_for(employer_x).get(f"{PROJECTS}{project.pk}/eligibility/")

    assert response.status_code == 403
    assert "Only graduates" in response.json()["detail"]


# --- applications -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", APPLICATIONS),
        ("post", APPLICATIONS),
        ("get", f"{APPLICATIONS}1/"),
        ("post", f"{APPLICATIONS}1/withdraw/"),
        ("get", OFFERS),
        ("get", f"{OFFERS}1/"),
        ("post", f"{OFFERS}1/accept/"),
        ("post", f"{OFFERS}1/decline/"),
    ],
)
def test_applications_and_offers_need_sign_in(method, path):
    response = getattr(client_for(), method)(path)

    assert response.status_code == 401


def test_apply_and_find_the_application_in_my_list(applicant_a, round):
    certificate = Document.objects.get(owner=applicant_a, kind=DocumentKind.DEGREE_CERTIFICATE)
    small = round.project.unit_types.get(name="单间")
    api = client_for(applicant_a)

    response = _apply(applicant_a, round, unit_types=[small.pk], documents=[certificate.pk], note="  夫妻二人  ")

    assert response.status_code == 201, response.content
    body = response.json()
    application = HousingApplication.objects.get()
    assert body["id"] == application.pk
    assert body["reference"] == application.reference
    assert body["status"] == A.SUBMITTED
    assert body["round"]["id"] == round.pk
    assert body["project"] == {
        "id": round.project.pk,
        "name": round.project.name,
        "kind": "talent_apartment",
        "address": round.project.address,
    }
    assert [t["id"] for t in body["unit_types"]] == [small.pk]
    assert body["household_size"] == 2
    assert body["no_home_declared_at"]
    assert body["note"] == "夫妻二人"
    assert body["eligibility"]["eligible"] is True
    assert body["applicant_list"] == "graduate"
    assert body["bucket"] == "out_of_town"
    assert body["rank"] is None and body["offers"] == []
    assert list(application.documents.all()) == [certificate]
    listed = api.get(APPLICATIONS).json()["results"]
    assert [row["id"] for row in listed] == [application.pk]
    assert api.get(f"{APPLICATIONS}{application.pk}/").json()["reference"] == application.reference


def test_applying_through_a_form_post_works_too(applicant_a, round):
    body = {
        "round": round.pk,
        "unit_types": [t.pk for t in round.project.unit_types.all()],
        "household_size": "1",
        "no_home_declared": "true",
    }

    response = client_for(applicant_a).post(APPLICATIONS, body)

    assert response.status_code == 201, response.content
    assert len(response.json()["unit_types"]) == 3


def test_a_second_application_in_the_same_round_is_refused(applicant_a, round, application_a):
    response = _apply(applicant_a, round)

    assert response.status_code == 400
    body = response.json()
    assert body["failed_criteria"] == [{"code": "duplicate", "message": "You have already applied in this round."}]
    assert body["non_field_errors"] == ["You have already applied in this round."]
    assert HousingApplication.objects.count() == 1


def test_an_ineligible_graduate_is_refused_with_the_failed_criteria(applicant_a, round):
    _set_education(applicant_a, EducationLevel.JUNIOR_COLLEGE)

    response = _apply(applicant_a, round)

    assert response.status_code == 400
    body = response.json()
    assert [c["code"] for c in body["failed_criteria"]] == ["education"]
    assert "bachelor's degree" in body["non_field_errors"][0]
    assert HousingApplication.objects.count() == 0


def test_a_closed_round_is_refused(applicant_a, round, clock):
    clock.set(clock.today + dt.timedelta(days=8))

    response = _apply(applicant_a, round)

    assert response.status_code == 400
    assert [c["code"] for c in response.json()["failed_criteria"]] == ["closed"]
    assert "not taking applications" in response.json()["non_field_errors"][0]


def test_an_employer_cannot_apply(employer_x, round):
    response = _apply(employer_x, round)

    assert response.status_code == 403
    assert response.json()["detail"] == "Only graduates can apply for housing."
    assert HousingApplication.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"round": 999999}, "round", "No published round"),
        ({"round": "x"}, "round", ""),
        ("draft_round", "round", "No published round"),
        ("other_projects_type", "unit_types", "only unit types this round offers"),
        ("other_rounds_type", "unit_types", "only unit types this round offers"),
        ({"unit_types": [999999]}, "unit_types", "No unit type"),
        ({"unit_types": []}, "unit_types", ""),
        ({"unit_types": "all"}, "unit_types", ""),
        ("other_users_document", "documents", "your own uploaded documents"),
        ({"documents": [999999]}, "documents", "your own uploaded documents"),
        ({"no_home_declared": None}, "no_home_declared", ""),
        ({"no_home_declared": False}, "no_home_declared", "declaration that you own no home"),
        ({"no_home_declared": "perhaps"}, "no_home_declared", ""),
        ("no_declaration", "no_home_declared", "required"),
        ({"household_size": "two"}, "household_size", "valid integer"),
        ({"household_size": 0}, "household_size", ""),
        ({"household_size": 11}, "household_size", ""),
        ({"household_size": 2.5}, "household_size", ""),
        ({"note": "x" * 2001}, "note", ""),
    ],
)
def test_bad_application_input_answers_400_with_a_message(
    applicant_a, applicant_b, round, project, district_2, change, field, message
):
    body = _apply_body(round)
    if change == "draft_round":
        body["round"] = make_round(project, name="草稿批次", status=RoundStatus.DRAFT).pk
    elif change == "other_projects_type":
        body["unit_types"] = [make_project(district_2, name="涧西公寓").unit_types.first().pk]
    elif change == "other_rounds_type":
        # A type of this project that this round does not offer.
        only_big = make_round(project, name="大户型批次", units={"一室一厅": 0, "单间": 0})
        body["round"] = only_big.pk
        body["unit_types"] = [project.unit_types.get(name="单间").pk]
    elif change == "other_users_document":
        body["documents"] = [give_letter(applicant_b).pk]
    elif change == "no_declaration":
        del body["no_home_declared"]
    else:
        body.update(change)

    response = client_for(applicant_a).post(APPLICATIONS, body, format="json")

    assert response.status_code == 400
    errors = response.json()[field]
    assert errors and all(isinstance(e, str) and e for e in errors)
    assert message in errors[0]
    assert HousingApplication.objects.count() == 0


def test_another_graduates_application_answers_404(applicant_a, applicant_b, application_a):
    api = client_for(applicant_b)

    assert api.get(f"{APPLICATIONS}{application_a.pk}/").status_code == 404
    assert api.post(f"{APPLICATIONS}{application_a.pk}/withdraw/").status_code == 404
    assert api.get(APPLICATIONS).json()["results"] == []
    application_a.refresh_from_db()
    assert application_a.status == A.SUBMITTED


def test_staff_see_no_applications_of_their_own_here(staff_1, application_a):
    assert client_for(staff_1).get(f"{APPLICATIONS}{application_a.pk}/").status_code == 404


def test_my_applications_filter_by_status(applicant_a, application_a, project):
    other = housing_apply(applicant_a, make_round(project, name="第二批"))
    services.housing_application_withdraw(application=other, actor=applicant_a)
    api = client_for(applicant_a)

    withdrawn = api.get(APPLICATIONS, {"status": "withdrawn"}).json()["results"]
    bad = api.get(APPLICATIONS, {"status": "sleeping"})

    assert [row["id"] for row in withdrawn] == [other.pk]
    assert bad.status_code == 400


def test_withdraw_my_application(applicant_a, application_a):
    api = client_for(applicant_a)

    response = api.post(f"{APPLICATIONS}{application_a.pk}/withdraw/", {"reason": "已购房"}, format="json")
    again = api.post(f"{APPLICATIONS}{application_a.pk}/withdraw/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == A.WITHDRAWN
    assert response.json()["status_reason"] == "已购房"
    assert again.status_code == 400
    assert again.json()["non_field_errors"]


def test_withdrawing_with_too_long_a_reason_answers_400(applicant_a, application_a):
    response = client_for(applicant_a).post(
        f"{APPLICATIONS}{application_a.pk}/withdraw/", {"reason": "x" * 501}, format="json"
    )

    assert response.status_code == 400
    application_a.refresh_from_db()
    assert application_a.status == A.SUBMITTED


# --- offers after the draw ----------------------------------------------------------------------


@pytest.fixture
def one_unit_round(clock, district_1):
    """A round of a single 45 m² unit, so that two applicants compete for it."""
    return make_round(make_project(district_1, name="伊滨人才公寓", types=(("单间", "45", "900", 1),)))


@pytest.fixture
def drawn(one_unit_round, applicant_a, applicant_b, staff_1, clock, django_capture_on_commit_callbacks):
    """Both applicants approved and drawn; returns (winner, runner-up) by rank."""
    apps = [housing_apply(applicant_a, one_unit_round), housing_apply(applicant_b, one_unit_round)]
    _draw(one_unit_round, staff_1, clock, django_capture_on_commit_callbacks)
    first, second = sorted(HousingApplication.objects.filter(pk__in=[a.pk for a in apps]), key=lambda a: a.rank)
    return first.applicant, second.applicant


def test_the_winner_sees_the_offer_and_the_runner_up_none(drawn):
    winner, runner_up = drawn

    offers = client_for(winner).get(OFFERS).json()["results"]
    application = client_for(winner).get(APPLICATIONS).json()["results"][0]

    [offer] = offers
    db_offer = HousingOffer.objects.get()
    assert offer["id"] == db_offer.pk
    assert offer["status"] == OfferStatus.OFFERED
    assert offer["application"] == db_offer.application_id
    assert offer["reference"] == db_offer.application.reference
    assert offer["project"]["name"] == "伊滨人才公寓"
    assert offer["unit"]["label"] == "3-101"
    assert offer["unit"]["unit_type"]["name"] == "单间"
    assert offer["deadline"]
    assert application["rank"] == 1
    assert application["bucket_rank"] == 1
    assert [o["id"] for o in application["offers"]] == [db_offer.pk]
    assert application["offers"][0]["unit"]["label"] == "3-101"
    assert client_for(runner_up).get(OFFERS).json()["results"] == []


def test_another_graduates_offer_answers_404(drawn):
    winner, runner_up = drawn
    offer = HousingOffer.objects.get()
    api = client_for(runner_up)

    assert api.get(f"{OFFERS}{offer.pk}/").status_code == 404
    assert api.post(f"{OFFERS}{offer.pk}/accept/").status_code == 404
    assert api.post(f"{OFFERS}{offer.pk}/decline/").status_code == 404
    assert api.post(f"{APPLICATIONS}{offer.application_id}/withdraw/").status_code == 404
    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED
    assert Lease.objects.count() == 0


def test_decline_passes_the_unit_to_the_next_who_accepts_and_gets_the_lease(drawn, django_capture_on_commit_callbacks):
    winner, runner_up = drawn
    first_offer = HousingOffer.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        declined = client_for(winner).post(
            f"{OFFERS}{first_offer.pk}/decline/", {"reason": "离单位太远"}, format="json"
        )
    [second_offer] = client_for(runner_up).get(OFFERS).json()["results"]
    accepted = client_for(runner_up).post(f"{OFFERS}{second_offer['id']}/accept/")

    assert declined.status_code == 200, declined.content
    assert declined.json()["status"] == OfferStatus.DECLINED
    assert declined.json()["status_reason"] == "离单位太远"
    assert second_offer["unit"]["id"] == first_offer.unit_id
    assert accepted.status_code == 200, accepted.content
    lease = Lease.objects.get()
    body = accepted.json()
    assert body["id"] == lease.pk
    assert body["offer"] == second_offer["id"]
    assert body["unit"]["label"] == "3-101"
    assert body["project"]["name"] == "伊滨人才公寓"
    assert body["start"] == timezone.localdate().isoformat()
    assert body["end"] == lease.end.isoformat()
    assert body["monthly_rent"] == "900.00"
    assert body["rent_free_months"] == 12
    assert body["rent_free_until"] == lease.rent_free_until.isoformat()
    assert body["reduced_rent_percent"] == 50
    assert body["status"] == "active"
    assert lease.tenant == runner_up
    assert Unit.objects.get().state == UnitState.LET
    mine = client_for(runner_up).get(APPLICATIONS).json()["results"][0]
    assert mine["status"] == A.HOUSED
    assert client_for(winner).get(APPLICATIONS).json()["results"][0]["status"] == A.DECLINED


def test_an_offer_is_answered_once(drawn):
    winner, _ = drawn
    offer = HousingOffer.objects.get()
    api = client_for(winner)

    assert api.post(f"{OFFERS}{offer.pk}/accept/").status_code == 200
    again = api.post(f"{OFFERS}{offer.pk}/accept/")
    decline = api.post(f"{OFFERS}{offer.pk}/decline/")

    assert again.status_code == 400 and again.json()["non_field_errors"]
    assert decline.status_code == 400 and decline.json()["non_field_errors"]
    assert Lease.objects.count() == 1


def test_an_offer_past_its_deadline_cannot_be_accepted(drawn, clock):
    winner, _ = drawn
    offer = HousingOffer.objects.get()
    clock.set(clock.today + dt.timedelta(days=8))

    response = client_for(winner).post(f"{OFFERS}{offer.pk}/accept/")

    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["The deadline to answer this offer has passed."]
    assert Lease.objects.count() == 0
    assert Unit.objects.get().state == UnitState.OFFERED


def test_declining_with_too_long_a_reason_answers_400(drawn):
    winner, _ = drawn
    offer = HousingOffer.objects.get()

    response = client_for(winner).post(f"{OFFERS}{offer.pk}/decline/", {"reason": "x" * 501}, format="json")

    assert response.status_code == 400
    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED


def test_after_the_draw_an_application_is_not_withdrawn(drawn):
    winner, _ = drawn
    application = HousingApplication.objects.get(applicant=winner)

    response = client_for(winner).post(f"{APPLICATIONS}{application.pk}/withdraw/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "decline the offer instead" in response.content.decode()
    application.refresh_from_db()
    assert application.status == A.APPROVED


# --- schema and query budgets -------------------------------------------------------------------


def test_the_openapi_schema_includes_the_housing_paths(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        PROJECTS,
        f"{PROJECTS}{{id}}/",
        f"{PROJECTS}{{id}}/eligibility/",
        APPLICATIONS,
        f"{APPLICATIONS}{{id}}/",
        f"{APPLICATIONS}{{id}}/withdraw/",
        OFFERS,
        f"{OFFERS}{{id}}/",
        f"{OFFERS}{{id}}/accept/",
        f"{OFFERS}{{id}}/decline/",
    ):
        assert path in paths, path
    assert "post" in paths[APPLICATIONS]
    assert {"district", "kind"} <= {p["name"] for p in paths[PROJECTS]["get"]["parameters"]}
    assert paths[f"{PROJECTS}{{id}}/"]["get"]["parameters"][0]["schema"]["type"] == "integer"


def test_the_openapi_schema_is_valid_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def _count(api, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_projects_list_queries_do_not_grow_with_the_projects(clock, district_1, district_2):
    def add(n: int, offset: int) -> None:
        for i in range(n):
            project = make_project(district_1 if i % 2 else district_2, name=f"人才公寓{offset + i}")
            make_round(project)
            ProjectPhoto.objects.create(project=project, image="housing/a.jpg", thumbnail="housing/a-t.jpg")
            ProjectPhoto.objects.create(project=project, image="housing/b.jpg", thumbnail="housing/b-t.jpg")

    api = client_for()
    add(2, 0)
    few = _count(api, PROJECTS)
    add(10, 100)

    many = _count(api, PROJECTS)

    assert few == many
    assert many <= 5  # count, projects with vacancies, unit types, photos, open rounds


def test_my_applications_and_offers_queries_do_not_grow_with_the_rows(applicant_a, project):
    def add(n: int, offset: int) -> None:
        for i in range(n):
            app = housing_apply(applicant_a, make_round(project, name=f"第{offset + i}批"))
            unit = Unit.objects.filter(project=project, state=UnitState.VACANT).first()
            HousingOffer.objects.create(application=app, unit=unit, deadline=timezone.now() + dt.timedelta(days=7))
            Unit.objects.filter(pk=unit.pk).update(state=UnitState.OFFERED)

    api = client_for(applicant_a)
    add(2, 0)
    few_apps, few_offers = _count(api, APPLICATIONS), _count(api, OFFERS)
    add(4, 100)

    many_apps, many_offers = _count(api, APPLICATIONS), _count(api, OFFERS)

    assert few_apps == many_apps
    assert few_offers == many_offers
    assert many_apps <= 4 and many_offers <= 2
    assert len(api.get(APPLICATIONS).json()["results"]) == 6

"""The subsidies API under /api/v1/: the programmes for anyone, the eligibility preview for
the signed-in graduate or employer (the rule the check runs), applying, sending a draft and
withdrawing, and employers' traineeship claims per trainee and month. Bad input answers 400
with a message (never 500), a programme that is not for the caller 403, another person's
application 404, anonymous callers 401; every path is in the OpenAPI schema; the lists run
a constant number of queries."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.constants import PositionKind
from portal.constants import DocumentKind
from portal.rules import months_later
from subsidies import services
from subsidies.models import Programme, SubsidyApplication
from tests.apartments.conftest import give_letter
from tests.jobs.factories import TraineeshipBaseFactory
from tests.portal.factories import OrganisationFactory
from tests.subsidies.conftest import hire as _hire
from tests.subsidies.conftest import verified_employer as _verified_employer

pytestmark = pytest.mark.django_db

PROGRAMMES = "/api/v1/subsidy-programmes/"
APPLICATIONS = "/api/v1/subsidy-applications/"
CLAIMS = "/api/v1/traineeship-claims/"
ALL_CODES = [
    "interview-travel",
    "traineeship-living",
    "employer-hiring",
    "university-base",
    "incubation-rent",
    "startup-loan",
    "rent-subsidy",
]


def client_for(user=None, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_authenticate(user)
    return client


def _eligibility(user, code: str, **params):
    return client_for(user).get(f"{PROGRAMMES}{code}/eligibility/", params)


def _criteria(body) -> dict[str, bool]:
    return {c["code"]: c["passed"] for c in body["criteria"]}


def _month(day=None) -> str:
    return f"{day or timezone.localdate():%Y-%m}"


def _apply(user, **body):
    return client_for(user).post(APPLICATIONS, body, format="json")


# --- programmes ---------------------------------------------------------------------------------


def test_programmes_list_is_public_with_kinds_windows_documents_and_inputs():
    response = client_for().get(PROGRAMMES)

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["results"]}
    assert list(rows) == ALL_CODES
    interview = rows["interview-travel"]
    assert interview["name"] == "Interview travel subsidy"
    assert "interview" in interview["description"]
    assert (interview["applicant_kind"], interview["period_kind"]) == ("graduate", "once")
    assert interview["is_open"] is True and interview["pays_money"] is True
    assert interview["opens_on"] is None and interview["closes_on"] is None
    assert interview["required_documents"] == [] and interview["inputs"] == []
    assert rows["university-base"]["required_documents"] == [{"kind": "business_licence", "label": "Business licence"}]
    assert rows["university-base"]["inputs"] == ["organisation", "university", "base_name", "scale"]
    assert rows["traineeship-living"]["inputs"] == ["job_application", "month"]
    assert rows["rent-subsidy"]["inputs"] == ["month", "months"]
    assert rows["employer-hiring"]["cannot_combine_with"] == ["traineeship-living"]
    assert rows["traineeship-living"]["cannot_combine_with"] == ["employer-hiring"]
    assert rows["startup-loan"]["pays_money"] is False


def test_programmes_speak_chinese_by_default_and_hide_inactive_ones():
    Programme.objects.filter(code="startup-loan").update(active=False)

    rows = client_for(language="zh-hans").get(PROGRAMMES).json()["results"]

    assert "startup-loan" not in [r["code"] for r in rows]
    assert rows[0]["name"] == "面试路费补贴"
    assert client_for().get(f"{PROGRAMMES}startup-loan/").status_code == 404


def test_a_closed_programme_is_listed_as_not_open():
    Programme.objects.filter(code="rent-subsidy").update(closes_on=timezone.localdate().replace(year=2020))

    row = client_for().get(f"{PROGRAMMES}rent-subsidy/").json()

    assert row["code"] == "rent-subsidy" and row["is_open"] is False


def test_programmes_filter_by_who_applies():
    employer = client_for().get(PROGRAMMES, {"applicant_kind": "employer"}).json()["results"]
    bad = client_for().get(PROGRAMMES, {"applicant_kind": "alien"})

    assert [r["code"] for r in employer] == ["traineeship-living", "employer-hiring", "university-base"]
    assert bad.status_code == 400 and bad.json()["applicant_kind"][0]


def test_unknown_programme_answers_404(grad):
    assert client_for().get(f"{PROGRAMMES}no-such-thing/").status_code == 404
    assert _eligibility(grad, "no-such-thing").status_code == 404


# --- eligibility --------------------------------------------------------------------------------


def test_eligibility_needs_sign_in():
    assert client_for().get(f"{PROGRAMMES}interview-travel/eligibility/").status_code == 401


def test_a_graduate_invited_to_an_interview_is_eligible_for_the_travel_subsidy(grad):
    response = _eligibility(grad, "interview-travel")

    assert response.status_code == 200
    body = response.json()
    assert body["eligible"] is True
    assert body["amount"] == "500.00"
    assert _criteria(body) == {"profile": True, "hukou": True, "graduation": True, "interview": True, "once": True}
    assert all(c["blocking"] for c in body["criteria"])
    assert "Interview: invited by" in next(c["message"] for c in body["criteria"] if c["code"] == "interview")
    assert body["parameters"]["rule"] == "interview_travel"
    assert Decimal(body["parameters"]["subsidy-interview-amount"]) == 500
    assert not SubsidyApplication.objects.exists()


def test_without_an_interview_the_graduate_is_not_eligible_and_told_why(grad_no_interview):
    body = _eligibility(grad_no_interview, "interview-travel").json()

    assert body["eligible"] is False
    assert _criteria(body)["interview"] is False
    assert "no invitation" in next(c["message"] for c in body["criteria"] if c["code"] == "interview")


def test_the_rent_subsidy_preview_counts_the_months_given(grad):
    three = _eligibility(grad, "rent-subsidy", months=3, month=_month()).json()
    none = _eligibility(grad, "rent-subsidy").json()

    assert three["amount"] == "900.00" and three["eligible"] is True
    assert none["eligible"] is False and _criteria(none)["months"] is False


@pytest.mark.parametrize(
    ("code", "params", "field"),
    [
        ("rent-subsidy", {"month": "2026-13"}, "month"),
        ("rent-subsidy", {"month": "9999-12", "months": "12"}, "month"),
        ("rent-subsidy", {"months": "many"}, "months"),
        ("rent-subsidy", {"months": "99"}, "months"),
        ("interview-travel", {"month": "2026-05"}, "month"),
        ("interview-travel", {"organisation": "1"}, "organisation"),
        ("incubation-rent", {"monthly_rent": "cheap"}, "monthly_rent"),
        ("startup-loan", {"product": "castle"}, "product"),
    ],
)
def test_bad_eligibility_parameters_answer_400(grad, code, params, field):
    response = _eligibility(grad, code, **params)

    assert response.status_code == 400
    assert response.json()[field][0]


@pytest.mark.parametrize("code", ["traineeship-living", "employer-hiring", "university-base"])
def test_a_graduate_gets_403_for_an_employer_programme(grad, code):
    response = _eligibility(grad, code)

    assert response.status_code == 403
    assert "Only members of an employer" in response.json()["detail"]


def test_an_employer_gets_403_for_a_graduate_programme(base):
    _org, employer, _hire_row = base

    response = _eligibility(employer, "interview-travel")

    assert response.status_code == 403
    assert "Only graduates" in response.json()["detail"]


def test_a_traineeship_base_sees_the_monthly_amount_for_its_trainee(base):
    _org, employer, hire = base

    response = _eligibility(employer, "traineeship-living", job_application=hire.pk, month=_month())

    assert response.status_code == 200
    body = response.json()
    assert body["eligible"] is True, body
    assert body["amount"] == "1600.00"
    assert _criteria(body)["trainee"] is True and _criteria(body)["base"] is True


def test_the_employer_preview_needs_one_of_its_own_hires(base, district_2):
    org, employer, _hire_row = base
    org_y, employer_y = _verified_employer(district_2)
    hire_y = _hire(org_y, employer_y)
    job_hire = _hire(org, employer, kind=PositionKind.JOB)

    missing = _eligibility(employer, "traineeship-living")
    other = _eligibility(employer, "traineeship-living", job_application=hire_y.pk)
    not_traineeship = _eligibility(employer, "traineeship-living", job_application=job_hire.pk)
    garbage = _eligibility(employer, "traineeship-living", job_application="abc")
    as_hiring = _eligibility(employer, "employer-hiring", job_application=job_hire.pk)

    assert missing.status_code == 400 and missing.json()["job_application"] == ["Choose the trainee."]
    assert other.status_code == 400 and "traineeship position" in other.json()["job_application"][0]
    assert not_traineeship.status_code == 400
    assert garbage.status_code == 400 and garbage.json()["job_application"][0]
    assert as_hiring.status_code == 200 and _criteria(as_hiring.json())["hire"] is True


def test_an_employer_with_several_organisations_names_one_for_a_yearly_claim(base, district_1, district_2):
    org, employer, _hire_row = base
    OrganisationFactory(verified=True, district=district_1, owner=employer)
    foreign, _other = _verified_employer(district_2)

    unnamed = _eligibility(employer, "university-base")
    named = _eligibility(employer, "university-base", organisation=org.pk, university="河南科技大学")
    not_mine = _eligibility(employer, "university-base", organisation=foreign.pk)

    assert unnamed.status_code == 400 and unnamed.json()["organisation"]
    assert named.status_code == 200 and named.json()["amount"] == "100000.00"
    assert _criteria(named.json())["university"] is True
    assert not_mine.status_code == 400 and not_mine.json()["organisation"] == ["Choose one of your organisations."]


# --- applications -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", APPLICATIONS),
        ("post", APPLICATIONS),
        ("get", f"{APPLICATIONS}1/"),
        ("post", f"{APPLICATIONS}1/submit/"),
        ("post", f"{APPLICATIONS}1/withdraw/"),
        ("get", CLAIMS),
        ("post", CLAIMS),
        ("get", f"{CLAIMS}1/"),
    ],
)
def test_applications_and_claims_need_sign_in(method, path):
    assert getattr(client_for(), method)(path).status_code == 401


def test_apply_then_the_check_makes_the_application_eligible(grad, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(grad, programme="interview-travel")

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["reference"].startswith("S")
    assert created["programme"]["code"] == "interview-travel"
    assert created["organisation"] is None and created["job_application"] is None
    assert created["amount"] == "500.00"
    detail = client_for(grad).get(f"{APPLICATIONS}{created['id']}/").json()
    assert detail["status"] == "eligible"
    assert detail["eligibility"]["eligible"] is True
    assert _criteria(detail["eligibility"])["interview"] is True
    [check] = detail["checks"]
    assert check["eligible"] is True and check["amount"] == "500.00" and check["reason"] == "submitted"
    assert check["parameters"]["rule"] == "interview_travel"
    assert [(c["from_status"], c["to_status"]) for c in detail["status_changes"]] == [
        ("draft", "submitted"),
        ("submitted", "eligible"),
    ]
    assert detail["can_withdraw"] is True and detail["can_submit"] is False
    assert detail["beneficiary_name"] == grad.profile.real_name
    listed = client_for(grad).get(APPLICATIONS).json()["results"]
    assert [(a["id"], a["status"]) for a in listed] == [(created["id"], "eligible")]


def test_an_ineligible_graduate_may_apply_and_the_check_says_why(grad_no_interview, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(grad_no_interview, programme="interview-travel")

    detail = client_for(grad_no_interview).get(f"{APPLICATIONS}{response.json()['id']}/").json()
    assert detail["status"] == "ineligible"
    assert _criteria(detail["eligibility"])["interview"] is False


def test_a_second_application_for_the_same_person_and_period_answers_400(grad, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _apply(grad, programme="interview-travel").status_code == 201

    response = _apply(grad, programme="interview-travel")

    assert response.status_code == 400
    assert "already exists" in response.json()["non_field_errors"][0]
    assert SubsidyApplication.objects.count() == 1


def test_a_draft_is_kept_then_sent(grad, django_capture_on_commit_callbacks):
    draft = _apply(grad, programme="rent-subsidy", month=_month(), details={"months": 2}, submit=False).json()
    url = f"{APPLICATIONS}{draft['id']}/"

    assert draft["status"] == "draft" and draft["can_submit"] is True
    assert draft["details"] == {"months": 2}
    assert draft["amount"] == "600.00"
    assert draft["period_start"] == f"{_month()}-01"
    assert draft["checks"] == []
    with django_capture_on_commit_callbacks(execute=True):
        sent = client_for(grad).post(f"{url}submit/")
    again = client_for(grad).post(f"{url}submit/")

    assert sent.status_code == 200 and sent.json()["status"] == "submitted"
    assert client_for(grad).get(url).json()["status"] == "eligible"
    assert again.status_code == 400 and again.json()["non_field_errors"][0]


def test_withdraw_my_application(grad, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = _apply(grad, programme="interview-travel").json()

    response = client_for(grad).post(f"{APPLICATIONS}{created['id']}/withdraw/", {"reason": "不需要了"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "withdrawn" and body["can_withdraw"] is False
    assert body["status_changes"][-1] == {
        "from_status": "eligible",
        "to_status": "withdrawn",
        "reason": "不需要了",
        "created_at": body["status_changes"][-1]["created_at"],
    }
    too_long = client_for(grad).post(f"{APPLICATIONS}{created['id']}/withdraw/", {"reason": "x" * 501}, format="json")
    assert too_long.status_code == 400 and too_long.json()["reason"]


def test_another_persons_application_answers_404(grad, grad_no_interview, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = _apply(grad, programme="interview-travel").json()
    other = client_for(grad_no_interview)

    assert other.get(f"{APPLICATIONS}{created['id']}/").status_code == 404
    assert other.post(f"{APPLICATIONS}{created['id']}/submit/").status_code == 404
    assert other.post(f"{APPLICATIONS}{created['id']}/withdraw/").status_code == 404
    assert other.get(APPLICATIONS).json()["results"] == []
    assert client_for(grad).get(f"{APPLICATIONS}abc/").status_code == 404


def test_my_applications_filter_by_status_and_programme(grad, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _apply(grad, programme="interview-travel")
    _apply(grad, programme="rent-subsidy", details={"months": 1}, submit=False)
    api = client_for(grad)

    drafts = api.get(APPLICATIONS, {"status": "draft"}).json()["results"]
    interview = api.get(APPLICATIONS, {"programme": "interview-travel"}).json()["results"]
    bad = api.get(APPLICATIONS, {"status": "sleeping"})

    assert [a["programme"]["code"] for a in drafts] == ["rent-subsidy"]
    assert [a["status"] for a in interview] == ["eligible"]
    assert bad.status_code == 400


def test_documents_are_attached_and_only_my_own(grad, grad_no_interview):
    mine = give_letter(grad, kind=DocumentKind.INVITATION_LETTER)
    theirs = give_letter(grad_no_interview)

    refused = _apply(grad, programme="interview-travel", documents=[theirs.pk], submit=False)
    created = _apply(grad, programme="interview-travel", documents=[mine.pk], submit=False)

    assert refused.status_code == 400
    assert refused.json()["documents"] == ["Choose only your own uploaded documents."]
    assert created.status_code == 201
    assert [d["id"] for d in created.json()["documents"]] == [mine.pk]


def test_a_required_document_missing_is_a_400_on_documents(base):
    org, employer, _hire_row = base

    response = _apply(
        employer,
        programme="university-base",
        details={"university": "河南科技大学", "base_name": "轴承联合实验室", "scale": "30 名学生"},
    )

    assert response.status_code == 400
    assert "Business licence" in response.json()["documents"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"programme": "no-such-thing"}, "programme"),
        ({}, "programme"),
        ({"programme": "rent-subsidy"}, "details"),
        ({"programme": "rent-subsidy", "details": {"months": 0}}, "details"),
        ({"programme": "rent-subsidy", "details": {"months": 1}, "month": "May"}, "month"),
        ({"programme": "interview-travel", "details": "nothing"}, "details"),
        ({"programme": "interview-travel", "job_application": 1}, "job_application"),
        ({"programme": "interview-travel", "submit": "perhaps"}, "submit"),
        ({"programme": "interview-travel", "documents": ["x"]}, "documents"),
    ],
)
def test_bad_application_input_answers_400(grad, body, field):
    response = _apply(grad, **body)

    assert response.status_code == 400
    assert response.json()[field]
    assert not SubsidyApplication.objects.exists()


def test_the_details_errors_are_named_per_detail(grad):
    response = _apply(grad, programme="incubation-rent", details={"months": 3, "monthly_rent": "-5"})

    errors = response.json()["details"]
    assert set(errors) == {"business_name", "credit_code", "incubator", "monthly_rent"}


def test_a_closed_programme_refuses_applications(grad):
    Programme.objects.filter(code="interview-travel").update(closes_on=timezone.localdate().replace(year=2020))

    response = _apply(grad, programme="interview-travel")

    assert response.status_code == 400
    assert "not taking applications" in response.json()["non_field_errors"][0]


def test_roles_that_may_not_apply_get_403(grad, base):
    _org, employer, _hire_row = base

    assert _apply(employer, programme="interview-travel").status_code == 403
    assert _apply(grad, programme="traineeship-living", month=_month()).status_code == 403


# --- traineeship claims -------------------------------------------------------------------------


def test_a_traineeship_base_claims_for_its_trainee_and_month(base, django_capture_on_commit_callbacks):
    org, employer, hire = base
    api = client_for(employer)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(CLAIMS, {"job_application": hire.pk, "month": _month()}, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["programme"]["code"] == "traineeship-living"
    assert created["organisation"] == {"id": org.pk, "name": org.name}
    assert created["job_application"] == hire.pk
    assert created["beneficiary_name"] == hire.applicant.profile.real_name
    assert created["amount"] == "1600.00"
    assert created["period_start"] == f"{_month()}-01"
    detail = api.get(f"{CLAIMS}{created['id']}/").json()
    assert detail["status"] == "eligible"
    assert _criteria(detail["eligibility"])["trainee"] is True
    assert [c["id"] for c in api.get(CLAIMS).json()["results"]] == [created["id"]]
    assert [c["id"] for c in api.get(CLAIMS, {"job_application": hire.pk}).json()["results"]] == [created["id"]]
    assert [c["id"] for c in api.get(APPLICATIONS, {"organisation": org.pk}).json()["results"]] == [created["id"]]
    assert api.get(f"{APPLICATIONS}{created['id']}/").status_code == 200
    # The same month again is a duplicate.
    again = api.post(CLAIMS, {"job_application": hire.pk, "month": _month()}, format="json")
    assert again.status_code == 400 and "already exists" in again.json()["non_field_errors"][0]


def test_a_traineeship_claim_through_the_applications_endpoint_is_the_same(base, django_capture_on_commit_callbacks):
    _org, employer, hire = base

    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(employer, programme="traineeship-living", job_application=hire.pk, month=_month())

    assert response.status_code == 201
    assert client_for(employer).get(CLAIMS).json()["results"][0]["id"] == response.json()["id"]


def test_a_traineeship_claim_may_be_kept_as_a_draft_and_withdrawn(base):
    _org, employer, hire = base
    api = client_for(employer)

    draft = api.post(CLAIMS, {"job_application": hire.pk, "month": _month(), "submit": False}, format="json").json()
    withdrawn = api.post(f"{CLAIMS}{draft['id']}/withdraw/")

    assert draft["status"] == "draft"
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_another_employer_cannot_claim_for_the_trainee_nor_see_the_claim(base, district_2):
    _org, employer, hire = base
    org_y, employer_y = _verified_employer(district_2)
    TraineeshipBaseFactory(organisation=org_y)
    claim = services.subsidy_application_create(
        programme=Programme.objects.get(code="traineeship-living"),
        applicant=employer,
        organisation=hire.position.organisation,
        job_application_id=hire.pk,
        period_start=timezone.localdate(),
        submit=False,
    )
    api_y = client_for(employer_y)

    response = api_y.post(CLAIMS, {"job_application": hire.pk, "month": _month()}, format="json")

    assert response.status_code == 400
    assert "traineeship position" in response.json()["job_application"][0]
    assert api_y.get(f"{CLAIMS}{claim.pk}/").status_code == 404
    assert api_y.get(f"{APPLICATIONS}{claim.pk}/").status_code == 404
    assert api_y.post(f"{CLAIMS}{claim.pk}/withdraw/").status_code == 404
    assert api_y.get(CLAIMS).json()["results"] == []
    assert SubsidyApplication.objects.count() == 1


def test_a_graduate_or_staff_member_cannot_claim(base, grad, staff_1):
    _org, _employer, hire = base

    for user in (grad, staff_1):
        response = client_for(user).post(CLAIMS, {"job_application": hire.pk, "month": _month()}, format="json")
        assert response.status_code == 403
        assert "Only members of an employer" in response.json()["detail"]
    assert client_for(grad).get(CLAIMS).json()["results"] == []


def test_a_job_hire_is_no_traineeship_claim(base):
    org, employer, _hire_row = base
    job_hire = _hire(org, employer, kind=PositionKind.JOB)

    response = client_for(employer).post(CLAIMS, {"job_application": job_hire.pk, "month": _month()}, format="json")

    assert response.status_code == 400 and response.json()["job_application"]


def test_an_unverified_employer_is_refused_by_the_service(base, district_1):
    org, employer, hire = base
    org.status = "pending"
    org.save(update_fields=["status"])

    response = client_for(employer).post(CLAIMS, {"job_application": hire.pk, "month": _month()}, format="json")

    assert response.status_code == 400
    assert "verified" in response.json()["non_field_errors"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "2026-05"}, "job_application"),
        ({"job_application": "x", "month": "2026-05"}, "job_application"),
        ({"job_application": 1}, "month"),
        ({"job_application": 1, "month": "1999-12"}, "month"),
    ],
)
def test_bad_claim_input_answers_400(base, body, field):
    _org, employer, _hire_row = base

    response = client_for(employer).post(CLAIMS, body, format="json")

    assert response.status_code == 400 and response.json()[field]


# --- schema and query budgets -------------------------------------------------------------------


def test_the_openapi_schema_includes_the_subsidy_paths(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        PROGRAMMES,
        f"{PROGRAMMES}{{code}}/",
        f"{PROGRAMMES}{{code}}/eligibility/",
        APPLICATIONS,
        f"{APPLICATIONS}{{id}}/",
        f"{APPLICATIONS}{{id}}/submit/",
        f"{APPLICATIONS}{{id}}/withdraw/",
        CLAIMS,
        f"{CLAIMS}{{id}}/",
        f"{CLAIMS}{{id}}/submit/",
        f"{CLAIMS}{{id}}/withdraw/",
    ):
        assert path in paths, path
    assert "post" in paths[APPLICATIONS] and "post" in paths[CLAIMS]
    names = {p["name"] for p in paths[f"{PROGRAMMES}{{code}}/eligibility/"]["get"]["parameters"]}
    assert {"organisation", "job_application", "month", "months", "product"} <= names
    assert {"status", "programme"} <= {p["name"] for p in paths[APPLICATIONS]["get"]["parameters"]}
    assert paths[f"{APPLICATIONS}{{id}}/"]["get"]["parameters"][0]["schema"]["type"] == "integer"


def _count(api, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_programmes_list_queries_are_bounded():
    assert _count(client_for(), PROGRAMMES) <= 4  # count, programmes, and the two exclusion directions


def test_my_applications_queries_do_not_grow_with_the_rows(grad):
    rent = Programme.objects.get(code="rent-subsidy")

    def add(n: int, offset: int) -> None:
        for i in range(n):
            services.subsidy_application_create(
                programme=rent,
                applicant=grad,
                period_start=months_later(timezone.localdate(), -(offset + i)),
                details={"months": 1},
                submit=False,
            )

    api = client_for(grad)
    add(2, 0)
    few = _count(api, APPLICATIONS)
    add(5, 10)

    many = _count(api, APPLICATIONS)

    assert few == many
    assert many <= 2  # count and rows
    assert len(api.get(APPLICATIONS).json()["results"]) == 7


def test_traineeship_claims_queries_do_not_grow_with_the_trainees(base):
    org, employer, hire = base
    programme = Programme.objects.get(code="traineeship-living")

    def claim(hire_row) -> None:
        services.subsidy_application_create(
            programme=programme,
            applicant=employer,
            organisation=org,
            job_application_id=hire_row.pk,
            period_start=timezone.localdate(),
            submit=False,
        )

    api = client_for(employer)
    claim(hire)
    few = _count(api, CLAIMS)
    for _i in range(4):
        claim(_hire(org, employer))

    many = _count(api, CLAIMS)

    assert few == many
    assert many <= 2
    assert len(api.get(CLAIMS).json()["results"]) == 5


# --- found by the API fuzz test (tests/portal/test_api_fuzz.py) ------------------------------------


def test_a_graduate_s_application_has_no_job_application_and_the_schema_allows_null(client, grad):
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)

    created = _apply(grad, programme="interview-travel", submit=False)
    detail = client_for(grad).get(f"{APPLICATIONS}{created.json()['id']}/")

    assert created.status_code == 201 and detail.status_code == 200
    assert created.json()["job_application"] is None and detail.json()["job_application"] is None
    for component in ("SubsidyApplication", "SubsidyApplicationDetail"):
        assert schema["components"]["schemas"][component]["properties"]["job_application"]["nullable"] is True


def test_details_that_are_not_an_object_answer_a_400_the_schema_allows(client, grad):
    refused = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)[
        "components"
    ]["schemas"]["SubsidyApplicationRefused"]

    response = _apply(grad, programme="rent-subsidy", details=[None, None])

    assert response.status_code == 400
    assert isinstance(response.json()["details"], list)  # "Expected a dictionary of items ..."
    assert "type" not in refused["properties"]["details"]  # a list or an object of errors per detail

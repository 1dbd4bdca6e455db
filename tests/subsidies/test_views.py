"""The subsidy pages: the list of open programmes, each programme's page with the signed-in
graduate's or employer's criteria (✓/✗ with the values used) and the amount before
applying, the application and claim forms with their refusals, "My subsidies", an
application's checks, withdrawing, and the public notice board with objections. Another
person's application answers 404, an employer cannot claim for another employer's hire,
and the list pages run a bounded number of queries."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs.constants import PositionKind
from portal.constants import DocumentKind, Role
from portal.models import User
from subsidies import services
from subsidies.constants import SubsidyStatus as S
from subsidies.models import EligibilityCheck, Objection, Programme, SubsidyApplication
from tests.apartments.conftest import give_letter
from tests.jobs.factories import TraineeshipBaseFactory
from tests.portal.factories import OrganisationFactory
from tests.subsidies.conftest import hire as _hire
from tests.subsidies.conftest import make_subsidy_graduate
from tests.subsidies.conftest import verified_employer as _verified_employer

pytestmark = pytest.mark.django_db

PROGRAMMES = reverse("subsidies:programmes")
MINE = reverse("subsidies:mine")
NOTICES = reverse("subsidies:notices")
LOGIN = reverse("account_login")


def _url(name: str, code: str) -> str:
    return reverse(f"subsidies:{name}", args=[code])


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _criteria(response) -> dict[str, bool]:
    """code → passed, as the page shows the criteria."""
    found = re.findall(r'data-code="(\w+)" data-passed="(yes|no)"', response.content.decode())
    return {code: passed == "yes" for code, passed in found}


def _verdict(response) -> str | None:
    found = re.search(r'data-testid="verdict" data-eligible="(yes|no)"', response.content.decode())
    return found.group(1) if found else None


def _as(client, user):
    client.force_login(user)
    return client


def _month(day) -> str:
    return f"{day:%Y-%m}"


@pytest.fixture
def client_en(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _notice_application(graduate, staff, capture) -> SubsidyApplication:
    """A graduate's rent subsidy for this month, checked eligible, approved, in public notice."""
    with capture(execute=True):
        app = services.subsidy_application_create(
            programme=Programme.objects.get(code="rent-subsidy"),
            applicant=graduate,
            period_start=timezone.localdate(),
            details={"months": 1},
        )
    app.refresh_from_db()
    assert app.status == S.ELIGIBLE, app.eligibility
    services.subsidy_approve(application=app, actor=staff)
    app.refresh_from_db()
    assert app.status == S.NOTICE
    return app


# --- the list of programmes --------------------------------------------------------------------


def test_programmes_page_lists_the_open_programmes_for_everyone(client_en):
    response = client_en.get(PROGRAMMES)
    text = _text(response)

    assert response.status_code == 200
    for name in (
        "Interview travel subsidy",
        "Traineeship living subsidy",
        "Employer graduate-hiring subsidy",
        "University–enterprise base subsidy",
        "Incubation rent waiver",
        "Start-up guaranteed loan referral",
        "Rent subsidy",
    ):
        assert name in text
    assert "For graduates" in text and "For employers" in text
    assert "Once per person" in text and "Per month" in text
    assert "attach: Business licence" in text
    assert "to see which programmes you qualify for" in text


def test_programmes_page_tells_a_graduate_and_an_employer_what_they_can_apply_for(client_en, grad, base):
    org, employer, _hire_row = base
    text = _text(_as(client_en, grad).get(PROGRAMMES))
    for_me = text.split('data-testid="for-me"')[1].split("</section>")[0]
    assert "Interview travel subsidy" in for_me and "Rent subsidy" in for_me
    assert "Traineeship living subsidy" not in for_me

    text = _text(_as(client_en, employer).get(PROGRAMMES))
    for_me = text.split('data-testid="for-me"')[1].split("</section>")[0]
    assert "Traineeship living subsidy" in for_me and "Employer graduate-hiring subsidy" in for_me
    assert "Interview travel subsidy" not in for_me


def test_inactive_programme_answers_404(client_en, grad):
    Programme.objects.filter(code="rent-subsidy").update(active=False)
    assert client_en.get(_url("programme", "rent-subsidy")).status_code == 404
    assert _as(client_en, grad).get(_url("apply", "rent-subsidy")).status_code == 404
    assert "Rent subsidy" not in _text(client_en.get(PROGRAMMES))


# --- the programme page: the live preview ------------------------------------------------------


def test_programme_page_asks_an_anonymous_visitor_to_sign_in(client_en):
    response = client_en.get(_url("programme", "interview-travel"))
    text = _text(response)
    assert response.status_code == 200
    assert "A one-time subsidy for graduates from outside Luoyang" in text
    assert "Graduates, for themselves" in text and "all year round" in text
    assert "Sign in to apply" in text
    assert 'data-testid="criteria"' not in text


def test_programme_page_shows_an_eligible_graduate_every_criterion_and_the_amount(client_en, grad):
    response = _as(client_en, grad).get(_url("programme", "interview-travel"))
    text = _text(response)

    assert _criteria(response) == {"profile": True, "hukou": True, "graduation": True, "interview": True, "once": True}
    assert _verdict(response) == "yes"
    assert "Household registration: outside Luoyang" in text
    assert re.search(r"Graduation: \d{4}-\d{2}, within 2 years", text)
    assert "Interview: invited by" in text
    assert "Amount: 500.00 CNY" in text
    assert 'data-testid="apply"' in text


def test_programme_page_shows_why_a_graduate_without_an_interview_does_not_qualify(client_en, grad_no_interview):
    response = _as(client_en, grad_no_interview).get(_url("programme", "interview-travel"))

    assert _criteria(response)["interview"] is False
    assert _criteria(response)["hukou"] is True
    assert _verdict(response) == "no"
    assert "Interview: no invitation from a Luoyang employer yet" in _text(response)
    assert "You may still apply" in _text(response)


def test_programme_page_recomputes_the_preview_from_the_details_given(client_en, grad):
    url = _url("programme", "rent-subsidy")
    response = _as(client_en, grad).get(url, {"period_start": _month(timezone.localdate()), "months": "3"})
    assert _verdict(response) == "yes"
    assert "Amount: 900.00 CNY" in _text(response)
    assert "months=3" in response.content.decode()  # the apply link keeps the details

    response = client_en.get(url, {"period_start": _month(timezone.localdate()), "months": "13"})
    text = _text(response)
    assert "Give the number of months (1 to 12)." in text
    assert _criteria(response)["months"] is False  # the rule reads no valid months

    response = client_en.get(_url("programme", "startup-loan"), {"product": "growth", "loan_amount": "200000"})
    text = _text(response)
    assert "Loan product: Growth loan (成长贷)" in text
    assert "The portal pays nothing" in text


def test_programme_page_tells_who_may_not_apply(client_en, grad, base):
    _org, employer, _hire_row = base
    text = _text(_as(client_en, employer).get(_url("programme", "interview-travel")))
    assert "Only graduates apply for this programme." in text
    assert 'data-testid="criteria"' not in text

    text = _text(_as(client_en, grad).get(_url("programme", "traineeship-living")))
    assert "Only members of an employer registered in the portal can claim this subsidy." in text


def test_employer_preview_waits_for_the_trainee_then_shows_the_monthly_amount(client_en, base):
    org, employer, hire = base
    url = _url("programme", "traineeship-living")

    # One trainee: chosen already, the preview shows at once.
    response = _as(client_en, employer).get(url)
    assert _verdict(response) == "yes"

    response = client_en.get(url, {"job_application": str(hire.pk), "period_start": _month(timezone.localdate())})
    text = _text(response)
    assert _criteria(response) == {"base": True, "trainee": True, "month_started": True, "amount": True}
    assert "Employer: a designated traineeship base" in text
    assert "Amount: 80% of the minimum wage 2000 (tier 1," in text
    assert "Amount: 1600.00 CNY" in text

    # A second trainee: the page asks which one before it can show anything.
    _hire(org, employer)
    response = client_en.get(url)
    assert 'data-testid="preview-waiting"' in response.content.decode()
    assert "Choose the graduate to see the criteria and the amount." in _text(response)


# --- applying ----------------------------------------------------------------------------------


def test_apply_page_shows_the_preview_and_the_users_documents(client_en, grad):
    response = _as(client_en, grad).get(_url("apply", "interview-travel"))
    text = _text(response)
    assert response.status_code == 200
    assert _verdict(response) == "yes"
    assert "Amount: 500.00 CNY" in text
    assert "Degree certificate: invitation.pdf" in text
    assert "Send the application" in text


def test_apply_creates_the_application_and_my_subsidies_shows_it_eligible(
    client_en, grad, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _as(client_en, grad).post(_url("apply", "interview-travel"), {})
    assert response.status_code == 302 and response["Location"] == MINE

    app = SubsidyApplication.objects.get(applicant=grad)
    assert app.status == S.ELIGIBLE and app.amount == 500
    response = client_en.get(MINE)
    text = _text(response)
    assert f"Your application {app.reference} has been sent. Its eligibility check is running" in _messages(response)
    assert "Checked: eligible" in text
    assert "500.00 CNY" in text
    assert _criteria(response)["interview"] is True
    assert "Withdraw" in text


def test_apply_sends_the_chosen_documents_and_the_details(client_en, grad, django_capture_on_commit_callbacks):
    licence = give_letter(grad, kind=DocumentKind.BUSINESS_LICENCE)
    form = {
        "period_start": _month(timezone.localdate()),
        "business_name": "洛阳青创科技有限公司",
        "credit_code": "91410300ma44xq2x3a",
        "incubator": "洛阳市大学科技园",
        "monthly_rent": "1500",
        "months": "6",
        "documents": [str(licence.pk)],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = _as(client_en, grad).post(_url("apply", "incubation-rent"), form)
    assert response.status_code == 302, _text(response)
    app = SubsidyApplication.objects.get(applicant=grad)
    assert app.details["credit_code"] == "91410300MA44XQ2X3A"
    assert app.details["months"] == 6
    assert list(app.documents.all()) == [licence]
    assert app.amount == 9000


def test_a_missing_required_document_is_shown_next_to_the_documents_and_nothing_is_lost(client_en, grad):
    form = {
        "period_start": _month(timezone.localdate()),
        "business_name": "洛阳青创科技有限公司",
        "credit_code": "91410300MA44XQ2X3A",
        "incubator": "洛阳市大学科技园",
        "monthly_rent": "1500",
        "months": "6",
    }
    response = _as(client_en, grad).post(_url("apply", "incubation-rent"), form)
    text = _text(response)

    assert response.status_code == 200
    assert not SubsidyApplication.objects.exists()
    assert 'data-testid="form-errors"' in text
    documents = text.split('data-field="documents"')[1].split("</fieldset>")[0]
    assert "Attach the required documents: Business licence" in documents
    assert 'value="洛阳青创科技有限公司"' in text and 'value="1500"' in text and 'value="6"' in text


def test_field_errors_are_shown_next_to_the_fields(client_en, grad):
    response = _as(client_en, grad).post(_url("apply", "rent-subsidy"), {"period_start": "May 2026", "months": "13"})
    text = _text(response)
    assert response.status_code == 200
    assert not SubsidyApplication.objects.exists()
    month_field, months_field = text.split('data-field="period_start"')[1].split('data-field="months"')
    assert "Give the month as YYYY-MM, e.g. 2026-05." in month_field
    assert "Give the number of months (1 to 12)." in months_field.split("</form>")[0]
    assert 'value="13"' in text


def test_update_preview_button_does_not_send(client_en, grad):
    response = _as(client_en, grad).post(
        _url("apply", "rent-subsidy"),
        {"period_start": _month(timezone.localdate()), "months": "2", "action": "preview"},
    )
    assert response.status_code == 200
    assert not SubsidyApplication.objects.exists()
    assert "Amount: 600.00 CNY" in _text(response)
    assert 'data-testid="form-errors"' not in response.content.decode()


def test_a_second_application_is_refused_with_a_message(client_en, grad, django_capture_on_commit_callbacks):
    url = _url("apply", "interview-travel")
    with django_capture_on_commit_callbacks(execute=True):
        _as(client_en, grad).post(url, {})

    # The page says so instead of offering the form again...
    text = _text(client_en.get(url))
    assert 'data-testid="existing"' in text and "This subsidy is granted once per person." in text
    assert "Once per person: already applied for or received" in text
    # ...and a form sent anyway is refused by the service.
    response = client_en.post(url, {})
    assert response.status_code == 200
    assert "An application of this programme for the same person and period already exists." in _text(response)
    assert SubsidyApplication.objects.filter(applicant=grad).count() == 1


def test_an_employer_member_may_not_apply_for_a_graduate_programme(client_en, base):
    _org, employer, _hire_row = base
    response = _as(client_en, employer).get(_url("apply", "interview-travel"))
    assert response.status_code == 403
    assert "Only graduates apply for this programme." in _text(response)
    response = client_en.post(_url("apply", "interview-travel"), {})
    assert response.status_code == 403
    assert not SubsidyApplication.objects.exists()


def test_a_graduate_may_not_claim_an_employer_programme(client_en, grad):
    response = _as(client_en, grad).get(_url("apply", "traineeship-living"))
    assert response.status_code == 403
    assert "Only members of an employer registered in the portal can claim this subsidy." in _text(response)


def test_a_graduate_whose_role_changed_meanwhile_gets_403_from_the_service(client_en, grad, monkeypatch):
    from subsidies import views

    monkeypatch.setattr(views.Standing, "__init__", _allowed_standing)
    User.objects.filter(pk=grad.pk).update(role=Role.EMPLOYER)
    response = _as(client_en, grad).post(_url("apply", "interview-travel"), {})
    assert response.status_code == 403
    assert "Only graduates apply for this programme." in _text(response)


def _allowed_standing(self, user, programme, organisations=None):
    self.programme, self.organisations, self.allowed, self.reason = programme, organisations or [], True, ""


def test_apply_requires_sign_in(client_en):
    response = client_en.get(_url("apply", "interview-travel"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


# --- employers' claims -------------------------------------------------------------------------


def test_a_traineeship_base_claims_the_living_subsidy_for_its_trainee(
    client_en, base, django_capture_on_commit_callbacks
):
    org, employer, hire = base
    month = _month(timezone.localdate())
    response = _as(client_en, employer).get(_url("apply", "traineeship-living"))
    assert hire.applicant.profile.real_name in _text(response)
    assert "Send the claim" in _text(response)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_en.post(
            _url("apply", "traineeship-living"), {"job_application": str(hire.pk), "period_start": month}
        )
    assert response.status_code == 302, _text(response)
    claim = SubsidyApplication.objects.get()
    assert claim.organisation == org and claim.beneficiary == hire.applicant
    assert claim.status == S.ELIGIBLE and claim.amount == 1600

    text = _text(client_en.get(MINE))
    claims = text.split("Claims of my organisations")[1]
    assert "Traineeship living subsidy" in claims and "Checked: eligible" in claims
    assert f"for {hire.applicant.profile.real_name}" in claims


def test_only_traineeship_hires_are_offered_for_the_living_subsidy(client_en, base):
    org, employer, hire = base
    job_hire = _hire(org, employer, kind=PositionKind.JOB)
    text = _text(_as(client_en, employer).get(_url("apply", "traineeship-living")))
    assert f'value="{hire.pk}"' in text and f'value="{job_hire.pk}"' not in text
    text = _text(client_en.get(_url("apply", "employer-hiring")))
    assert f'value="{hire.pk}"' in text and f'value="{job_hire.pk}"' in text


def test_an_employer_of_org_x_cannot_claim_for_a_hire_of_org_y(client_en, base, district_2):
    _org_x, employer_x, _hire_x = base
    org_y, employer_y = _verified_employer(district_2)
    TraineeshipBaseFactory(organisation=org_y)
    hire_y = _hire(org_y, employer_y)

    text = _text(_as(client_en, employer_x).get(_url("apply", "traineeship-living")))
    assert f'value="{hire_y.pk}"' not in text
    response = client_en.post(
        _url("apply", "traineeship-living"),
        {"job_application": str(hire_y.pk), "period_start": _month(timezone.localdate())},
    )
    assert response.status_code == 200
    assert "Choose a graduate your organisation has hired in the jobs programme." in _text(response)
    assert not SubsidyApplication.objects.exists()
    # Y's own member can.
    response = _as(client_en, employer_y).get(
        _url("programme", "traineeship-living"), {"job_application": str(hire_y.pk)}
    )
    assert _verdict(response) == "yes"


def test_an_employer_with_several_organisations_chooses_one_for_a_yearly_claim(client_en, base, district_1):
    org, employer, _hire_row = base
    second = OrganisationFactory(verified=True, district=district_1, owner=employer)
    url = _url("apply", "university-base")
    response = _as(client_en, employer).get(url)
    assert "Choose the organisation to see the criteria and the amount." in _text(response)
    assert org.name in _text(response) and second.name in _text(response)

    licence = give_letter(employer, kind=DocumentKind.BUSINESS_LICENCE)
    response = client_en.post(
        url,
        {
            "organisation": str(second.pk),
            "university": "河南科技大学",
            "base_name": "智能制造产学研基地",
            "scale": "联合实验室 2 个，年接收实习生 40 人。",
            "documents": [str(licence.pk)],
        },
    )
    assert response.status_code == 302, _text(response)
    app = SubsidyApplication.objects.get()
    assert app.organisation == second and app.amount == 100000


def test_employer_without_hires_is_told_where_hires_come_from(client_en, district_1):
    _org, employer = _verified_employer(district_1)
    text = _text(_as(client_en, employer).get(_url("apply", "employer-hiring")))
    assert 'data-testid="no-hires"' in text
    assert "Your organisations have no hire recorded in the jobs programme yet." in text


# --- my subsidies, the application, withdrawing ------------------------------------------------


def test_graduate_a_cannot_see_or_withdraw_graduate_bs_application(
    client_en, grad, grad_no_interview, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        app = services.subsidy_application_create(
            programme=Programme.objects.get(code="interview-travel"), applicant=grad
        )
    url = reverse("subsidies:application", args=[app.pk])
    assert _as(client_en, grad_no_interview).get(url).status_code == 404
    assert client_en.post(reverse("subsidies:withdraw", args=[app.pk])).status_code == 404
    assert app.reference not in _text(client_en.get(MINE))
    app.refresh_from_db()
    assert app.status == S.ELIGIBLE


def test_the_application_page_shows_the_checks_with_the_values_used(
    client_en, grad, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        app = services.subsidy_application_create(
            programme=Programme.objects.get(code="interview-travel"), applicant=grad
        )
    check = EligibilityCheck.objects.get(application=app)
    response = _as(client_en, grad).get(reverse("subsidies:application", args=[app.pk]))
    text = _text(response)

    assert response.status_code == 200
    assert f"Check 1, {timezone.localtime(check.created_at):%Y-%m-%d %H:%M}" in text
    assert 'data-testid="check-eligible">eligible<' in text
    assert f'data-testid="rule-version">{check.rule_version}<' in text
    assert 'data-parameter="subsidy-interview-amount">500<' in text
    assert 'data-parameter="subsidy-interview-graduation-years">2<' in text
    assert "the application was sent" in text
    assert "Submitted, being checked" in text and "Checked: eligible" in text


def test_an_employer_member_sees_the_claim_of_their_organisation(client_en, base, django_capture_on_commit_callbacks):
    org, employer, hire = base
    colleague = User.objects.create_user(email="colleague@example.com", role=Role.EMPLOYER)
    org.memberships.create(user=colleague, role="member")
    with django_capture_on_commit_callbacks(execute=True):
        claim = services.subsidy_application_create(
            programme=Programme.objects.get(code="traineeship-living"),
            applicant=employer,
            organisation=org,
            job_application_id=hire.pk,
            period_start=timezone.localdate(),
        )
    response = _as(client_en, colleague).get(reverse("subsidies:application", args=[claim.pk]))
    assert response.status_code == 200
    assert hire.applicant.profile.real_name in _text(response)


def test_withdraw_after_confirmation(client_en, grad, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        app = services.subsidy_application_create(
            programme=Programme.objects.get(code="interview-travel"), applicant=grad
        )
    response = _as(client_en, grad).post(reverse("subsidies:withdraw", args=[app.pk]), follow=True)
    assert f"Your application {app.reference} has been withdrawn." in _messages(response)
    app.refresh_from_db()
    assert app.status == S.WITHDRAWN
    assert "Withdrawn" in _text(response)
    # Once withdrawn, the page offers no second withdrawal and refuses one with a message.
    assert reverse("subsidies:withdraw", args=[app.pk]) not in response.content.decode()
    response = client_en.post(reverse("subsidies:withdraw", args=[app.pk]), follow=True)
    assert "This application can no longer be withdrawn." in _messages(response)
    # A withdrawn application makes way for a new one.
    assert client_en.get(_url("apply", "interview-travel")).context["existing"] is None


def test_withdraw_needs_post(client_en, grad):
    assert _as(client_en, grad).get(reverse("subsidies:withdraw", args=[1])).status_code == 405


def test_mine_shows_the_notice_end_and_the_reason_of_a_rejection(
    client_en, grad, staff_1, district_1, django_capture_on_commit_callbacks
):
    in_notice = _notice_application(grad, staff_1, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        other = services.subsidy_application_create(
            programme=Programme.objects.get(code="interview-travel"), applicant=grad
        )
    services.subsidy_reject(application=other, actor=staff_1, reason="面试邀请无法核实")
    text = _text(_as(client_en, grad).get(MINE))
    assert "Public notice until" in text and f"{in_notice.notice_ends_on:%Y-%m-%d}" in text
    assert 'data-testid="reason">面试邀请无法核实<' in text


def test_mine_query_count_does_not_grow_with_the_applications(client_en, grad):
    rent = Programme.objects.get(code="rent-subsidy")
    today = timezone.localdate().replace(day=1)

    def add(months_back: int) -> None:
        year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
        services.subsidy_application_create(
            programme=rent,
            applicant=grad,
            period_start=today.replace(year=year, month=month + 1),
            details={"months": 1},
        )

    add(0)
    _as(client_en, grad).get(MINE)  # warm the session and the content types
    with CaptureQueriesContext(connection) as one:
        assert client_en.get(MINE).status_code == 200
    for n in range(1, 6):
        add(n)
    with CaptureQueriesContext(connection) as six:
        response = client_en.get(MINE)
    assert response.content.decode().count("data-application=") == 6
    assert len(six) == len(one), [q["sql"] for q in six.captured_queries]
    assert len(six) <= 12


# --- public notice (公示) ------------------------------------------------------------------------


def test_notice_board_needs_sign_in(client_en):
    response = client_en.get(NOTICES)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_notice_board_shows_masked_names_and_takes_objections(
    client_en, grad, grad_no_interview, staff_1, django_capture_on_commit_callbacks
):
    app = _notice_application(grad, staff_1, django_capture_on_commit_callbacks)
    name = grad.profile.real_name
    response = _as(client_en, grad_no_interview).get(NOTICES)
    text = _text(response)

    assert app.reference in text and "Rent subsidy" in text
    assert f'data-testid="masked-name">{name[0]}{"*" * (len(name) - 1)}<' in text
    assert name not in text
    assert "300.00 CNY" in text
    assert f'data-testid="notice-until">{app.notice_ends_on:%Y-%m-%d}<' in text

    object_url = reverse("subsidies:object", args=[app.pk])
    response = client_en.post(object_url, {"text": "太短"}, follow=True)
    assert "Please describe the objection in at least 10 characters." in _messages(response)
    assert not Objection.objects.exists()

    response = client_en.post(object_url, {"text": "据我所知，申请人并未在洛阳租房居住。"}, follow=True)
    assert f"Your objection to {app.reference} has been filed." in _messages(response)
    objection = Objection.objects.get()
    assert objection.application == app and objection.filed_by == grad_no_interview
    assert 'data-testid="objected"' in response.content.decode()


def test_an_objection_after_the_notice_is_refused_with_a_message(
    client_en, grad, grad_no_interview, staff_1, django_capture_on_commit_callbacks
):
    app = _notice_application(grad, staff_1, django_capture_on_commit_callbacks)
    services.subsidy_reject(application=app, actor=staff_1, reason="重复申请")
    response = _as(client_en, grad_no_interview).post(
        reverse("subsidies:object", args=[app.pk]), {"text": "据我所知，申请人并未在洛阳租房居住。"}, follow=True
    )
    assert "Objections can be filed only during the public notice." in _messages(response)
    assert not Objection.objects.exists()
    # An application that never was in notice is not there to object to.
    with django_capture_on_commit_callbacks(execute=True):
        other = services.subsidy_application_create(
            programme=Programme.objects.get(code="interview-travel"), applicant=grad
        )
    assert client_en.post(reverse("subsidies:object", args=[other.pk]), {"text": "x" * 20}).status_code == 404


def test_notice_board_query_count_does_not_grow_with_the_notices(
    client_en, grad_no_interview, staff_1, district_1, django_capture_on_commit_callbacks
):
    _notice_application(make_subsidy_graduate(district=district_1), staff_1, django_capture_on_commit_callbacks)
    _as(client_en, grad_no_interview).get(NOTICES)
    with CaptureQueriesContext(connection) as one:
        assert client_en.get(NOTICES).status_code == 200
    for _ in range(4):
        _notice_application(make_subsidy_graduate(district=district_1), staff_1, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as five:
        response = client_en.get(NOTICES)
    assert response.content.decode().count("data-notice=") == 5
    assert len(five) == len(one), [q["sql"] for q in five.captured_queries]
    assert len(five) <= 12


# --- navigation, language, demo ----------------------------------------------------------------


def test_the_menu_and_the_home_page_link_to_the_subsidies(client_en, grad):
    text = _text(client_en.get(reverse("portal:home")))
    assert f'href="{PROGRAMMES}"' in text
    text = _text(_as(client_en, grad).get(reverse("portal:home")))
    assert f'href="{MINE}"' in text and f'href="{NOTICES}"' in text


def test_pages_are_chinese_by_default(client, grad):
    text = _text(_as(client, grad).get(_url("programme", "interview-travel")))
    assert "面试路费补贴" in text
    assert "Interview travel subsidy" not in text


def test_demo_seed_shows_an_eligible_interview_subsidy_and_a_notice(client_en, db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    graduate = User.objects.get(email="graduate@example.com")
    response = _as(client_en, graduate).get(_url("programme", "interview-travel"))
    assert _verdict(response) == "yes", _criteria(response)
    notice = SubsidyApplication.objects.get(status=S.NOTICE)
    assert notice.programme.code == "traineeship-living"
    assert notice.reference in _text(client_en.get(NOTICES))
    assert SubsidyApplication.objects.count() == 1


def test_an_employer_sees_their_claims_and_no_empty_graduate_section(client_en, district_1):
    _org, member = _verified_employer(district_1)
    text = _text(_as(client_en, member).get(MINE))
    assert 'id="claims-title"' in text
    assert 'id="own-title"' not in text
    assert 'data-testid="no-applications"' not in text


def test_a_graduate_sees_their_own_section_even_when_empty(client_en, grad):
    text = _text(_as(client_en, grad).get(MINE))
    assert 'id="own-title"' in text and 'data-testid="no-applications"' in text
    assert 'id="claims-title"' not in text

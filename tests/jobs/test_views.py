"""The jobs pages: search and detail for everyone, apply / my applications / withdraw for
graduates, the employer's dashboard, position pages and applicant pages; the permission
matrix (another tenant's object answers 404); and query budgets that do not grow with
the number of rows."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs import services
from jobs.constants import ApplicationStatus, PositionKind, PositionStatus
from jobs.models import Interview, JobApplication, Position
from portal.constants import DocumentKind, EducationLevel
from portal.models import ApplicantProfile, Document, Notification
from tests.jobs.conftest import add_degree_certificate, pdf_upload, png_upload
from tests.jobs.factories import PositionFactory, TraineeshipBaseFactory
from tests.portal.factories import OrganisationFactory, ProfileFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def application(position, graduate_a):
    return services.job_application_submit(position=position, applicant=graduate_a)


def _future_local(days=3) -> str:
    return (timezone.localtime() + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


# --- Search and detail --------------------------------------------------------------------------


def test_search_page_lists_open_published_positions(client_en, position, org_x):
    PositionFactory(organisation=org_x, pending=True, title="待审核岗位")
    PositionFactory(organisation=org_x, expired=True, title="已过期岗位")

    response = client_en.get(reverse("jobs:search"))

    assert response.status_code == 200
    text = _text(response)
    assert "轴承工艺工程师" in text
    assert "待审核岗位" not in text and "已过期岗位" not in text
    assert "1 position found" in text


def test_search_page_in_chinese_by_default(client, position):
    response = client.get(reverse("jobs:search"))

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_search_with_words_and_filters(client_en, position, position_y):
    response = client_en.get(reverse("jobs:search"), {"q": "轴承", "district": "luolong", "sort": "deadline"})

    text = _text(response)
    assert "轴承工艺工程师" in text
    assert "数据分析师" not in text


def test_an_invalid_filter_shows_its_error_and_keeps_the_other_filters(client_en, position, position_y):
    response = client_en.get(reverse("jobs:search"), {"q": "数据", "salary_min": "a lot", "kind": "no-such-kind"})

    assert response.status_code == 200
    text = _text(response)
    assert "Enter a whole number." in text
    assert "数据分析师" in text
    assert "轴承工艺工程师" not in text  # the words still filter


def test_search_pages_keep_the_filters(client_en, org_x):
    for i in range(25):
        PositionFactory(organisation=org_x, published=True, title=f"见习岗位 {i}", kind=PositionKind.TRAINEESHIP)

    first = client_en.get(reverse("jobs:search"), {"kind": "traineeship"})
    second = client_en.get(reverse("jobs:search"), {"kind": "traineeship", "page": 2})
    beyond = client_en.get(reverse("jobs:search"), {"kind": "traineeship", "page": 99})

    assert len(first.context["page"].object_list) == 20
    assert "kind=traineeship&amp;page=2" in first.content.decode()
    assert len(second.context["page"].object_list) == 5
    assert beyond.context["page"].number == 2


def test_detail_page_for_anyone_asks_to_sign_in(client_en, position):
    response = client_en.get(reverse("jobs:position", args=[position.pk]))

    assert response.status_code == 200
    text = _text(response)
    assert "轴承工艺工程师" in text and position.organisation.name in text
    assert f"{LOGIN}?next=/jobs/{position.pk}/" in text
    assert "Apply with my profile" not in text


def test_detail_page_shows_every_criterion_met_and_the_apply_form(client_en, position, graduate_a):
    client_en.force_login(graduate_a)

    text = _text(client_en.get(reverse("jobs:position", args=[position.pk])))

    assert text.count('class="ok"') == 3
    assert "✓" in text and "✗" not in text
    assert "Your profile is complete" in text
    assert "Apply with my profile" in text
    assert "Degree certificate" in text  # the document can be shared


def test_detail_page_shows_what_is_missing(client_en, position, district_1):
    graduate = ProfileFactory(district=district_1, complete=True, education_level=EducationLevel.JUNIOR_COLLEGE).user
    client_en.force_login(graduate)

    text = _text(client_en.get(reverse("jobs:position", args=[position.pk])))

    assert "✗" in text
    assert "Your profile is missing: Degree certificate (upload)" in text
    assert "Education: Junior college (大专), required Bachelor (本科) or above" in text
    assert "Apply with my profile" not in text
    assert reverse("portal:profile") in text


@pytest.mark.parametrize("status", ["draft", "pending", "rejected", "closed", "expired"])
def test_detail_page_of_a_position_not_published_is_404(client_en, org_x, graduate_a, status):
    hidden = PositionFactory(organisation=org_x, **{status: True})
    client_en.force_login(graduate_a)

    assert client_en.get(reverse("jobs:position", args=[hidden.pk])).status_code == 404


def test_bases_and_their_catalogue(client_en, district_1):
    base = TraineeshipBaseFactory(organisation__district=district_1, organisation__name="洛阳见习基地机械厂")
    PositionFactory(
        organisation=base.organisation, published=True, kind=PositionKind.TRAINEESHIP, title="质量管理见习生"
    )
    revoked = TraineeshipBaseFactory(organisation__district=district_1, active=False)

    listing = _text(client_en.get(reverse("jobs:bases")))
    catalogue = client_en.get(reverse("jobs:base", args=[base.pk]))

    assert "洛阳见习基地机械厂" in listing and "1 open traineeship" in listing
    assert "质量管理见习生" in _text(catalogue)
    assert client_en.get(reverse("jobs:base", args=[revoked.pk])).status_code == 404


# --- Applying -------------------------------------------------------------------------------------


def test_apply_with_a_note_a_cv_and_a_shared_document(client_en, position, graduate_a, employer_x):
    certificate = Document.objects.get(owner=graduate_a, kind=DocumentKind.DEGREE_CERTIFICATE)
    client_en.force_login(graduate_a)

    response = client_en.post(
        reverse("jobs:apply", args=[position.pk]),
        {"cover_note": "我熟悉轴承工艺。", "cv": pdf_upload(), "shared_documents": [str(certificate.pk)]},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("jobs:my_applications"), 302)]
    application = JobApplication.objects.get(position=position, applicant=graduate_a)
    assert application.cover_note == "我熟悉轴承工艺。"
    assert application.cv.content_type == "application/pdf"
    assert list(application.shared_documents.all()) == [certificate]
    assert any("has been sent" in m for m in _messages(response))
    assert Notification.objects.filter(user=employer_x, kind="application_received").exists()
    # The detail page now says so instead of offering the form again.
    detail = _text(client_en.get(reverse("jobs:position", args=[position.pk])))
    assert "You applied on" in detail and "Apply with my profile" not in detail


def test_apply_with_an_incomplete_profile_lists_what_is_missing(client_en, position, district_1):
    graduate = ProfileFactory(district=district_1).user
    client_en.force_login(graduate)

    response = client_en.post(reverse("jobs:apply", args=[position.pk]), follow=True)

    assert response.redirect_chain == [(reverse("jobs:position", args=[position.pk]), 302)]
    (missing,) = [m for m in _messages(response) if m.startswith("Your profile is missing")]
    assert "ID number" in missing and "Degree certificate" in missing
    assert not JobApplication.objects.exists()


def test_apply_twice_gives_a_clear_message(client_en, application, position, graduate_a):
    client_en.force_login(graduate_a)

    response = client_en.post(reverse("jobs:apply", args=[position.pk]), follow=True)

    assert "You have already applied for this position." in _messages(response)
    assert JobApplication.objects.count() == 1


def test_a_cv_that_is_not_a_pdf_is_refused_with_a_message(client_en, position, graduate_a):
    client_en.force_login(graduate_a)

    response = client_en.post(reverse("jobs:apply", args=[position.pk]), {"cv": png_upload("cv.png")}, follow=True)

    assert "The CV must be a PDF file." in _messages(response)
    assert not JobApplication.objects.exists()


def test_sharing_someone_else_s_document_is_refused(client_en, position, graduate_a, graduate_b):
    theirs = Document.objects.get(owner=graduate_b)
    client_en.force_login(graduate_a)

    response = client_en.post(
        reverse("jobs:apply", args=[position.pk]), {"shared_documents": [str(theirs.pk)]}, follow=True
    )

    assert response.status_code == 200
    assert _messages(response)  # "not one of the available choices"
    assert not JobApplication.objects.exists()


def test_apply_needs_a_post_and_a_published_position(client_en, position, org_x, graduate_a):
    client_en.force_login(graduate_a)
    draft = PositionFactory(organisation=org_x)

    assert client_en.get(reverse("jobs:apply", args=[position.pk])).status_code == 405
    assert client_en.post(reverse("jobs:apply", args=[draft.pk])).status_code == 404


def test_anonymous_apply_is_sent_to_sign_in(client_en, position):
    response = client_en.post(reverse("jobs:apply", args=[position.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not JobApplication.objects.exists()


def test_my_applications_with_status_interviews_and_history(client_en, application, employer_x, graduate_a, position_y):
    services.job_application_mark_viewed(application=application, actor=employer_x)
    services.job_application_invite(
        application=application,
        actor=employer_x,
        starts_at=timezone.now() + dt.timedelta(days=2),
        online_link="https://meeting.example.com/42",
        note="请带上作品集",
    )
    other = services.job_application_submit(position=position_y, applicant=graduate_a)
    services.job_application_withdraw(application=other, actor=graduate_a)
    client_en.force_login(graduate_a)

    response = client_en.get(reverse("jobs:my_applications"))

    text = _text(response)
    assert "轴承工艺工程师" in text and "数据分析师" in text
    assert "Invited to interview" in text and "Withdrawn" in text
    assert "https://meeting.example.com/42" in text and "请带上作品集" in text
    assert "History" in text
    # History rows read as statuses, not codes.
    assert "Viewed by the employer" in text
    # Only the open application can be withdrawn.
    assert text.count("Withdraw application") == 1


def test_withdraw_from_my_applications(client_en, application, graduate_a, employer_x):
    client_en.force_login(graduate_a)

    response = client_en.post(reverse("jobs:withdraw", args=[application.pk]), follow=True)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert "Your application has been withdrawn." in _messages(response)
    assert Notification.objects.filter(user=employer_x, kind="application_withdrawn").exists()
    # A second click explains instead of failing.
    again = client_en.post(reverse("jobs:withdraw", args=[application.pk]), follow=True)
    assert again.status_code == 200 and _messages(again)


def test_withdraw_someone_else_s_application_is_404(client_en, application, graduate_b, employer_x):
    for user in (graduate_b, employer_x):
        client_en.force_login(user)
        assert client_en.post(reverse("jobs:withdraw", args=[application.pk])).status_code == 404
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


# --- The employer side ----------------------------------------------------------------------------


def test_employer_dashboard_with_counts_per_status(client_en, org_x, employer_x, position, application):
    PositionFactory(organisation=org_x, pending=True, title="待审核岗位")
    PositionFactory(organisation=org_x, title="草稿岗位")
    PositionFactory(organisation=org_x, title="草稿岗位二")
    client_en.force_login(employer_x)

    response = client_en.get(reverse("jobs:employer"))

    assert response.status_code == 200
    (block,) = response.context["blocks"]
    assert block["counts"] == {"draft": 2, "pending": 1, "published": 1, "rejected": 0, "closed": 0, "expired": 0}
    text = _text(response)
    assert "Post a position" in text
    assert "待审核岗位" in text and "草稿岗位二" in text
    counts = {p.title: p.applicant_count for p in block["positions"]}
    assert counts["轴承工艺工程师"] == 1


def test_dashboard_of_an_unverified_organisation_offers_no_posting(client_en, district_1):
    pending = OrganisationFactory(district=district_1)
    client_en.force_login(pending.memberships.get().user)

    text = _text(client_en.get(reverse("jobs:employer")))

    assert "once the organisation is verified" in text
    assert "Post a position" not in text


def test_dashboard_without_an_organisation_points_to_registration(client_en, graduate_a):
    client_en.force_login(graduate_a)

    text = _text(client_en.get(reverse("jobs:employer")))

    assert reverse("portal:organisation_create") in text


def _position_post(district, **overrides):
    data = {
        "kind": PositionKind.INTERNSHIP,
        "title": "数据分析实习生",
        "description": "生产数据分析，Python 与 SQL。",
        "district": str(district.pk),
        "industry": "big_data",
        "education_level": "junior_college",
        "majors": "统计学",
        "headcount": "2",
        "salary_min": "2500",
        "salary_max": "3000",
        "work_address": "洛阳市洛龙区开元大道 1 号",
        "deadline": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
    }
    data.update(overrides)
    return data


def test_employer_creates_edits_and_submits_a_position(client_en, org_x, employer_x, district_1, staff_1):
    client_en.force_login(employer_x)
    url = reverse("jobs:position_create", args=[org_x.pk])

    form = client_en.get(url)
    assert form.status_code == 200
    assert form.context["form"].initial["district"] == org_x.district_id

    response = client_en.post(url, _position_post(district_1))
    position = Position.objects.get(organisation=org_x)
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:employer_position", args=[position.pk])
    assert (position.status, position.created_by) == (PositionStatus.DRAFT, employer_x)

    edit = client_en.post(
        reverse("jobs:employer_position", args=[position.pk]),
        _position_post(district_1, title="数据分析实习生（暑期）"),
    )
    assert edit.status_code == 302
    position.refresh_from_db()
    assert position.title == "数据分析实习生（暑期）"
    assert "暑期" in position.search_text

    submit = client_en.post(reverse("jobs:position_action", args=[position.pk, "submit"]), follow=True)
    position.refresh_from_db()
    assert position.status == PositionStatus.PENDING
    assert "The position has been sent to the district for review." in _messages(submit)
    assert Notification.objects.filter(user=staff_1, kind="position_submitted").exists()
    # A pending position has no edit form any more.
    page = client_en.get(reverse("jobs:employer_position", args=[position.pk]))
    assert page.context["form"] is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"salary_min": "5000", "salary_max": "4000"},
            "salary_max",
            "The upper end of the pay range is below the lower end.",
        ),
        ({"deadline": "2020-01-01"}, "deadline", "The application deadline is in the past."),
        ({"title": ""}, "title", "This field is required."),
    ],
)
def test_position_form_errors_are_shown_on_the_field(
    client_en, org_x, employer_x, district_1, overrides, field, message
):
    client_en.force_login(employer_x)

    response = client_en.post(reverse("jobs:position_create", args=[org_x.pk]), _position_post(district_1, **overrides))

    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field, []) + form.errors.get("__all__", [])
    assert any(message in e for e in errors), form.errors
    assert not Position.objects.exists()


def test_unverified_organisation_cannot_open_the_position_form(client_en, district_1):
    pending = OrganisationFactory(district=district_1)
    client_en.force_login(pending.memberships.get().user)

    response = client_en.get(reverse("jobs:position_create", args=[pending.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("jobs:employer")
    assert any("Only verified organisations" in m for m in _messages(response))


def test_rejected_position_shows_the_reason_and_can_be_resubmitted(client_en, org_x, employer_x, staff_1):
    position = PositionFactory(organisation=org_x, pending=True)
    services.position_reject(position=position, actor=staff_1, reason_code="other", note="请补充岗位职责")
    client_en.force_login(employer_x)

    page = client_en.get(reverse("jobs:employer_position", args=[position.pk]))
    assert "请补充岗位职责" in _text(page)
    assert page.context["form"] is not None

    client_en.post(reverse("jobs:position_action", args=[position.pk, "submit"]))
    position.refresh_from_db()
    assert position.status == PositionStatus.PENDING


def test_employer_closes_a_published_position(client_en, position, employer_x):
    client_en.force_login(employer_x)

    response = client_en.post(reverse("jobs:position_action", args=[position.pk, "close"]), follow=True)

    position.refresh_from_db()
    assert position.status == PositionStatus.CLOSED
    assert "The position has been closed." in _messages(response)
    # Closing again is explained, not a crash.
    again = client_en.post(reverse("jobs:position_action", args=[position.pk, "close"]), follow=True)
    assert again.status_code == 200 and _messages(again)


def test_unknown_position_action_is_404_and_published_positions_are_not_edited(
    client_en, position, employer_x, district_1
):
    client_en.force_login(employer_x)

    assert client_en.post(reverse("jobs:position_action", args=[position.pk, "publish"])).status_code == 404
    assert (
        client_en.post(reverse("jobs:employer_position", args=[position.pk]), _position_post(district_1)).status_code
        == 403
    )
    position.refresh_from_db()
    assert position.status == PositionStatus.PUBLISHED


def test_applicant_list_shows_the_id_number_masked_only(client_en, position, application, employer_x, graduate_a):
    profile = ApplicantProfile.objects.get(user=graduate_a)
    number = profile.reveal_id_number()
    client_en.force_login(employer_x)

    response = client_en.get(reverse("jobs:employer_position", args=[position.pk]))

    content = response.content.decode()
    assert profile.id_number_masked in content
    assert number not in content
    assert number[4:-4] not in content
    assert profile.real_name in content and "机械工程" in content and "Bachelor" in content


def test_opening_an_application_marks_it_viewed(client_en, application, employer_x, graduate_a):
    client_en.force_login(employer_x)

    response = client_en.get(reverse("jobs:employer_application", args=[application.pk]))

    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == ApplicationStatus.VIEWED
    assert Notification.objects.filter(user=graduate_a, kind="application_status").count() == 1
    content = response.content.decode()
    profile = ApplicantProfile.objects.get(user=graduate_a)
    assert profile.id_number_masked in content
    assert profile.reveal_id_number() not in content
    # Opening it again changes nothing.
    client_en.get(reverse("jobs:employer_application", args=[application.pk]))
    assert Notification.objects.filter(user=graduate_a, kind="application_status").count() == 1


def _invite(client, application, **data):
    payload = {"form": "interview", "starts_at": _future_local(), "place": "", "online_link": "", "note": ""}
    payload.update(data)
    return client.post(reverse("jobs:employer_application", args=[application.pk]), payload)


def test_an_interview_in_the_past_is_a_message_not_a_crash(client_en, application, employer_x):
    client_en.force_login(employer_x)
    past = (timezone.localtime() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = _invite(client_en, application, starts_at=past, place="会议室")

    assert response.status_code == 200
    assert "The interview must be in the future." in _messages(response)
    assert not Interview.objects.exists()


def test_an_interview_without_place_or_link_is_a_form_error(client_en, application, employer_x):
    client_en.force_login(employer_x)

    response = _invite(client_en, application)

    assert response.status_code == 200
    assert "Give a place or an online meeting link." in _text(response)
    assert not Interview.objects.exists()


def test_an_interview_with_a_malformed_date_is_a_form_error(client_en, application, employer_x):
    client_en.force_login(employer_x)

    response = _invite(client_en, application, starts_at="next tuesday", place="会议室")

    assert response.status_code == 200
    assert response.context["interview_form"].errors["starts_at"]


def test_invite_offer_and_hire_through_the_page(client_en, application, employer_x, graduate_a, org_x):
    client_en.force_login(employer_x)
    url = reverse("jobs:employer_application", args=[application.pk])

    invited = _invite(client_en, application, place="洛阳市洛龙区开元大道 1 号 3 楼", note="请带身份证")
    assert invited.status_code == 302
    interview = Interview.objects.get(application=application)
    assert interview.place == "洛阳市洛龙区开元大道 1 号 3 楼"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INTERVIEW

    assert client_en.post(url, {"form": "decision", "decision": "offered"}).status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.OFFERED

    assert client_en.post(url, {"form": "decision", "decision": "hired"}).status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.HIRED
    profile = ApplicantProfile.objects.get(user=graduate_a)
    assert (profile.current_employer, profile.works_in_luoyang) == (org_x.name, True)
    page = _text(client_en.get(url))
    assert "Hired" in page
    assert "Send invitation" not in page  # a closed application takes no more decisions


def test_decline_with_a_message(client_en, application, employer_x, graduate_a):
    client_en.force_login(employer_x)

    client_en.post(
        reverse("jobs:employer_application", args=[application.pk]),
        {"form": "decision", "decision": "rejected", "reason": "岗位已招满"},
    )

    application.refresh_from_db()
    assert (application.status, application.status_reason) == (ApplicationStatus.REJECTED, "岗位已招满")


def test_an_illegal_decision_is_a_message_not_a_crash(client_en, application, employer_x):
    client_en.force_login(employer_x)

    response = client_en.post(
        reverse("jobs:employer_application", args=[application.pk]), {"form": "decision", "decision": "hired"}
    )

    assert response.status_code == 200
    assert any("cannot go from" in m for m in _messages(response))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.VIEWED


# --- Permission matrix ---------------------------------------------------------------------------------

ROLES = ["anonymous", "graduate_a", "graduate_b", "employer_x", "employer_y", "staff_1", "staff_2", "city_staff"]


@pytest.fixture
def objects(position, application, org_x):
    return {"position": position.pk, "application": application.pk, "org": org_x.pk}


def _login(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "arg", "expected"),
    [
        ("jobs:search", None, {"*": 200}),
        ("jobs:position", "position", {"*": 200}),
        ("jobs:bases", None, {"*": 200}),
        ("jobs:my_applications", None, {"anonymous": "login", "*": 200}),
        ("jobs:employer", None, {"anonymous": "login", "*": 200}),
        ("jobs:position_create", "org", {"anonymous": "login", "employer_x": 200, "*": 404}),
        ("jobs:employer_position", "position", {"anonymous": "login", "employer_x": 200, "*": 404}),
        ("jobs:employer_application", "application", {"anonymous": "login", "employer_x": 200, "*": 404}),
    ],
)
def test_get_permission_matrix(client, request, objects, role, name, arg, expected):
    _login(client, request, role)

    response = client.get(reverse(name, args=[objects[arg]] if arg else []))

    want = expected.get(role, expected["*"])
    if want == "login":
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    else:
        assert response.status_code == want


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "args", "owner"),
    [
        ("jobs:withdraw", ("application",), "graduate_a"),
        ("jobs:position_action", ("position", "close"), "employer_x"),
        ("jobs:employer_application", ("application",), "employer_x"),
    ],
)
def test_post_permission_matrix(client, request, objects, role, name, args, owner):
    _login(client, request, role)
    url = reverse(name, args=[objects.get(a, a) for a in args])

    response = client.post(url, {"form": "decision", "decision": "rejected"})

    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    elif role == owner:
        assert response.status_code == 302
    else:
        assert response.status_code == 404
    changed = JobApplication.objects.get(pk=objects["application"]).status != ApplicationStatus.SUBMITTED
    changed |= Position.objects.get(pk=objects["position"]).status != PositionStatus.PUBLISHED
    assert changed is (role == owner)


def test_employer_y_cannot_reach_employer_x_s_objects_by_any_route(client, employer_y, position, application, org_x):
    client.force_login(employer_y)

    for url in (
        reverse("jobs:employer_position", args=[position.pk]),
        reverse("jobs:position_action", args=[position.pk, "submit"]),
        reverse("jobs:employer_application", args=[application.pk]),
        reverse("jobs:position_create", args=[org_x.pk]),
    ):
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, {"form": "interview", "starts_at": _future_local(), "place": "x"}).status_code == 404
    assert not Interview.objects.exists()


# --- Query budgets: the same number of queries for 3 rows and for 30 ----------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Measured: the search page runs the district choices, the count and the page (3); signed in,
# add the session, the user and the unread count. The applicant list: session, user, the
# position, the applications with profile and CV, the shared documents, the unread count.
SEARCH_MAX_QUERIES = 3
APPLICANTS_MAX_QUERIES = 6


@pytest.mark.parametrize("signed_in", [False, True])
def test_search_page_queries_do_not_grow_with_the_rows(
    client, org_x, org_y, graduate_a, signed_in, django_assert_max_num_queries
):
    if signed_in:
        client.force_login(graduate_a)
    url = reverse("jobs:search") + "?q=工程师&sort=salary"
    for i in range(3):
        PositionFactory(organisation=[org_x, org_y][i % 2], published=True, title=f"工程师 {i}")
    client.get(url)  # warm caches (content types, sessions)
    cache.clear()  # measure the uncached search: the results fragment is cached for a while
    few = _queries(client, url)

    for i in range(27):
        PositionFactory(organisation=[org_x, org_y][i % 2], published=True, title=f"工程师 {i + 3}")
    cache.clear()
    many = _queries(client, url)

    assert few == many
    budget = SEARCH_MAX_QUERIES + (3 if signed_in else 0)  # session, user, unread count
    cache.clear()
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    assert response.content.decode().count('class="card position-card"') == 20


def test_search_results_come_from_the_shared_cache_for_a_while(client, org_x, django_assert_num_queries):
    url = reverse("jobs:search") + "?q=工程师"
    PositionFactory(organisation=org_x, published=True, title="工程师 甲")
    first = client.get(url).content.decode()
    PositionFactory(organisation=org_x, published=True, title="工程师 乙")
    with django_assert_num_queries(0):  # anonymous, cached results: no database work at all
        second = client.get(url).content.decode()
    assert "工程师 甲" in second and "工程师 乙" not in second  # within SEARCH_CACHE_SECONDS
    cache.clear()
    assert "工程师 乙" in client.get(url).content.decode()
    assert "工程师 甲" in first


def test_applicant_list_queries_do_not_grow_with_the_rows(client, position, employer_x, django_assert_max_num_queries):
    def add_applicants(n):
        for _ in range(n):
            graduate = ProfileFactory(complete=True).user
            certificate = add_degree_certificate(graduate)
            application = services.job_application_submit(
                position=position, applicant=graduate, shared_document_ids=[certificate.pk], cv_upload=pdf_upload()
            )
            assert application.cv_id

    client.force_login(employer_x)
    url = reverse("jobs:employer_position", args=[position.pk])
    add_applicants(3)
    client.get(url)
    few = _queries(client, url)

    add_applicants(27)
    many = _queries(client, url)

    assert few == many
    with django_assert_max_num_queries(APPLICANTS_MAX_QUERIES):
        response = client.get(url)
    assert len(response.context["applications"]) == 30


def test_my_applications_queries_do_not_grow_with_the_rows(client, graduate_a, org_x, employer_x):
    def apply(n):
        for _ in range(n):
            position = PositionFactory(organisation=org_x, published=True)
            application = services.job_application_submit(position=position, applicant=graduate_a)
            services.job_application_mark_viewed(application=application, actor=employer_x)

    client.force_login(graduate_a)
    url = reverse("jobs:my_applications")
    apply(3)
    client.get(url)
    few = _queries(client, url)
    apply(12)
    assert _queries(client, url) == few


def test_the_employer_dashboard_queries_do_not_grow_with_the_positions(client, org_x, employer_x):
    client.force_login(employer_x)
    url = reverse("jobs:employer")
    for _ in range(3):
        PositionFactory(organisation=org_x, published=True)
    client.get(url)
    few = _queries(client, url)
    for _ in range(20):
        PositionFactory(organisation=org_x)
    assert _queries(client, url) == few


def test_the_search_form_keeps_the_chosen_filters(client_en, position):
    response = client_en.get(
        reverse("jobs:search"), {"district": "jianxi", "sort": "deadline", "kind": "job", "q": "轴承"}
    )

    content = response.content.decode()
    assert '<option value="jianxi" selected>' in content
    assert '<option value="deadline" selected>' in content
    assert '<option value="job" selected>' in content
    assert '<option value="luolong">' in content
    assert 'name="q"' in content and 'value="轴承"' in content
    assert '<label for="id_district">' in content and 'id="id_district"' in content


def test_the_decision_field_is_labelled_in_the_page_language(client, application, employer_x):
    """The employer's decision select had no label of its own: Django's "Decision", made from
    the field name, showed in English on the Chinese page."""
    from django.utils import translation

    client.force_login(employer_x)

    content = client.get(reverse("jobs:employer_application", args=[application.pk])).content.decode()

    with translation.override("zh-hans"):
        label = translation.gettext("Decision")
    assert label != "Decision"
    assert re.search(rf'<label for="id_decision">\s*{re.escape(label)}', content)

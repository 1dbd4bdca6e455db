"""The housing pages: the public list and page of each project with live vacancies, a
graduate's criteria with ✓/✗, the application form and its refusals, "My housing" with
offers to accept or decline, leases and the yearly re-check, and each round's public
lottery page. Another graduate's application, offer or re-check answers 404, anonymous
visitors are sent to sign in, and the list pages run a bounded number of queries."""

import datetime as dt
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from PIL import Image

from apartments import lottery, services
from apartments.constants import HousingApplicationStatus as A
from apartments.constants import OfferStatus, RecheckAnswer, RoundStatus, UnitState
from apartments.models import HousingApplication, HousingOffer, HousingProject, Lease, LeaseRecheck, Unit
from portal.constants import DocumentKind, EducationLevel
from portal.models import ApplicantProfile
from tests.apartments.conftest import (
    give_letter,
    housing_apply,
    make_housing_graduate,
    make_project,
    make_round,
)
from tests.portal.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
PROJECTS = reverse("apartments:projects")
MINE = reverse("apartments:my_housing")
SEED = "03 17 22 28 31 + 09"


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _criteria(response) -> dict[str, tuple[bool, bool]]:
    """code → (passed, blocking) as the page shows them."""
    found = re.findall(r'data-code="(\w+)" data-passed="(yes|no)" data-blocking="(yes|no)"', response.content.decode())
    return {code: (passed == "yes", blocking == "yes") for code, passed, blocking in found}


def _as(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def client_en(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def project(clock, district_1):
    return make_project(district_1)


@pytest.fixture
def open_round(project):
    return make_round(project)


@pytest.fixture
def grad_a(clock, district_1):
    return make_housing_graduate(district=district_1)


@pytest.fixture
def grad_b(clock, district_2):
    return make_housing_graduate(district=district_2)


def _jpeg(color="blue") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buffer, format="JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def _draw(round, staff, clock, capture) -> None:
    """Approve every waiting application, close the window, publish the value, draw."""
    for app in HousingApplication.objects.filter(round=round, status=A.SUBMITTED):
        services.housing_application_approve(application=app, actor=staff)
    clock.set(clock.today + dt.timedelta(days=8))
    services.round_publish_seed(round=round, actor=staff, public_seed=SEED, source="福彩双色球 2026138 期")
    with capture(execute=True):
        services.round_draw_start(round=round, actor=staff)
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAWN


@pytest.fixture
def drawn(clock, open_round, grad_a, grad_b, staff_1, django_capture_on_commit_callbacks):
    """Both graduates applied for any type, were approved and drawn; each has an open offer."""
    app_a, app_b = housing_apply(grad_a, open_round), housing_apply(grad_b, open_round)
    _draw(open_round, staff_1, clock, django_capture_on_commit_callbacks)
    app_a.refresh_from_db()
    app_b.refresh_from_db()
    return app_a, app_b


def _offer(app) -> HousingOffer:
    return HousingOffer.objects.get(application=app, status=OfferStatus.OFFERED)


# --- The list of projects ----------------------------------------------------------------------


def test_projects_list_shows_live_vacancies_and_open_rounds(client_en, project, open_round, district_2):
    Unit.objects.filter(pk=Unit.objects.filter(unit_type__area=90).first().pk).update(state=UnitState.LET)
    make_project(district_2, kind="affordable_rental", name="涧西保租房", types=(("一室", "50", "800", 3),))
    HousingProject.objects.create(name="未发布项目", kind="talent_apartment", district=district_2, published=False)

    response = client_en.get(PROJECTS)

    assert response.status_code == 200
    text = _text(response)
    assert "炎黄科技园青年人才公寓" in text and "涧西保租房" in text
    assert "未发布项目" not in text
    card = re.search(rf'data-project="{project.pk}".*?</article>', text).group(0)
    assert "5 of 6 units vacant" in card
    ninety = project.unit_types.get(area=90)
    row = re.search(rf'data-unit-type="{ninety.pk}".*?</tr>', card).group(0)
    assert 'data-testid="type-vacant">1</strong> / 2' in row
    assert "90 m²" in row and "1800 CNY" in row and "furnished" in row
    assert open_round.name in card
    assert "Taking applications now" in card
    assert "洛阳市洛龙区炎黄科技园" in card
    assert "Talent apartment" in card


def test_projects_filter_by_district_and_kind(client_en, project, district_2):
    make_project(district_2, kind="affordable_rental", name="涧西保租房", types=(("一室", "50", "800", 3),))

    by_district = _text(client_en.get(PROJECTS, {"district": district_2.code}))
    by_kind = _text(client_en.get(PROJECTS, {"kind": "talent_apartment"}))
    nothing = _text(client_en.get(PROJECTS, {"district": district_2.code, "kind": "talent_apartment"}))

    assert "涧西保租房" in by_district and "炎黄科技园青年人才公寓" not in by_district
    assert "炎黄科技园青年人才公寓" in by_kind and "涧西保租房" not in by_kind
    assert "No project matches" in nothing
    assert f'<option value="{district_2.code}" selected>' in by_district


def test_an_unknown_filter_value_shows_the_error_and_every_project(client_en, project):
    response = client_en.get(PROJECTS, {"kind": "castle"})

    assert response.status_code == 200
    assert 'role="alert"' in _text(response)
    assert project.name in _text(response)


def test_projects_list_runs_a_fixed_number_of_queries(client_en, clock, district_1, staff_1, grad_a):
    def add_project(n):
        p = make_project(district_1, name=f"人才公寓{n}")
        services.project_photo_add(project=p, actor=staff_1, upload=_jpeg(), caption="外景")
        make_round(p, name=f"第{n}批")
        return p

    add_project(0)
    _as(client_en, grad_a)
    with CaptureQueriesContext(connection) as one:
        assert client_en.get(PROJECTS).status_code == 200
    for n in range(1, 5):
        add_project(n)

    with CaptureQueriesContext(connection) as five:
        response = client_en.get(PROJECTS)

    assert len(response.context["projects"]) == 5
    assert len(five) == len(one)
    assert 'src="/housing/photos/' in _text(response)


def test_projects_list_query_budget(client_en, clock, district_1, django_assert_max_num_queries):
    for n in range(6):
        make_round(make_project(district_1, name=f"人才公寓{n}"), name=f"第{n}批")

    with django_assert_max_num_queries(7):
        assert client_en.get(PROJECTS).status_code == 200


def test_projects_list_in_chinese_by_default(client, project):
    response = client.get(PROJECTS)

    assert '<html lang="zh-hans">' in response.content.decode()


def test_the_menu_and_the_home_page_link_to_the_projects(client_en):
    text = _text(client_en.get(reverse("portal:home")))

    assert f'href="{PROJECTS}"' in text
    assert "Talent apartments" in text


# --- A project's page --------------------------------------------------------------------------


def test_anonymous_visitor_sees_the_project_and_a_sign_in_prompt(client_en, project, open_round):
    project.rules = "每年复核一次。"
    project.save()

    response = client_en.get(reverse("apartments:project", args=[project.pk]))

    assert response.status_code == 200
    text = _text(response)
    assert "拎包入住" in text and "地铁 2 号线" in text and "每年复核一次。" in text
    assert "Sign in to apply" in text
    assert f"{LOGIN}?next=/housing/{project.pk}/" in text
    assert 'data-testid="criteria"' not in text
    assert "2 units offered" in text
    assert reverse("apartments:round_results", args=[open_round.pk]) in text
    assert reverse("apartments:apply", args=[open_round.pk]) not in text


def test_eligible_graduate_sees_every_criterion_met_and_the_apply_link(client_en, project, open_round, grad_a):
    response = _as(client_en, grad_a).get(reverse("apartments:project", args=[project.pk]))

    criteria = _criteria(response)
    assert criteria["profile"] == (True, True)
    assert criteria["education"] == (True, True)
    assert criteria["no_active_lease"] == (True, True)
    text = _text(response)
    assert "You meet every criterion of this project." in text
    assert "Education: Bachelor" in text
    assert reverse("apartments:apply", args=[open_round.pk]) in text


def test_a_junior_college_graduate_sees_the_education_criterion_failed(client_en, project, open_round, clock):
    user = make_housing_graduate(education_level=EducationLevel.JUNIOR_COLLEGE)

    response = _as(client_en, user).get(reverse("apartments:project", args=[project.pk]))

    assert _criteria(response)["education"] == (False, True)
    text = _text(response)
    assert "✗" in text
    assert "You do not meet every criterion of this project yet." in text
    assert "Complete your profile" in text
    assert reverse("apartments:apply", args=[open_round.pk]) not in text


def test_affordable_rental_shows_the_graduate_list_line_as_information(client_en, clock, district_2):
    project = make_project(district_2, kind="affordable_rental", name="涧西保租房", types=(("一室", "50", "800", 2),))
    round = make_round(project)
    user = make_housing_graduate(graduation_date=clock.today - dt.timedelta(days=5 * 365))

    response = _as(client_en, user).get(reverse("apartments:project", args=[project.pk]))

    criteria = _criteria(response)
    assert criteria["graduation"] == (False, False)
    assert criteria["works_in_luoyang"] == (True, True)
    text = _text(response)
    assert "for information only" in text
    assert "You meet every criterion of this project." in text
    assert reverse("apartments:apply", args=[round.pk]) in text


def test_an_employer_sees_that_only_graduates_apply(client_en, project, open_round):
    employer = OrganisationFactory().memberships.get().user

    text = _text(_as(client_en, employer).get(reverse("apartments:project", args=[project.pk])))

    assert "Only graduates can apply for housing." in text
    assert reverse("apartments:apply", args=[open_round.pk]) not in text


def test_a_graduate_who_applied_sees_the_application_instead_of_the_link(client_en, project, open_round, grad_a):
    app = housing_apply(grad_a, open_round)

    text = _text(_as(client_en, grad_a).get(reverse("apartments:project", args=[project.pk])))

    assert f"You have applied in this round: {app.reference}, Waiting for review." in text
    assert reverse("apartments:apply", args=[open_round.pk]) not in text


def test_unpublished_project_and_draft_rounds_are_hidden(client_en, project, district_1):
    draft = make_round(project, status=RoundStatus.DRAFT, name="草稿批次")
    hidden = make_project(district_1, name="未发布")
    hidden.published = False
    hidden.save()

    assert client_en.get(reverse("apartments:project", args=[hidden.pk])).status_code == 404
    assert client_en.get(reverse("apartments:project", args=[999999])).status_code == 404
    assert "草稿批次" not in _text(client_en.get(reverse("apartments:project", args=[project.pk])))
    assert client_en.get(reverse("apartments:round_results", args=[draft.pk])).status_code == 404


def test_project_photo_and_thumbnail_are_served_for_published_projects(client, project, staff_1):
    photo = services.project_photo_add(project=project, actor=staff_1, upload=_jpeg(), caption="外景")
    url = reverse("apartments:project_photo", args=[photo.pk])

    full, thumb = client.get(url), client.get(url, {"size": "thumb"})

    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    assert full["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(b"".join(full.streaming_content))) as image:
        assert image.size == (640, 480)
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as image:
        assert image.size == (480, 360)
    assert url in _text(client.get(reverse("apartments:project", args=[project.pk])))
    HousingProject.objects.filter(pk=project.pk).update(published=False)
    assert client.get(url).status_code == 404
    assert client.get(reverse("apartments:project_photo", args=[999999])).status_code == 404


# --- Applying ----------------------------------------------------------------------------------


def _apply_url(round) -> str:
    return reverse("apartments:apply", args=[round.pk])


def _form(round, **data) -> dict:
    body = {
        "unit_types": [t.pk for t in round.project.unit_types.all()],
        "household_size": 2,
        "no_home_declared": "on",
        "note": "希望尽快入住",
    }
    body.update(data)
    return {k: v for k, v in body.items() if v is not None}


def test_the_form_offers_the_rounds_types_my_documents_and_shows_my_criteria(
    client_en, project, grad_a, grad_b, district_1
):
    round = make_round(project, units={"两室一厅": 2, "一室一厅": 1, "单间": 0})
    mine = give_letter(grad_a, kind=DocumentKind.CV)
    theirs = give_letter(grad_b, kind=DocumentKind.CV)

    response = _as(client_en, grad_a).get(_apply_url(round))

    assert response.status_code == 200
    text = _text(response)
    single = project.unit_types.get(name="单间")
    assert f'name="unit_types" value="{single.pk}"' not in text
    assert "两室一厅 · 90 m² · 1800 CNY a month · furnished · 2 units in this round" in text
    assert "1 unit in this round" in text
    assert "I declare that neither I nor my household own a home in Luoyang" in text
    assert f'name="documents" value="{mine.pk}"' in text
    assert f'name="documents" value="{theirs.pk}"' not in text
    assert set(_criteria(response)) >= {"profile", "education", "no_active_lease"}


def test_apply_and_land_on_my_housing(client_en, open_round, grad_a):
    cv = give_letter(grad_a, kind=DocumentKind.CV)
    types = list(open_round.project.unit_types.filter(area__lte=60))

    response = _as(client_en, grad_a).post(
        _apply_url(open_round), _form(open_round, unit_types=[t.pk for t in types], documents=[cv.pk]), follow=True
    )

    assert response.redirect_chain[-1][0] == MINE
    assert "Your application has been sent" in _messages(response)
    app = HousingApplication.objects.get()
    assert (app.applicant, app.round, app.household_size, app.note) == (grad_a, open_round, 2, "希望尽快入住")
    assert set(app.unit_types.all()) == set(types)
    # The chosen CV, and the degree certificate the rule read from the profile (for staff).
    assert {d.kind for d in app.documents.all()} == {cv.kind, "degree_certificate"}
    assert cv in app.documents.all()
    assert app.no_home_declared_at is not None
    assert app.reference in _text(response)
    assert "Waiting for review" in _text(response)


def test_missing_declaration_is_refused_and_keeps_the_input(client_en, open_round, grad_a):
    single = open_round.project.unit_types.get(name="单间")

    response = _as(client_en, grad_a).post(
        _apply_url(open_round), _form(open_round, unit_types=[single.pk], no_home_declared=None, household_size=3)
    )

    assert response.status_code == 200
    text = _text(response)
    assert "Please sign the declaration that you own no home in Luoyang." in text
    assert 'name="household_size" value="3"' in text
    assert "希望尽快入住</textarea>" in text
    assert re.search(rf'name="unit_types" value="{single.pk}"[^>]*checked', text)
    assert HousingApplication.objects.count() == 0


def test_no_unit_type_is_refused_with_a_message(client_en, open_round, grad_a):
    response = _as(client_en, grad_a).post(_apply_url(open_round), _form(open_round, unit_types=None))

    assert "Choose at least one unit type you would accept." in _text(response)
    assert re.search(r'name="no_home_declared"[^>]*checked', _text(response))
    assert HousingApplication.objects.count() == 0


def test_a_round_that_closed_meanwhile_refuses_and_keeps_the_input(client_en, clock, open_round, grad_a):
    _as(client_en, grad_a)
    assert "Send application" in _text(client_en.get(_apply_url(open_round)))
    clock.set(clock.today + dt.timedelta(days=8))

    response = client_en.post(_apply_url(open_round), _form(open_round))

    text = _text(response)
    assert "This round is not taking applications now." in text
    assert 'data-testid="form-errors"' in text
    assert "希望尽快入住</textarea>" in text
    assert HousingApplication.objects.count() == 0
    # Coming back later, the closed round shows the notice and no form.
    later = _text(client_en.get(_apply_url(open_round)))
    assert 'data-testid="closed"' in later and "Send application" not in later


def test_an_ineligible_graduate_is_refused_with_the_failed_criterion(client_en, open_round, clock):
    user = make_housing_graduate(education_level=EducationLevel.JUNIOR_COLLEGE)

    response = _as(client_en, user).post(_apply_url(open_round), _form(open_round))

    assert "Education: Junior college" in _text(response)
    assert 'data-testid="form-errors"' in _text(response)
    assert HousingApplication.objects.count() == 0


def test_applying_twice_shows_the_first_application(client_en, open_round, grad_a):
    app = housing_apply(grad_a, open_round)
    _as(client_en, grad_a)

    page = _text(client_en.get(_apply_url(open_round)))
    response = client_en.post(_apply_url(open_round), _form(open_round))

    assert f"You have already applied in this round: {app.reference}" in page
    assert "Send application" not in page
    assert "You have already applied in this round." in _text(response)
    assert HousingApplication.objects.count() == 1


def test_only_graduates_may_apply(client_en, open_round, staff_1):
    employer = OrganisationFactory().memberships.get().user

    for user in (employer, staff_1):
        response = _as(client_en, user).post(_apply_url(open_round), _form(open_round))
        assert response.status_code == 403
        assert "Only graduates can apply for housing." in _text(response)
    assert HousingApplication.objects.count() == 0


def test_draft_round_and_unknown_round_answer_404(client_en, project, grad_a):
    draft = make_round(project, status=RoundStatus.DRAFT)
    _as(client_en, grad_a)

    assert client_en.get(_apply_url(draft)).status_code == 404
    assert client_en.get(reverse("apartments:apply", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "my_housing"),
        ("get", "apply"),
        ("post", "apply"),
        ("post", "withdraw"),
        ("post", "offer_accept"),
        ("post", "offer_decline"),
        ("post", "recheck"),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client_en, open_round, method, name):
    url = MINE if name == "my_housing" else reverse(f"apartments:{name}", args=[open_round.pk])

    response = getattr(client_en, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.parametrize("name", ["withdraw", "offer_accept", "offer_decline", "recheck"])
def test_actions_need_post(client_en, grad_a, name):
    assert _as(client_en, grad_a).get(reverse(f"apartments:{name}", args=[1])).status_code == 405


# --- My housing --------------------------------------------------------------------------------


def test_my_housing_lists_my_applications_only(client_en, open_round, grad_a, grad_b):
    mine = housing_apply(grad_a, open_round)
    theirs = housing_apply(grad_b, open_round)

    response = _as(client_en, grad_a).get(MINE)

    assert response.status_code == 200
    assert [a.pk for a in response.context["applications"]] == [mine.pk]
    text = _text(response)
    assert mine.reference in text and theirs.reference not in text
    assert "Graduate list" in text
    assert reverse("apartments:withdraw", args=[mine.pk]) in text


def test_withdraw_while_the_round_is_open(client_en, open_round, grad_a):
    app = housing_apply(grad_a, open_round)

    response = _as(client_en, grad_a).post(reverse("apartments:withdraw", args=[app.pk]), follow=True)

    assert response.redirect_chain[-1][0] == MINE
    assert "Your application has been withdrawn." in _messages(response)
    app.refresh_from_db()
    assert app.status == A.WITHDRAWN
    assert reverse("apartments:withdraw", args=[app.pk]) not in _text(response)


def test_withdraw_after_the_draw_is_refused_with_a_message(client_en, drawn):
    app_a, _ = drawn

    response = _as(client_en, app_a.applicant).post(reverse("apartments:withdraw", args=[app_a.pk]), follow=True)

    assert "decline the offer" in _messages(response)
    app_a.refresh_from_db()
    assert app_a.status == A.APPROVED


def test_my_housing_shows_rank_and_the_open_offer(client_en, drawn):
    app_a, _ = drawn
    offer = _offer(app_a)

    text = _text(_as(client_en, app_a.applicant).get(MINE))

    assert f'data-testid="rank">{app_a.rank} (number {app_a.bucket_rank} in the group)' in text
    assert f"Unit offered: {offer.unit.label}" in text
    assert "answer by" in text
    assert reverse("apartments:offer_accept", args=[offer.pk]) in text
    assert reverse("apartments:offer_decline", args=[offer.pk]) in text
    assert reverse("apartments:round_results", args=[app_a.round_id]) in text
    assert reverse("apartments:withdraw", args=[app_a.pk]) not in text


def test_accept_an_offer_and_see_the_lease(client_en, drawn):
    app_a, _ = drawn
    offer = _offer(app_a)

    response = _as(client_en, app_a.applicant).post(reverse("apartments:offer_accept", args=[offer.pk]), follow=True)

    assert response.redirect_chain[-1][0] == MINE
    lease = Lease.objects.get(tenant=app_a.applicant)
    assert f"You have accepted unit {offer.unit.label}" in _messages(response)
    text = _text(response)
    assert lease.rent_free_months == 12
    until = lease.rent_free_until.isoformat()
    assert f'data-testid="rent-free">12 months, rent is due again from {until}' in text
    assert "50% of the rent: 900 CNY a month" in text
    assert "Offer accepted" in text
    assert reverse("apartments:offer_accept", args=[offer.pk]) not in text


def test_decline_an_offer(client_en, drawn, django_capture_on_commit_callbacks):
    app_a, _ = drawn
    offer = _offer(app_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = _as(client_en, app_a.applicant).post(
            reverse("apartments:offer_decline", args=[offer.pk]), {"reason": "离单位太远"}, follow=True
        )

    assert "You have declined the offer." in _messages(response)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED and offer.status_reason == "离单位太远"
    assert HousingApplication.objects.get(pk=app_a.pk).status == A.DECLINED


def test_an_answered_or_expired_offer_shows_a_message(client_en, clock, drawn):
    app_a, app_b = drawn
    _as(client_en, app_a.applicant)
    offer = _offer(app_a)
    client_en.post(reverse("apartments:offer_accept", args=[offer.pk]))

    again = client_en.post(reverse("apartments:offer_decline", args=[offer.pk]), follow=True)

    assert _messages(again)
    assert HousingOffer.objects.get(pk=offer.pk).status == OfferStatus.ACCEPTED
    late = _offer(app_b)
    clock.set(clock.today + dt.timedelta(days=10))
    response = _as(client_en, app_b.applicant).post(reverse("apartments:offer_accept", args=[late.pk]), follow=True)
    assert "The deadline to answer this offer has passed." in _messages(response)
    assert not Lease.objects.filter(tenant=app_b.applicant).exists()


def test_another_graduates_application_and_offer_answer_404(client_en, drawn):
    app_a, app_b = drawn
    offer_b = _offer(app_b)
    _as(client_en, app_a.applicant)

    assert client_en.post(reverse("apartments:withdraw", args=[app_b.pk])).status_code == 404
    assert client_en.post(reverse("apartments:offer_accept", args=[offer_b.pk])).status_code == 404
    assert client_en.post(reverse("apartments:offer_decline", args=[offer_b.pk])).status_code == 404
    assert app_b.reference not in _text(client_en.get(MINE))
    assert HousingOffer.objects.get(pk=offer_b.pk).status == OfferStatus.OFFERED


def test_my_housing_runs_a_bounded_number_of_queries(
    client_en, clock, district_1, grad_a, staff_1, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    rounds = [make_round(make_project(district_1, name=f"人才公寓{n}"), name=f"第{n}批") for n in range(3)]
    for round in rounds:
        housing_apply(grad_a, round)
    for round in rounds[:2]:
        _draw(round, staff_1, clock, django_capture_on_commit_callbacks)
        clock.set(clock.today - dt.timedelta(days=8))
    services.housing_offer_accept(
        offer=HousingOffer.objects.filter(application__applicant=grad_a).first(), actor=grad_a
    )
    lease = Lease.objects.get()
    LeaseRecheck.objects.create(lease=lease, due_on=clock.today)
    _as(client_en, grad_a)

    with django_assert_max_num_queries(10):
        response = client_en.get(MINE)

    assert len(response.context["applications"]) == 3
    assert len(response.context["leases"]) == 1


# --- The yearly re-check -----------------------------------------------------------------------


@pytest.fixture
def recheck_a(drawn, clock):
    app_a, _ = drawn
    lease = services.housing_offer_accept(offer=_offer(app_a), actor=app_a.applicant)
    return LeaseRecheck.objects.create(lease=lease, due_on=clock.today + dt.timedelta(days=14))


def test_answer_the_yearly_recheck(client_en, recheck_a):
    tenant = recheck_a.lease.tenant
    _as(client_en, tenant)
    url = reverse("apartments:recheck", args=[recheck_a.pk])
    assert url in _text(client_en.get(MINE))

    response = client_en.post(
        url, {"answer": RecheckAnswer.WORKING_IN_LUOYANG, "employer": "洛阳轴承集团"}, follow=True
    )

    assert "Thank you for your answer." in _messages(response)
    recheck_a.refresh_from_db()
    assert (recheck_a.answer, recheck_a.employer) == (RecheckAnswer.WORKING_IN_LUOYANG, "洛阳轴承集团")
    assert url not in _text(response)


def test_recheck_without_employer_or_answer_shows_a_message(client_en, recheck_a):
    _as(client_en, recheck_a.lease.tenant)
    url = reverse("apartments:recheck", args=[recheck_a.pk])

    no_employer = client_en.post(url, {"answer": RecheckAnswer.WORKING_IN_LUOYANG}, follow=True)
    no_answer = client_en.post(url, {"answer": "rich"}, follow=True)

    assert "Name your employer or business." in _messages(no_employer)
    assert _messages(no_answer)
    recheck_a.refresh_from_db()
    assert recheck_a.answered_at is None


def test_another_tenants_recheck_answers_404(client_en, recheck_a, grad_b):
    assert recheck_a.lease.tenant != grad_b

    response = _as(client_en, grad_b).post(
        reverse("apartments:recheck", args=[recheck_a.pk]), {"answer": RecheckAnswer.LEFT}
    )

    assert response.status_code == 404
    recheck_a.refresh_from_db()
    assert recheck_a.answered_at is None


# --- The round's public lottery page -----------------------------------------------------------


def test_results_page_before_the_value_is_published(client_en, open_round):
    response = client_en.get(reverse("apartments:round_results", args=[open_round.pk]))

    assert response.status_code == 200
    text = _text(response)
    assert 'data-testid="no-seed"' in text
    assert 'data-testid="not-drawn"' in text
    assert "python -m apartments.lottery" in text
    assert "SHA-256" in text
    assert client_en.get(reverse("apartments:round_draw_input", args=[open_round.pk])).status_code == 404


def test_results_page_shows_the_value_once_published_before_the_draw(client_en, clock, open_round, staff_1):
    clock.set(clock.today + dt.timedelta(days=8))
    services.round_publish_seed(round=open_round, actor=staff_1, public_seed=SEED, source="福彩双色球 2026138 期")

    text = _text(client_en.get(reverse("apartments:round_results", args=[open_round.pk])))

    assert SEED in text and "福彩双色球 2026138 期" in text
    assert lottery.seed_digest(SEED, open_round.pk) in text
    assert 'data-testid="not-drawn"' in text


def test_results_show_masked_names_only_and_highlight_my_row(client_en, drawn):
    app_a, app_b = drawn
    profiles = {p.user_id: p for p in ApplicantProfile.objects.filter(user__in=[app_a.applicant, app_b.applicant])}
    url = reverse("apartments:round_results", args=[app_a.round_id])

    anonymous = _text(client_en.get(url))
    mine = _text(_as(client_en, app_a.applicant).get(url))

    for profile in profiles.values():
        assert profile.real_name not in anonymous
        assert profile.reveal_id_number() not in anonymous and profile.reveal_id_number() not in mine
        assert profile.id_number_masked in anonymous
        assert profile.real_name[0] + "*" * (len(profile.real_name) - 1) in anonymous
    assert app_a.reference in anonymous and app_b.reference in anonymous
    assert 'data-testid="mine"' not in anonymous
    row = re.search(r'<tr class="mine" data-testid="mine" data-reference="([^"]+)"', mine)
    assert row and row.group(1) == app_a.reference
    assert "your application" in mine
    assert "Approved" in anonymous


def test_the_draw_input_repeats_the_published_ranks(client_en, drawn):
    app_a, app_b = drawn
    round = app_a.round

    response = client_en.get(reverse("apartments:round_draw_input", args=[round.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["public_value"] == SEED
    ranked = lottery.draw(
        public_seed=data["public_value"],
        round_id=round.pk,
        entries=[lottery.Entry(e["reference"], e["list"], e["group"]) for e in data["entries"]],
        buckets=data["groups"],
    )
    assert {r.reference: r.rank for r in ranked} == {app_a.reference: app_a.rank, app_b.reference: app_b.rank}
    body = response.content.decode()
    for user in (app_a.applicant, app_b.applicant):
        assert user.profile.real_name not in body


# --- English messages from the services ----------------------------------------------------------


def test_service_messages_follow_the_language_of_the_request(client, open_round, grad_a):
    form = _form(open_round, no_home_declared=None)
    english = _text(_as(client, grad_a).post(_apply_url(open_round), form, HTTP_ACCEPT_LANGUAGE="en"))
    chinese = _text(_as(client, grad_a).post(_apply_url(open_round), form, HTTP_ACCEPT_LANGUAGE="zh-hans"))

    assert "Please sign the declaration that you own no home in Luoyang." in english
    with translation.override("zh-hans"):
        assert translation.gettext("Please sign the declaration that you own no home in Luoyang.") in chinese


# --- Demo data ---------------------------------------------------------------------------------


def test_demo_seed_adds_housing_projects_and_rounds_once(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    talent = HousingProject.objects.get(name="炎黄科技园青年人才公寓")
    assert talent.units.count() == 213
    assert sorted(talent.unit_types.values_list("area", flat=True)) == [45, 60, 90]
    affordable = HousingProject.objects.get(kind="affordable_rental")
    assert affordable.district != talent.district
    assert all(t.area < 70 for t in affordable.unit_types.all())
    open_round = talent.rounds.get()
    assert open_round.is_open
    closed = affordable.rounds.get()
    assert closed.graduate_share == 40 and not closed.is_open and closed.seed_published_at

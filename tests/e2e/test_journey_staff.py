"""District staff work through the staff admin, in a real browser and in Chinese (issue 8,
"Proof as a whole"): a 洛龙区 staff member signs in to /admin/, verifies a newly registered
organisation, approves and publishes the position it then submits, checks a graduate in at
the youth station from today's board, approves the graduate's interview travel subsidy
(review, then approval: the public notice starts) and runs the draw of a talent-apartment
round (publishes the public random value, then draws).

Every decision the staff member takes is clicked in the admin. What others did before is made
through the services: the employer's registration and, once verified, its position; the
graduate's complete profile, their application elsewhere with an interview invitation for
tomorrow, their stay booked from tonight, their subsidy application (checked as eligible by
the eager Celery task) and their housing application (approved), and a second applicant's.

Time: a guest is checked in only on a night of the stay, so the stay starts today (booking
for today allowed at any hour by a district parameter); the round's application window would
close in a week, and the test moves its closing time into the past with an ORM update before
the draw (what the passing of time would do). The draw runs in Celery after the commit; the
test settings run tasks eagerly, so the page the draw button redirects to shows it drawn."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apartments import constants as station_constants
from apartments import services as apartment_services
from apartments.constants import HousingApplicationStatus, OfferStatus, RoundStatus, StationKind, StayStatus
from apartments.models import AllocationRound, HousingOffer, Station, Stay
from jobs import services as jobs_services
from jobs.constants import PositionKind, PositionStatus
from portal import services as portal_services
from portal.constants import DocumentKind, EducationLevel, Industry, OrganisationStatus
from portal.models import Organisation, Parameter
from subsidies import services as subsidy_services
from subsidies.constants import SubsidyStatus
from subsidies.models import Programme, SubsidyApplication
from tests.apartments.conftest import housing_apply, make_project, make_round
from tests.e2e.browser import interview_through_the_services, png, shot, sign_in, verified_email
from tests.portal.factories import DistrictStaffFactory, ProfileFactory, UserFactory, make_credit_code, make_id_number
from tests.privacy_scan import assert_no_plaintext

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts, policy parameters, programmes), which the flush removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

STAFF_EMAIL = "luolong.service-centre@example.com"
STAFF_PASSWORD = "Luoyang-2026-district"
ORG_NAME = "洛阳新材检测技术有限公司"
POSITION_TITLE = "材料检测见习技术员"
GUEST_NAME = "宋晓川"
GUEST_ID_NUMBER = make_id_number(born=dt.date(2001, 8, 14))
OTHER_ID_NUMBER = make_id_number(born=dt.date(2000, 11, 2))
STATION_NAME = "洛龙青年驿站"
PROJECT_NAME = "伊滨青年人才公寓"
ROUND_NAME = "2026年第二批"
PUBLIC_SEED = "05 11 19 24 30 + 12"
SEED_SOURCE = "中国福利彩票双色球第2026136期开奖号码"


def _name(step: str) -> str:
    return f"journey-staff-{step}"


# --- what others did before ---------------------------------------------------------------------


@pytest.fixture
def district_staff(luolong):
    return verified_email(DistrictStaffFactory(districts=[luolong]), STAFF_EMAIL, STAFF_PASSWORD)


@pytest.fixture
def pending_organisation(luolong) -> Organisation:
    """Registered by its HR manager on the portal with the business licence: waiting for 洛龙区."""
    owner = UserFactory()
    organisation = portal_services.organisation_register(
        user=owner,
        data={
            "name": ORG_NAME,
            "credit_code": make_credit_code(),
            "kind": "private",
            "district": luolong,
            "industry": Industry.MATERIALS,
            "size": "small",
            "address": "洛阳市洛龙区滨河北路 18 号",
            "contact_name": "马文博",
            "contact_phone": "0379-65211000",
        },
    )
    portal_services.document_upload(
        owner=owner, kind=DocumentKind.BUSINESS_LICENCE, upload=png("licence.png"), organisation=organisation
    )
    return organisation


@pytest.fixture
def guest(luolong):
    """A bachelor from 郑州 with a complete profile (degree certificate uploaded), invited to an
    interview tomorrow by a verified employer, working in Luoyang already (for housing)."""
    profile = ProfileFactory(
        complete=True,
        real_name=GUEST_NAME,
        district=luolong,
        graduation_date=timezone.localdate() - dt.timedelta(days=150),
        hukou_province="河南省",
        hukou_city="郑州市",
        works_in_luoyang=True,
        id_number=GUEST_ID_NUMBER,
    )
    user = profile.user
    portal_services.document_upload(owner=user, kind=DocumentKind.DEGREE_CERTIFICATE, upload=png("degree.png"))
    interview_through_the_services(
        user,
        luolong,
        employer_name="中信重工机械股份有限公司",
        position={
            "title": "矿山装备设计工程师",
            "description": "负责大型矿山装备的结构设计。",
            "headcount": 2,
            "salary_min": 6500,
            "salary_max": 9500,
        },
        on=timezone.localdate() + dt.timedelta(days=1),
    )
    return user


@pytest.fixture
def stay(luolong, guest) -> Stay:
    """Two nights from tonight at the district's youth station, booked by the guest."""
    station = Station.objects.create(
        district=luolong,
        name=STATION_NAME,
        kind=StationKind.YOUTH_APARTMENT,
        address="洛阳市洛龙区开元大道 8 号",
        beds=4,
        contact_name="王老师",
        contact_phone="0379-65000000",
    )
    Parameter.objects.create(
        key=station_constants.BOOKING_MIN_HOURS,
        value=Decimal("-12"),
        effective_from=timezone.localdate(),
        district=luolong,
        note="e2e: booking for today allowed at any hour",
    )
    return apartment_services.stay_book(applicant=guest, station=station, check_in=timezone.localdate(), nights=2)


@pytest.fixture
def travel_subsidy(guest) -> SubsidyApplication:
    """The guest's interview travel subsidy, checked as eligible (the eager Celery task)."""
    application = subsidy_services.subsidy_application_create(
        programme=Programme.objects.get(code="interview-travel"),
        applicant=guest,
        documents=list(guest.documents.filter(kind=DocumentKind.DEGREE_CERTIFICATE)),
    )
    application.refresh_from_db()
    assert application.status == SubsidyStatus.ELIGIBLE, application.status
    return application


@pytest.fixture
def housing_round(luolong, guest, district_staff) -> AllocationRound:
    """A talent-apartment round with two approved applications: the guest's and another's."""
    project = make_project(luolong, name=PROJECT_NAME)
    housing_round = make_round(project, name=ROUND_NAME)
    other = ProfileFactory(
        complete=True,
        real_name="韦一鸣",
        district=luolong,
        education_level=EducationLevel.MASTER,
        graduation_date=timezone.localdate() - dt.timedelta(days=300),
        works_in_luoyang=True,
        id_number=OTHER_ID_NUMBER,
    ).user
    portal_services.document_upload(owner=other, kind=DocumentKind.DEGREE_CERTIFICATE, upload=png("degree.png"))
    for applicant in (guest, other):
        application = housing_apply(applicant, housing_round)
        apartment_services.housing_application_approve(application=application, actor=district_staff)
    return housing_round


# --- the journey -----------------------------------------------------------------------------------


def test_district_staff_verify_moderate_check_in_approve_the_subsidy_and_draw_the_round(
    live_server,
    page: Page,
    artifacts_dir,
    district_staff,
    pending_organisation,
    guest,
    stay,
    travel_subsidy,
    housing_round,
):
    organisation = pending_organisation
    content = page.locator("#content-main")
    tools = page.locator(".object-tools")

    # --- 1. Signs in to the staff admin.
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    sign_in(page, STAFF_EMAIL, STAFF_PASSWORD)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    shot(page, artifacts_dir, _name("01-admin-home"), phone=True)

    # --- 2. Verifies the organisation: the list, its page (the business licence), the decision.
    content.get_by_role("link", name="用人单位", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/portal/organisation/"))
    row = page.locator("#result_list tbody tr").filter(has_text=ORG_NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("待审核")
    shot(page, artifacts_dir, _name("02-organisations"))
    row.get_by_role("link", name=ORG_NAME).click()
    expect(page).to_have_url(re.compile(rf"/admin/portal/organisation/{organisation.pk}/change/"))
    expect(content.get_by_role("link", name="营业执照")).to_be_visible()
    shot(page, artifacts_dir, _name("03-organisation"), phone=True)
    tools.get_by_role("link", name="通过认证", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/portal/organisation/{organisation.pk}/verify/$"))
    expect(page.locator("#content")).to_contain_text(organisation.credit_code)
    page.locator("input[type=submit][value='通过认证']").click()
    expect(page).to_have_url(re.compile(rf"/admin/portal/organisation/{organisation.pk}/change/$"))
    expect(page.locator(".messagelist .success")).to_contain_text(ORG_NAME)
    expect(tools.get_by_role("link", name="通过认证", exact=True)).to_have_count(0)
    shot(page, artifacts_dir, _name("04-organisation-verified"))
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.VERIFIED
    assert organisation.verified_at is not None

    # --- 3. The employer, now verified, posts a traineeship (its own journey does this in its
    # browser); staff moderate it: the list of positions waiting, the position, the approval.
    employer = organisation.memberships.get().user
    position = jobs_services.position_create(
        organisation=organisation,
        actor=employer,
        data={
            "kind": PositionKind.TRAINEESHIP,
            "title": POSITION_TITLE,
            "description": "参与金属材料力学性能与金相检测，见习期6个月，提供见习生活补贴。",
            "district": organisation.district,
            "industry": Industry.MATERIALS,
            "education_level": EducationLevel.BACHELOR,
            "majors": "材料科学与工程",
            "headcount": 2,
            "salary_min": 2500,
            "salary_max": 3000,
            "work_address": "洛阳市洛龙区滨河北路 18 号",
            "deadline": timezone.localdate() + dt.timedelta(days=30),
        },
    )
    jobs_services.position_submit(position=position, actor=employer)
    page.locator(".breadcrumbs").get_by_role("link", name="首页").click()
    content.get_by_role("link", name="岗位", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/jobs/position/"))
    row = page.locator("#result_list tbody tr").filter(has_text=POSITION_TITLE)
    expect(row).to_contain_text("待审核")
    shot(page, artifacts_dir, _name("05-positions"))
    row.get_by_role("link", name=POSITION_TITLE).click()
    expect(page).to_have_url(re.compile(rf"/admin/jobs/position/{position.pk}/change/"))
    tools.get_by_role("link", name="审核通过并发布", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/jobs/position/{position.pk}/approve/$"))
    expect(page.locator("#content")).to_contain_text(POSITION_TITLE)
    shot(page, artifacts_dir, _name("06-position-approve"), phone=True)
    page.locator("input[type=submit][value='审核通过并发布']").click()
    expect(page).to_have_url(re.compile(rf"/admin/jobs/position/{position.pk}/change/$"))
    expect(page.locator(".messagelist .success")).to_contain_text(POSITION_TITLE)
    position.refresh_from_db()
    assert position.status == PositionStatus.PUBLISHED and position.published_at is not None

    # --- 4. Checks the guest in at the youth station from today's board.
    page.locator(".breadcrumbs").get_by_role("link", name="首页").click()
    content.get_by_role("link", name="驿站入住记录", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/apartments/stay/"))
    tools.get_by_role("link", name="今日概况", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/apartments/stay/today/$"))
    arrival = page.locator("#board-arrivals tbody tr").filter(has_text=GUEST_NAME)
    expect(arrival).to_have_count(1)
    expect(arrival).to_contain_text(STATION_NAME)
    shot(page, artifacts_dir, _name("07-today-board"), phone=True)
    arrival.get_by_role("link", name="办理入住").click()
    expect(page).to_have_url(re.compile(rf"/admin/apartments/stay/{stay.pk}/check-in/"))
    expect(page.get_by_text(guest.profile.id_number_masked)).to_be_visible()
    page.get_by_label(re.compile("本人已查验入住人身份证")).check()
    shot(page, artifacts_dir, _name("08-check-in"), phone=True)
    page.locator("input[type=submit][value='办理入住']").click()
    expect(page).to_have_url(re.compile(r"/admin/apartments/stay/today/$"))
    expect(page.get_by_text(f"{GUEST_NAME}已在{STATION_NAME}办理入住。")).to_be_visible()
    expect(page.locator("#board-in-house tbody tr").filter(has_text=GUEST_NAME)).to_have_count(1)
    shot(page, artifacts_dir, _name("09-checked-in"))
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_IN and stay.checked_in_at is not None

    # --- 5. Approves the interview travel subsidy: review first, then the approval.
    page.goto(f"{live_server.url}/admin/")
    content.get_by_role("link", name="补贴申请", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/subsidies/subsidyapplication/"))
    row = page.locator("#result_list tbody tr").filter(has_text=travel_subsidy.reference)
    expect(row).to_contain_text("核查通过")
    shot(page, artifacts_dir, _name("10-subsidy-applications"))
    row.get_by_role("link", name=travel_subsidy.reference).click()
    tools.get_by_role("link", name="开始审核", exact=True).click()
    page.get_by_role("button", name="开始审核").click()
    expect(content.locator(".field-status .readonly")).to_have_text("审核中")
    tools.get_by_role("link", name="审核通过", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/subsidyapplication/{travel_subsidy.pk}/approve/$"))
    expect(page.locator("#decision-summary")).to_contain_text("500.00")
    shot(page, artifacts_dir, _name("11-subsidy-approve"), phone=True)
    page.get_by_role("button", name="审核通过").click()
    expect(page).to_have_url(re.compile(rf"/subsidyapplication/{travel_subsidy.pk}/change/$"))
    expect(content.locator(".field-status .readonly")).to_have_text("公示中")
    shot(page, artifacts_dir, _name("12-subsidy-in-notice"))
    travel_subsidy.refresh_from_db()
    assert travel_subsidy.status == SubsidyStatus.NOTICE
    assert travel_subsidy.reviewed_by_id == district_staff.pk

    # --- 6. The apartment draw: the window closes (time passing), the public random value, the draw.
    AllocationRound.objects.filter(pk=housing_round.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    page.goto(f"{live_server.url}/admin/")
    content.get_by_role("link", name="配租批次", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/apartments/allocationround/"))
    page.locator("#result_list tbody tr").filter(has_text=ROUND_NAME).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/admin/apartments/allocationround/{housing_round.pk}/change/"))
    expect(page.locator("#round-summary")).to_contain_text("申请已截止：请先公布随机数，再进行摇号")
    shot(page, artifacts_dir, _name("13-round-closed"))
    tools.get_by_role("link", name="公布随机数", exact=True).click()
    page.get_by_label("公开随机数").fill(PUBLIC_SEED)
    page.get_by_label("公开查询途径").fill(SEED_SOURCE)
    shot(page, artifacts_dir, _name("14-round-seed"), phone=True)
    page.get_by_role("button", name="公布随机数").click()
    expect(page.locator("#round-summary")).to_contain_text("可以摇号")
    tools.get_by_role("link", name="摇号", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/allocationround/{housing_round.pk}/draw/$"))
    page.get_by_role("button", name="摇号", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/allocationround/{housing_round.pk}/change/$"))
    expect(page.locator("#round-status")).to_have_text("已摇号，配租进行中", timeout=30_000)
    expect(page.locator("#draw-percent")).to_have_text("100%")
    shot(page, artifacts_dir, _name("15-round-drawn"), phone=True)

    housing_round.refresh_from_db()
    assert housing_round.status == RoundStatus.DRAWN
    assert housing_round.public_seed == PUBLIC_SEED
    ranks = sorted(housing_round.applications.values_list("rank", flat=True))
    assert ranks == [1, 2]
    assert HousingOffer.objects.filter(application__round=housing_round, status=OfferStatus.OFFERED).count() == 2
    assert not housing_round.applications.exclude(status=HousingApplicationStatus.APPROVED).exists()

    # --- The ID numbers are nowhere in the database or the logs in clear.
    assert_no_plaintext([GUEST_ID_NUMBER, OTHER_ID_NUMBER])

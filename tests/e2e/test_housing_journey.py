"""A talent apartment from application to lease, in a real browser and in Chinese ("One browser
journey: a graduate applies, staff approve and draw, the graduate accepts the offer"): a
graduate working in Luoyang finds 人才公寓 in the menu, checks the criteria (all ✓), applies in
the open round for two unit types; 洛龙区 staff approve the application in the staff admin,
publish the public random value after the window closes and run the draw; the graduate sees
the rank and the offer on 我的住房, accepts it and sees the lease with its rent-free months,
then finds their masked name (never the full one) on the public results page.

The data the journey starts from (the project with its unit types and units, the open round,
the graduate's complete profile with the degree certificate uploaded through the portal's
upload service, the district staff member) is made before the browsers start; both people
sign in through the real sign-in page with their e-mail address and password, each in a
browser context of their own.

Time: the random value can be published, and the round drawn, only after the application
window closes, and the test cannot wait a week: once the application is approved, the round's
``closes_at`` is moved into the past with an ORM update (what the passing of time would do).

The draw: the staff's button marks the round as drawing and sends the Celery task after the
transaction commits (``transaction.on_commit``). The test settings run tasks eagerly
(``CELERY_TASK_ALWAYS_EAGER``), and the live server commits for real, so the draw runs inside
the button's request and the page it redirects to usually shows the round drawn already; with
a real worker the page would poll the progress and reload itself, which the wait below allows
for as well."""

import contextlib
import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apartments.constants import HousingApplicationStatus, LeaseStatus, OfferStatus, RoundStatus, UnitState
from apartments.models import AllocationRound, HousingApplication, HousingOffer, Lease, Unit
from portal import services as portal_services
from portal.constants import DocumentKind
from tests.apartments.conftest import make_project, make_round
from tests.e2e.browser import new_page, png, sign_in, snap_other, verified_email
from tests.portal.factories import DistrictStaffFactory, ProfileFactory

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts, policy parameters), which the flush after the test removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GRADUATE_EMAIL = "zhao.mingyuan@example.com"
GRADUATE_PASSWORD = "Luoyang-2026-graduate"
GRADUATE_NAME = "赵明远"
GRADUATE_MASKED = "赵**"
STAFF_EMAIL = "luolong.housing@example.com"
STAFF_PASSWORD = "Luoyang-2026-district"
PROJECT_NAME = "炎黄科技园青年人才公寓"
ROUND_NAME = "2026年第一批"
PUBLIC_SEED = "03 17 22 28 31 + 09"
SEED_SOURCE = "中国福利彩票双色球第2026050期开奖号码"


# --- set-up through the services ---------------------------------------------------------------


@pytest.fixture
def project(luolong):
    """A talent-apartment project in 洛龙区: 90, 60 and 45 m² types, two vacant units each."""
    return make_project(luolong, name=PROJECT_NAME)


@pytest.fixture
def housing_round(project) -> AllocationRound:
    """Published and taking applications: opened a day ago, closes in a week; every unit offered."""
    return make_round(project, name=ROUND_NAME)


@pytest.fixture
def graduate(luolong):
    """A bachelor in mechanical engineering from 郑州 (household registration outside Luoyang),
    graduated half a year ago, working in Luoyang, with a complete profile: consent, ID number,
    degree certificate."""
    profile = ProfileFactory(
        complete=True,
        real_name=GRADUATE_NAME,
        district=luolong,
        graduation_date=timezone.localdate() - dt.timedelta(days=180),
        hukou_province="河南省",
        hukou_city="郑州市",
        works_in_luoyang=True,
    )
    user = verified_email(profile.user, GRADUATE_EMAIL, GRADUATE_PASSWORD)
    portal_services.document_upload(owner=user, kind=DocumentKind.DEGREE_CERTIFICATE, upload=png("degree.png"))
    assert profile.is_from_outside_luoyang is True
    return user


@pytest.fixture
def district_staff(luolong):
    return verified_email(DistrictStaffFactory(districts=[luolong]), STAFF_EMAIL, STAFF_PASSWORD)


# --- the journey -----------------------------------------------------------------------------------


def test_graduate_applies_staff_approve_and_draw_graduate_accepts_the_offer(
    live_server,
    chromium,
    page: Page,
    snap,
    artifacts_dir,
    project,
    housing_round,
    graduate,
    district_staff,
):
    round_label = f"{PROJECT_NAME} · {ROUND_NAME}"  # str(round), as the admin's messages name it

    # --- 1. The graduate signs in and opens 人才公寓 from the menu.
    page.goto(f"{live_server.url}/accounts/login/?next=/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    sign_in(page, GRADUATE_EMAIL, GRADUATE_PASSWORD)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="人才公寓", exact=True).click()
    expect(page).to_have_url(re.compile(r"/housing/$"))
    expect(page.get_by_role("heading", level=1, name="人才公寓与保障性租赁住房")).to_be_visible()
    card = page.locator(f"article[data-project='{project.pk}']")
    expect(card.get_by_test_id("vacant").first).to_contain_text("6")
    expect(card.locator(f"li[data-round='{housing_round.pk}']")).to_contain_text("正在接受申请")
    snap("housing-01-projects")

    # --- 2. The project page: unit types, the criteria all met (✓), the round taking applications.
    card.get_by_role("link", name=f"详情与申请条件：{PROJECT_NAME}").click()
    expect(page).to_have_url(re.compile(rf"/housing/{project.pk}/$"))
    expect(page.get_by_role("heading", level=1, name=PROJECT_NAME)).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="我能申请吗？")).to_be_visible()
    criteria = page.get_by_test_id("criteria")
    expect(criteria.locator("li")).to_have_count(3)
    for code in ("profile", "education", "no_active_lease"):
        line = criteria.locator(f"li[data-code='{code}']")
        expect(line).to_have_attribute("data-passed", "yes")
        expect(line).to_contain_text("✓")
    expect(criteria).to_contain_text("个人资料：已完善")
    expect(criteria).to_contain_text("学历：")
    expect(criteria.locator("li.fail")).to_have_count(0)
    expect(page.get_by_test_id("verdict")).to_have_text(re.compile("您符合本项目的全部条件。"))
    round_card = page.locator(f"article[data-round='{housing_round.pk}']")
    expect(round_card.get_by_role("heading", level=3, name=ROUND_NAME)).to_be_visible()
    expect(round_card.get_by_test_id("phase")).to_have_text("正在接受申请")
    snap("housing-02-project")

    # --- 3. Applies: two of the three types, the declaration, sent.
    round_card.get_by_role("link", name=f"申请{ROUND_NAME}").click()
    expect(page).to_have_url(re.compile(rf"/housing/rounds/{housing_round.pk}/apply/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"申请：{PROJECT_NAME}（{ROUND_NAME}）")
    expect(page.get_by_test_id("criteria").locator("li.fail")).to_have_count(0)
    types = page.get_by_role("group", name="可接受的户型")
    expect(types.get_by_role("checkbox")).to_have_count(3)
    types.get_by_label(re.compile(r"^一室一厅")).check()
    types.get_by_label(re.compile(r"^单间")).check()
    expect(page.get_by_label("家庭人数")).to_have_value("1")
    # The degree certificate uploaded on the profile, shared with the district's staff.
    page.get_by_role("group", name="向区县工作人员提供的材料").get_by_label(re.compile(r"^学位证书")).check()
    page.get_by_label("本人承诺：本人及家庭成员在洛阳市无自有住房").check()
    snap("housing-03-apply")
    page.get_by_role("button", name="提交申请").click()

    # --- 4. "My housing": the application, waiting for review.
    expect(page).to_have_url(re.compile(r"/housing/mine/$"))
    expect(page.get_by_role("heading", level=1, name="我的住房")).to_be_visible()
    expect(page.get_by_text("申请已提交，区县工作人员将进行审核。")).to_be_visible()
    application = HousingApplication.objects.get(applicant=graduate)
    mine = page.locator(f"article[data-application='{application.pk}']")
    expect(mine.get_by_test_id("application-status")).to_have_text("待审核")
    expect(mine).to_contain_text(f"申请编号{application.reference}")
    expect(mine).to_contain_text("一室一厅")
    expect(mine).to_contain_text("单间")
    expect(mine).not_to_contain_text("两室一厅")
    expect(mine.get_by_test_id("rank")).to_have_count(0)
    snap("housing-04-my-housing-submitted")
    assert application.round_id == housing_round.pk
    assert application.status == HousingApplicationStatus.SUBMITTED
    assert sorted(application.unit_types.values_list("name", flat=True)) == ["一室一厅", "单间"]
    assert application.no_home_declared_at is not None
    assert application.eligibility["eligible"] is True
    assert [d.kind for d in application.documents.all()] == [DocumentKind.DEGREE_CERTIFICATE]

    # --- 5. District staff sign in to the staff admin in their own browser.
    staff_page = new_page(chromium)
    try:
        staff_page.goto(f"{live_server.url}/admin/")
        sign_in(staff_page, STAFF_EMAIL, STAFF_PASSWORD)
        expect(staff_page).to_have_url(re.compile(r"/admin/$"))
        staff_page.locator("#content-main").get_by_role("link", name="住房申请", exact=True).click()
        expect(staff_page).to_have_url(re.compile(r"/admin/apartments/housingapplication/"))
        row = staff_page.locator("#result_list tbody tr").filter(has_text=application.reference)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(GRADUATE_MASKED)  # masked in the list
        expect(row).to_contain_text("待审核")
        snap_other(staff_page, artifacts_dir, "housing-05-staff-applications")

        # --- 6. Opens the application (full name on its own page) and approves it.
        row.get_by_role("link", name=application.reference).click()
        expect(staff_page).to_have_url(re.compile(rf"/admin/apartments/housingapplication/{application.pk}/change/"))
        expect(staff_page.locator("#content-main")).to_contain_text(GRADUATE_NAME)
        # The shared degree certificate opens for the reviewing staff.
        certificate = staff_page.locator("#content-main").get_by_role("link", name="学位证书")
        expect(certificate).to_be_visible()
        response = staff_page.request.get(live_server.url + certificate.get_attribute("href"))
        assert response.status == 200 and response.headers["content-type"] == "image/png"
        snap_other(staff_page, artifacts_dir, "housing-06-staff-application")
        staff_page.locator(".object-tools").get_by_role("link", name="审核通过", exact=True).click()
        expect(staff_page).to_have_url(re.compile(rf"/housingapplication/{application.pk}/approve/$"))
        expect(staff_page.locator("#decision-summary")).to_contain_text(application.reference)
        snap_other(staff_page, artifacts_dir, "housing-07-staff-approve")
        staff_page.get_by_role("button", name="审核通过").click()
        expect(staff_page).to_have_url(re.compile(rf"/housingapplication/{application.pk}/change/$"))
        expect(staff_page.locator(".messagelist .success")).to_have_text(f"申请{application.reference}已审核通过。")
        # A decided application offers no second decision.
        expect(staff_page.locator(".object-tools").get_by_role("link", name="审核通过", exact=True)).to_have_count(0)
        application.refresh_from_db()
        assert application.status == HousingApplicationStatus.APPROVED
        assert application.reviewed_by_id == district_staff.pk

        # The graduate sees the approval.
        page.reload()
        expect(mine.get_by_test_id("application-status")).to_have_text("审核通过")

        # --- 7. The round's page: the window is still open, so no random value yet.
        staff_page.locator(".object-tools").get_by_role("link", name="批次", exact=True).click()
        expect(staff_page).to_have_url(re.compile(rf"/admin/apartments/allocationround/{housing_round.pk}/change/"))
        expect(staff_page.locator("#round-summary")).to_contain_text("已发布")
        expect(staff_page.locator("#round-counts")).to_contain_text("审核通过")

        # The window would close in a week; the test cannot wait, so it moves the closing time
        # into the past, as the passing of time would (opens_at stays a day ago, before it).
        AllocationRound.objects.filter(pk=housing_round.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
        staff_page.reload()
        expect(staff_page.locator("#round-summary")).to_contain_text("申请已截止：请先公布随机数，再进行摇号")
        snap_other(staff_page, artifacts_dir, "housing-08-staff-round-closed")

        # --- 8. Publishes the public random value, with where anyone can check it.
        tools = staff_page.locator(".object-tools")
        expect(tools.get_by_role("link", name="摇号", exact=True)).to_have_count(0)  # the value comes first
        tools.get_by_role("link", name="公布随机数", exact=True).click()
        expect(staff_page).to_have_url(re.compile(rf"/allocationround/{housing_round.pk}/seed/$"))
        staff_page.get_by_label("公开随机数").fill(PUBLIC_SEED)
        staff_page.get_by_label("公开查询途径").fill(SEED_SOURCE)
        snap_other(staff_page, artifacts_dir, "housing-09-staff-seed")
        staff_page.get_by_role("button", name="公布随机数").click()
        expect(staff_page).to_have_url(re.compile(rf"/allocationround/{housing_round.pk}/change/$"))
        expect(staff_page.locator(".messagelist .success")).to_have_text(f"“{round_label}”的公开随机数已公布。")
        expect(staff_page.locator("#round-summary")).to_contain_text("可以摇号")
        expect(staff_page.locator("#content-main")).to_contain_text(PUBLIC_SEED)

        # --- 9. Draws: the confirmation page, then the round drawn (progress polled if need be).
        tools.get_by_role("link", name="摇号", exact=True).click()
        expect(staff_page).to_have_url(re.compile(rf"/allocationround/{housing_round.pk}/draw/$"))
        expect(staff_page.locator("#decision-summary")).to_contain_text(ROUND_NAME)
        snap_other(staff_page, artifacts_dir, "housing-10-staff-draw")
        staff_page.get_by_role("button", name="摇号", exact=True).click()
        expect(staff_page).to_have_url(re.compile(rf"/allocationround/{housing_round.pk}/change/$"))
        # Eagerly the draw is over when the page loads; with a worker, the page polls every
        # 2 s and reloads when the draw ends: allow a few polls.
        expect(staff_page.locator("#round-status")).to_have_text("已摇号，配租进行中", timeout=30_000)
        expect(staff_page.locator("#draw-percent")).to_have_text("100%")
        expect(staff_page.locator("#draw-progress")).to_have_attribute("aria-valuenow", "100")
        expect(staff_page.locator("#round-offers")).to_contain_text("待答复")
        snap_other(staff_page, artifacts_dir, "housing-11-staff-drawn")
    except BaseException:
        # The ``page`` fixture keeps the graduate's page of a failed test; keep the staff's too.
        with contextlib.suppress(Exception):  # the page may be gone; the test's error is what matters
            staff_page.screenshot(path=artifacts_dir / "FAILED-housing-journey-staff.png", full_page=True)
        raise
    finally:
        staff_page.context.close()

    housing_round.refresh_from_db()
    assert housing_round.status == RoundStatus.DRAWN
    assert housing_round.public_seed == PUBLIC_SEED and housing_round.seed_source == SEED_SOURCE
    application.refresh_from_db()
    assert (application.rank, application.bucket_rank) == (1, 1)
    offer = HousingOffer.objects.get(application=application)
    # The larger of the accepted types is offered first: 一室一厅, its first vacant unit.
    assert offer.status == OfferStatus.OFFERED and offer.unit.unit_type.name == "一室一厅"
    assert offer.unit.state == UnitState.OFFERED
    deadline = timezone.localtime(offer.deadline)

    # --- 10. The graduate: the rank, the offer and its deadline on "My housing".
    page.reload()
    expect(mine.get_by_test_id("application-status")).to_have_text("审核通过")
    expect(mine.get_by_test_id("rank")).to_have_text("第1位（组内第1位）")
    offer_box = mine.locator(f"div[data-offer='{offer.pk}']")
    expect(offer_box).to_contain_text(f"分配房源：{offer.unit.label}（一室一厅，60平方米）")
    expect(offer_box.get_by_test_id("offer-status")).to_have_text("待答复")
    expect(offer_box).to_contain_text(f"请于{deadline:%Y-%m-%d %H:%M}前答复")
    snap("housing-12-my-housing-offer")

    # --- 11. Accepts (the confirmation opens first), and sees the lease with its rent-free months.
    accept = offer_box.locator("details.confirm").filter(has=page.locator("summary", has_text="确认入住该房源"))
    accept.locator("summary").click()
    expect(accept.get_by_text(f"确认入住{offer.unit.label}", exact=False)).to_be_visible()
    snap("housing-13-accept-confirm")
    accept.get_by_role("button", name="是的，确认入住").click()

    # The page posts back to the same address: wait for the answer's message, not the URL,
    # before reading the lease the request made.
    expect(page.locator(".message-success")).to_contain_text(f"您已确认入住{offer.unit.label}房源")
    expect(page).to_have_url(re.compile(r"/housing/mine/$"))
    lease = Lease.objects.get(tenant=graduate)
    expect(
        page.get_by_text(f"您已确认入住{offer.unit.label}房源，租期为{lease.start:%Y-%m-%d}至{lease.end:%Y-%m-%d}。")
    ).to_be_visible()
    expect(mine.get_by_test_id("application-status")).to_have_text("已确认入住")
    expect(offer_box.get_by_test_id("offer-status")).to_have_text("已接受")
    expect(offer_box.get_by_role("button", name="是的，确认入住")).to_have_count(0)
    lease_card = page.locator(f"article[data-lease='{lease.pk}']")
    expect(lease_card.get_by_role("heading", level=3)).to_have_text(f"{PROJECT_NAME} · {offer.unit.label}")
    expect(lease_card).to_contain_text("生效中")
    expect(lease_card.get_by_test_id("rent-free")).to_have_text(
        f"{lease.rent_free_months}个月，自{lease.rent_free_until:%Y-%m-%d}起恢复计租"
    )
    expect(lease_card.get_by_test_id("reduced-rent")).to_contain_text(f"{lease.reduced_rent_percent}%")
    snap("housing-14-my-housing-lease")

    # --- 12. The public results page: the masked name, never the full one.
    mine.get_by_role("link", name="摇号结果").click()
    expect(page).to_have_url(re.compile(rf"/housing/rounds/{housing_round.pk}/results/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{PROJECT_NAME}（{ROUND_NAME}）摇号")
    expect(page.get_by_test_id("seed")).to_contain_text(PUBLIC_SEED)
    expect(page.get_by_test_id("seed")).to_contain_text(SEED_SOURCE)
    my_row = page.get_by_test_id("mine")
    expect(my_row).to_have_attribute("data-reference", application.reference)
    expect(my_row).to_contain_text(GRADUATE_MASKED)
    expect(my_row).to_contain_text("您的申请")
    expect(page.locator("body")).not_to_contain_text(GRADUATE_NAME)
    snap("housing-15-results")

    # --- The database at the end: housed, the unit let, one active lease on the offered unit.
    application.refresh_from_db()
    offer.refresh_from_db()
    assert application.status == HousingApplicationStatus.HOUSED
    assert offer.status == OfferStatus.ACCEPTED and offer.responded_at is not None
    assert Unit.objects.get(pk=offer.unit_id).state == UnitState.LET
    assert list(Lease.objects.filter(tenant=graduate).values_list("status", flat=True)) == [LeaseStatus.ACTIVE]
    assert (lease.unit_id, lease.offer_id, lease.status) == (offer.unit_id, offer.pk, LeaseStatus.ACTIVE)
    assert lease.monthly_rent == offer.unit.unit_type.monthly_rent
    # A first lease of 12 months (housing-lease-months), all of it rent-free: talent apartments
    # waive the rent for up to 36 months over the tenancy.
    assert (lease.end - lease.start).days in (365, 366) and lease.rent_free_months == 12
    # The other units stay vacant for the next rounds.
    assert Unit.objects.filter(project=project, state=UnitState.VACANT).count() == 5
